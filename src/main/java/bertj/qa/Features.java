package bertj.qa;

import bertj.tokenizer.Vocabulary;

import java.util.ArrayList;
import java.util.List;

/** Windows over a passage for one question: run_squad.py's convert_examples_to_features, at inference. */
public final class Features {
    private Features() {
    }

    /** A window of passage tokens [start, start + length). */
    record Span(int start, int length) {
        int end() {
            return start + length - 1;
        }
    }

    /**
     * The windows of a question over a passage; none when the passage has no tokens.
     *
     * @param queryTokens the question's tokens (cut here to {@link QaSettings#maxQueryLength()})
     * @param queryIds    their ids
     */
    public static List<Feature> build(int example, List<String> queryTokens, int[] queryIds, Passage passage, Vocabulary vocab,
                                      QaSettings s) {
        int q = Math.min(queryTokens.size(), s.maxQueryLength());
        List<Span> spans = spans(passage.tokens().size(), s.maxSeqLength() - q - 3, s.docStride());
        List<Feature> out = new ArrayList<>(spans.size());
        for (int w = 0; w < spans.size(); w++) {
            Span span = spans.get(w);
            int n = q + span.length() + 3;
            List<String> tokens = new ArrayList<>(n);
            int[] ids = new int[n], types = new int[n], toWord = new int[n];
            boolean[] maxContext = new boolean[n];
            java.util.Arrays.fill(toWord, -1);
            int k = 0;
            tokens.add("[CLS]");
            ids[k++] = vocab.clsId();
            for (int i = 0; i < q; i++) {
                tokens.add(queryTokens.get(i));
                ids[k++] = queryIds[i];
            }
            tokens.add("[SEP]");
            ids[k++] = vocab.sepId();
            for (int i = 0; i < span.length(); i++) {
                int t = span.start() + i;
                tokens.add(passage.tokens().get(t));
                ids[k] = passage.id(t);
                types[k] = 1;
                toWord[k] = passage.tokenToWord(t);
                maxContext[k] = isMaxContext(spans, w, t);
                k++;
            }
            tokens.add("[SEP]");
            ids[k] = vocab.sepId();
            types[k] = 1;
            out.add(new Feature(example, w, List.copyOf(tokens), ids, types, toWord, maxContext, span.start()));
        }
        return out;
    }

    /**
     * Windows of at most {@code maxTokens} passage tokens; each starts min(length, stride) after the previous one,
     * and the last one reaches the end of the passage.
     */
    static List<Span> spans(int total, int maxTokens, int stride) {
        List<Span> spans = new ArrayList<>();
        int start = 0;
        while (start < total) {
            int length = Math.min(total - start, maxTokens);
            spans.add(new Span(start, length));
            if (start + length == total) break;
            start += Math.min(length, stride);
        }
        return spans;
    }

    /**
     * A token that several windows hold is scored, in each, by min(tokens left of it, tokens right of it) +
     * 0.01 × window length; it counts as answerable only in the window with the highest score (the first such on a
     * tie). The arithmetic is double precision, as in Python, so ties break identically.
     */
    static boolean isMaxContext(List<Span> spans, int current, int position) {
        double best = 0;
        int bestIndex = -1;
        // Starts and ends both increase with the index: binary-search the first window that reaches the position,
        // then walk forward while windows still start at or before it (in index order, so ties break as above).
        int lo = 0, hi = spans.size() - 1;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (spans.get(mid).end() < position) lo = mid + 1;
            else hi = mid;
        }
        for (int i = lo; i < spans.size() && spans.get(i).start() <= position; i++) {
            Span sp = spans.get(i);
            if (position > sp.end()) continue;
            int left = position - sp.start(), right = sp.end() - position;
            double score = Math.min(left, right) + 0.01 * sp.length();
            if (bestIndex < 0 || score > best) {
                best = score;
                bestIndex = i;
            }
        }
        return bestIndex == current;
    }
}
