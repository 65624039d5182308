package bertj.qa;

/**
 * The settings of SQuAD pre- and post-processing, with run_squad.py's defaults.
 *
 * @param maxSeqLength    tokens per window: [CLS] question [SEP] passage-part [SEP] (384); with {@link Decoding#NVIDIA}
 *                        every window is padded to it
 * @param docStride       how far each window's passage part starts after the previous one's, in tokens (128)
 * @param maxQueryLength  question tokens kept; longer questions are cut (64)
 * @param nBestSize       start and end candidates per window, and answers kept per question (20)
 * @param maxAnswerLength longest answer, in tokens (30)
 * @param decoding        how logits become answers ({@link Decoding})
 */
public record QaSettings(int maxSeqLength, int docStride, int maxQueryLength, int nBestSize, int maxAnswerLength,
                         Decoding decoding) {
    /** run_squad.py's numbers with {@link Decoding#MASKED}; {@code RUN_SQUAD.withDecoding(Decoding.NVIDIA)} is NVIDIA's script exactly. */
    public static final QaSettings RUN_SQUAD = new QaSettings(384, 128, 64, 20, 30, Decoding.MASKED);

    /** With {@link Decoding#MASKED}. */
    public QaSettings(int maxSeqLength, int docStride, int maxQueryLength, int nBestSize, int maxAnswerLength) {
        this(maxSeqLength, docStride, maxQueryLength, nBestSize, maxAnswerLength, Decoding.MASKED);
    }

    public QaSettings {
        if (maxQueryLength < 1) throw new IllegalArgumentException("max query length must be at least 1 (got " + maxQueryLength + ")");
        if (maxSeqLength < maxQueryLength + 4) {
            throw new IllegalArgumentException("max sequence length " + maxSeqLength + " leaves no room for the passage: it must be at least"
                    + " max query length + 4 = " + (maxQueryLength + 4) + " ([CLS], [SEP], [SEP] and one passage token)");
        }
        if (docStride < 1) throw new IllegalArgumentException("doc stride must be at least 1 (got " + docStride + ")");
        if (nBestSize < 1) throw new IllegalArgumentException("n-best size must be at least 1 (got " + nBestSize + ")");
        if (maxAnswerLength < 1) throw new IllegalArgumentException("max answer length must be at least 1 (got " + maxAnswerLength + ")");
        if (decoding == null) throw new IllegalArgumentException("the decoding must be given (nvidia or masked)");
    }

    /**
     * The decoding in words, as {@code bertj squad} and the Spark job report it: "nvidia (every window padded to
     * 384, lower-casing python)" or "masked (padding never ranked, lower-casing hf)".
     */
    public String describe(bertj.tokenizer.LowerCasing lowerCasing) {
        return decoding == Decoding.NVIDIA
                ? "nvidia (every window padded to " + maxSeqLength + ", lower-casing " + lowerCasing.cliName() + ")"
                : "masked (padding never ranked, lower-casing " + lowerCasing.cliName() + ")";
    }

    public QaSettings withDecoding(Decoding d) {
        return new QaSettings(maxSeqLength, docStride, maxQueryLength, nBestSize, maxAnswerLength, d);
    }
}
