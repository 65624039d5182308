package bertj.qa;

import java.util.List;

/**
 * One window of a question over its passage, as run_squad.py's convert_examples_to_features builds it:
 * {@code [CLS] question [SEP] passage tokens [passageStart, passageStart + length) [SEP]}, unpadded.
 *
 * @param example       index of the question this window belongs to (the caller's numbering)
 * @param window        index of the window within the question (doc_span_index)
 * @param tokens        the tokens
 * @param inputIds      their ids
 * @param tokenTypeIds  0 for [CLS], the question and the first [SEP]; 1 for the passage and the last [SEP]
 * @param tokenToWord   for a passage token, the index of its word in {@link Passage#words()}; -1 elsewhere (token_to_orig_map)
 * @param maxContext    whether this window gives the token its most context among all windows (token_is_max_context)
 * @param passageStart  index of the window's first passage token among all the passage's tokens (doc_span.start)
 */
public record Feature(int example, int window, List<String> tokens, int[] inputIds, int[] tokenTypeIds, int[] tokenToWord,
                      boolean[] maxContext, int passageStart) {

    /** Real tokens (the batch pads beyond). */
    public int length() {
        return inputIds.length;
    }

    /** Whether position i holds a passage token (a possible answer start or end). */
    public boolean inPassage(int i) {
        return i < tokenToWord.length && tokenToWord[i] >= 0;
    }
}
