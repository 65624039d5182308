package bertj.qa;

import java.util.List;

/**
 * A question's decoded answers.
 *
 * @param nbest            the n-best answers, best first; with {@link Decoding#NVIDIA} the {@link Answer#placeholder()}
 *                         alone when no window offers a valid span; empty when the question has no window (its passage
 *                         has no tokens), or with {@link Decoding#MASKED} when no span is valid
 * @param paddingAmongBest whether, in some window, a padding position was among the n-best start or end positions
 *                         ({@link Decoding#NVIDIA} only: masked decoding never ranks padding)
 */
public record Prediction(List<Answer> nbest, boolean paddingAmongBest) {
    public Prediction {
        nbest = List.copyOf(nbest);
    }
}
