package bertj.qa;

/**
 * One answer to a question about a context.
 *
 * @param text        the answer as run_squad.py writes it: the passage text of the span, with the words it covers
 *                    joined by single spaces (so it equals {@code context[start:end]} unless that holds a run of
 *                    whitespace)
 * @param startLogit  the model's start logit at the answer's first token
 * @param endLogit    its end logit at the answer's last token
 * @param probability softmax of the score over the question's n-best answers
 * @param start       offset of the answer's first character in the context, in code points (Python's and SQuAD's
 *                    answer_start convention); −1 for the {@link #placeholder()}
 * @param end         offset just past its last character, in code points
 * @param startUtf16  the same offsets in UTF-16 units, for Java: {@code context.substring(startUtf16, endUtf16)}
 * @param endUtf16    see startUtf16
 */
public record Answer(String text, double startLogit, double endLogit, double probability, int start, int end,
                     int startUtf16, int endUtf16) {
    /**
     * NVIDIA's "nonce prediction" for a question none of whose windows offers a valid span ({@link Decoding#NVIDIA}
     * only): the text {@code "empty"}, logits 0, probability 1, no place in the context (offsets −1).
     */
    public static Answer placeholder() {
        return new Answer("empty", 0.0, 0.0, 1.0, -1, -1, -1, -1);
    }

    /** Whether this is the {@link #placeholder()} rather than a span of the context. */
    public boolean isPlaceholder() {
        return start < 0;
    }

    /**
     * The code point offsets as the JSON outputs write them ({@code bertj qa --json}, the server's {@code /qa}, the
     * Spark job's rows): null for the placeholder, which has no place in the context.
     */
    public Integer startOrNull() {
        return isPlaceholder() ? null : start;
    }

    /** See {@link #startOrNull()}. */
    public Integer endOrNull() {
        return isPlaceholder() ? null : end;
    }

    /** start logit + end logit: what answers are ranked by (run_squad.py's score). */
    public double score() {
        return startLogit + endLogit;
    }
}
