package bertj.explain;

import java.util.List;

/**
 * Everything an explain report shows: the word pieces of one sequence and what one forward pass made of them.
 *
 * @param title     what the report is about, e.g. the model's name
 * @param tokens    the word pieces, [CLS] and [SEP] included
 * @param ids       their vocabulary ids
 * @param types     their token type (segment) ids
 * @param passage   for question answering, which tokens belong to the passage (where an answer may lie); null otherwise
 * @param capture   the encoder's intermediates for this sequence
 * @param answer    the span chosen from the start/end logits, or null (no QA head, not a question, or no valid span)
 * @param settings  how the report was made, as name/value pairs shown in a table
 * @param modelInfo the text {@code bertj info} prints for the model
 * @param notes     things the reader should know (truncation, windows), shown at the top
 */
public record Explanation(String title, List<String> tokens, int[] ids, int[] types, boolean[] passage, Capture capture,
                          Span answer, List<Setting> settings, String modelInfo, List<String> notes) {

    public Explanation {
        if (tokens.size() != capture.seqLen() || ids.length != tokens.size() || types.length != tokens.size()) {
            throw new IllegalArgumentException("tokens, ids, types and the capture disagree on the sequence length");
        }
        if (passage != null && passage.length != tokens.size()) {
            throw new IllegalArgumentException("the passage mask has the wrong length");
        }
    }

    /**
     * An answer span over tokens [start, end] (inclusive), its text in the passage and its score.
     *
     * @param score       start logit + end logit (run_squad.py's ranking)
     * @param probability softmax of the score over the n-best answers
     */
    public record Span(int start, int end, String text, double score, double probability) {
    }

    public record Setting(String name, String value) {
    }
}
