package bertj.tokenizer;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * BERT's full tokenizer: special tokens, then {@link BasicTokenizer}, then {@link WordPiece}. Produces the same
 * tokens and ids as Hugging Face's fast BertTokenizer (the tokenizers library) without [CLS]/[SEP] added:
 * <ul>
 *   <li>a special token written in the text ("[SEP]", "[MASK]", …; see {@link Vocabulary#specialTokens()}) is
 *       matched verbatim, leftmost-longest, before any normalization, and becomes that single token; the text
 *       between such matches is tokenized piece by piece;</li>
 *   <li>uncased: lower-case and strip accents; cased: neither.</li>
 * </ul>
 * Immutable and thread-safe.
 */
public final class BertTokenizer {
    /** Tokens and their ids. */
    public record Encoding(List<String> tokens, int[] ids) {
    }

    private final Vocabulary vocab;
    private final BasicTokenizer basic;
    private final WordPiece wordPiece;
    private final String[] specials;

    public BertTokenizer(Vocabulary vocab, boolean lowercase, boolean stripAccents) {
        this.vocab = vocab;
        this.basic = new BasicTokenizer(lowercase, stripAccents);
        this.wordPiece = new WordPiece(vocab);
        this.specials = vocab.specialTokens().stream().filter(s -> !s.isEmpty()).toArray(String[]::new);
    }

    /**
     * A tokenizer for a vocabulary. {@code cased}: true = no lower-casing or accent stripping, false = uncased,
     * null = what a tokenizer.json's normalizer says, else uncased (the vocabulary of NVIDIA's checkpoint).
     */
    public static BertTokenizer of(Vocabulary vocab, Boolean cased) {
        boolean lower = cased != null ? !cased : vocab.lowercase() == null || vocab.lowercase();
        boolean strip = cased != null ? !cased : vocab.stripAccents() != null ? vocab.stripAccents() : lower;
        return new BertTokenizer(vocab, lower, strip);
    }

    public static BertTokenizer load(Path vocabFile, Boolean cased) {
        return of(Vocabulary.load(vocabFile), cased);
    }

    public Vocabulary vocab() {
        return vocab;
    }

    public BasicTokenizer basic() {
        return basic;
    }

    public boolean uncased() {
        return basic.lowercase();
    }

    public Encoding encode(String text) {
        List<String> tokens = new ArrayList<>();
        IntList ids = new IntList();
        tokenize(text, tokens, ids);
        return new Encoding(tokens, ids.toArray());
    }

    public List<String> tokenize(String text) {
        List<String> tokens = new ArrayList<>();
        tokenize(text, tokens, new IntList());
        return tokens;
    }

    /** Appends the tokens of a text and their ids. */
    public void tokenize(String text, List<String> tokens, IntList ids) {
        int from = 0;
        for (int i = 0; i < text.length(); i++) {
            String special = specialAt(text, i);
            if (special == null) continue;
            tokenizePlain(text.substring(from, i), tokens, ids);
            tokens.add(special);
            ids.add(vocab.id(special));
            i += special.length() - 1;
            from = i + 1;
        }
        tokenizePlain(from == 0 ? text : text.substring(from), tokens, ids);
    }

    private String specialAt(String text, int i) {
        String best = null;
        for (String s : specials) {
            if ((best == null || s.length() > best.length()) && text.startsWith(s, i) && vocab.contains(s)) best = s;
        }
        return best;
    }

    private void tokenizePlain(String text, List<String> tokens, IntList ids) {
        if (text.isEmpty()) return;
        List<String> words = new ArrayList<>();
        BasicTokenizer.split(basic.normalize(text), words);
        for (String w : words) wordPiece.tokenize(w, tokens, ids);
    }
}
