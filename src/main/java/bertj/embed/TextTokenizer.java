package bertj.embed;

/**
 * What sentence embedding needs from a tokenizer: one text in, the ids of a single-sequence BERT input out
 * ({@code [CLS] pieces… [SEP]}, token type 0 throughout).
 *
 * <p>Kept this small on purpose so that any BERT tokenizer can stand behind it; {@link WordPieceTokenizer} is
 * the one used today.
 */
public interface TextTokenizer {

    /**
     * @param ids       the input ids, [CLS] first and [SEP] last, at most maxTokens of them
     * @param truncated whether word pieces were dropped to fit maxTokens
     */
    record Encoded(int[] ids, boolean truncated) {
    }

    /** Tokenizes one text, keeping at most {@code maxTokens} ids (special tokens included; maxTokens ≥ 2). */
    Encoded encode(String text, int maxTokens);

    /** The id that pads a sequence (its attention mask is 0, so its value only has to be in the vocabulary). */
    int padId();

    /** Words for a user: "WordPiece, uncased, 30522 tokens, from tokenizer.json". */
    String describe();
}
