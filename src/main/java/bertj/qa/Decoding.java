package bertj.qa;

import java.util.Locale;

/**
 * How a window's start/end logits become answers. Both take the n-best start and end positions of each window and
 * keep the valid spans among their pairs (passage tokens, start in its max-context window, start ≤ end, at most
 * max_answer_length tokens); they differ in what is ranked and how the windows' lists are merged.
 */
public enum Decoding {
    /**
     * NVIDIA's run_squad.py (DeepLearningExamples, {@code get_answers}) exactly: every window is padded to
     * max_seq_length (id 0, segment 0, mask 0) and the n-best start and end positions are taken over all of its
     * positions, padding included, before the invalid ones are dropped — so padding can take n-best slots, and a
     * question can be left with no valid span, answered by NVIDIA's placeholder {@code "empty"}
     * ({@link Answer#isPlaceholder()}). Repeated texts are removed within each window only; the windows' lists are
     * then merged and sorted, so the n-best can repeat a text. Pairs with {@link bertj.tokenizer.LowerCasing#PYTHON}.
     */
    NVIDIA,
    /**
     * Padding never competes: the n-best positions are taken over each window's real tokens (as Hugging Face's
     * question-answering pipeline masks them), windows are padded only as far as their batch needs, and repeated
     * texts are removed across windows (as Google's original run_squad.py does). No placeholder: a question with no
     * valid span has no answer.
     */
    MASKED;

    /** The command-line spelling: {@code nvidia} or {@code masked}. */
    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** {@code nvidia} or {@code masked}; anything else is an IllegalArgumentException saying what is accepted. */
    public static Decoding parse(String s) {
        for (Decoding d : values()) if (d.cliName().equals(s)) return d;
        throw new IllegalArgumentException("decoding must be nvidia or masked, got '" + s + "'");
    }
}
