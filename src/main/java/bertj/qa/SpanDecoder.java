package bertj.qa;

import bertj.tokenizer.BasicTokenizer;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * From start/end logits to answers: run_squad.py's write_predictions for SQuAD v1.1.
 * <ol>
 *   <li>In each window, the n-best start positions and the n-best end positions by logit (ties: lower position first).</li>
 *   <li>Every start × end pair is a candidate if both are passage tokens, the start is in its max-context window,
 *       start ≤ end and the span is at most max_answer_length tokens. Score = start logit + end logit.</li>
 *   <li>Candidates of all windows, best score first (ties keep window, start, end order); each becomes text
 *       through {@link FinalText}; a text already taken is skipped; the first n-best distinct texts are kept.</li>
 *   <li>Probabilities: softmax of the kept scores.</li>
 * </ol>
 * The n-best are deduplicated across windows, as Google's run_squad.py does; NVIDIA's get_answers deduplicates
 * within each window only, so its n-best list can repeat a text. The best answer is the same in both.
 * <p>
 * run_squad.py picks the n-best positions over the whole padded sequence of 384, padding included (padding positions
 * are then rejected as candidates); we pick them over the window's real tokens, because our batches are padded to
 * their longest window, not to 384. The two differ only if a padding position outranks a real candidate.
 */
public final class SpanDecoder {
    private SpanDecoder() {
    }

    private record Candidate(int feature, int start, int end, double startLogit, double endLogit) {
        double score() {
            return startLogit + endLogit;
        }
    }

    /**
     * The n-best answers of one question, best first; empty when no window offers a valid span.
     *
     * @param startLogits per feature, at least {@link Feature#length()} values
     * @param endLogits   per feature, likewise
     */
    public static List<Answer> decode(Passage passage, List<Feature> features, List<double[]> startLogits,
                                      List<double[]> endLogits, QaSettings s, BasicTokenizer basic) {
        List<Candidate> candidates = new ArrayList<>();
        for (int f = 0; f < features.size(); f++) {
            Feature feat = features.get(f);
            double[] sl = startLogits.get(f), el = endLogits.get(f);
            int[] starts = best(sl, feat.length(), s.nBestSize()), ends = best(el, feat.length(), s.nBestSize());
            for (int st : starts) {
                for (int en : ends) {
                    if (!feat.inPassage(st) || !feat.inPassage(en)) continue;
                    if (!feat.maxContext()[st]) continue;
                    if (en < st || en - st + 1 > s.maxAnswerLength()) continue;
                    candidates.add(new Candidate(f, st, en, sl[st], el[en]));
                }
            }
        }
        // Stable, and numeric (−0.0 ties with 0.0, as in Python; Double.compare would order them).
        candidates.sort((a, b) -> descending(a.score(), b.score()));
        List<Candidate> kept = new ArrayList<>();
        List<int[]> spans = new ArrayList<>();
        List<String> texts = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (Candidate c : candidates) {
            if (kept.size() == s.nBestSize()) break;
            Feature feat = features.get(c.feature());
            int firstWord = feat.tokenToWord()[c.start()], lastWord = feat.tokenToWord()[c.end()];
            String pred = detokenize(feat.tokens().subList(c.start(), c.end() + 1));
            String orig = String.join(" ", passage.words().subList(firstWord, lastWord + 1));
            int[] r = FinalText.span(pred, orig, basic);
            String text = substringByCodePoints(orig, r[0], r[1]);
            if (!seen.add(text)) continue;
            kept.add(c);
            texts.add(text);
            spans.add(contextOffsets(passage, firstWord, lastWord, r[0], r[1]));
        }
        double[] probs = softmax(kept);
        List<Answer> out = new ArrayList<>(kept.size());
        for (int i = 0; i < kept.size(); i++) {
            Candidate c = kept.get(i);
            int[] o = spans.get(i);
            out.add(new Answer(texts.get(i), c.startLogit(), c.endLogit(), probs[i], o[0], o[1], o[2], o[3]));
        }
        return out;
    }

    /** Indices of the n largest of v[0, length), largest first; equal values by lower index. */
    static int[] best(double[] v, int length, int n) {
        Integer[] idx = new Integer[length];
        for (int i = 0; i < length; i++) idx[i] = i;
        java.util.Arrays.sort(idx, (a, b) -> {
            int c = descending(v[a], v[b]);
            return c != 0 ? c : Integer.compare(a, b);
        });
        int k = Math.min(n, length);
        int[] out = new int[k];
        for (int i = 0; i < k; i++) out[i] = idx[i];
        return out;
    }

    private static int descending(double x, double y) {
        return x > y ? -1 : x < y ? 1 : 0;
    }

    /** WordPiece tokens back to text: join with spaces, glue "##" pieces to what precedes, collapse whitespace. */
    static String detokenize(List<String> tokens) {
        String t = String.join(" ", tokens).replace(" ##", "").replace("##", "");
        return String.join(" ", pythonSplit(t));
    }

    /** Python's str.split(): runs of whitespace (str.isspace) separate; none at either end. */
    static List<String> pythonSplit(String s) {
        List<String> out = new ArrayList<>();
        int start = -1;
        for (int i = 0; i < s.length(); ) {
            int c = s.codePointAt(i);
            boolean space = isPythonSpace(c);
            if (space && start >= 0) {
                out.add(s.substring(start, i));
                start = -1;
            } else if (!space && start < 0) {
                start = i;
            }
            i += Character.charCount(c);
        }
        if (start >= 0) out.add(s.substring(start));
        return out;
    }

    /** Python's str.isspace: the White_Space characters plus the information separators U+001C–U+001F. */
    static boolean isPythonSpace(int c) {
        return c == ' ' || (c >= 9 && c <= 13) || (c >= 0x1C && c <= 0x1F) || c == 0x85 || c == 0xA0 || c == 0x1680
                || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
    }

    private static String substringByCodePoints(String s, int start, int end) {
        int a = s.offsetByCodePoints(0, start);
        return s.substring(a, s.offsetByCodePoints(a, end - start));
    }

    /**
     * Offsets in the context of the answer [start, end) of {@code orig}, the words firstWord..lastWord joined by
     * single spaces: {start, end, start16, end16}. Both ends fall inside words (the answer never starts or ends
     * on a joining space), so each maps to a word and an offset within it.
     */
    private static int[] contextOffsets(Passage p, int firstWord, int lastWord, int start, int end) {
        int[] a = locate(p, firstWord, lastWord, start), b = locate(p, firstWord, lastWord, end - 1);
        String lastWordText = p.words().get(b[0]);
        int last16 = lastWordText.offsetByCodePoints(0, b[1]);
        int end16 = p.wordStart16(b[0]) + last16 + Character.charCount(lastWordText.codePointAt(last16));
        return new int[] {p.wordStart(a[0]) + a[1], p.wordStart(b[0]) + b[1] + 1,
                p.wordStart16(a[0]) + p.words().get(a[0]).offsetByCodePoints(0, a[1]), end16};
    }

    /** {word, code point offset within it} of position pos of the joined words. */
    private static int[] locate(Passage p, int firstWord, int lastWord, int pos) {
        int at = 0;
        for (int w = firstWord; w <= lastWord; w++) {
            int len = p.wordEnd(w) - p.wordStart(w);
            if (pos < at + len) return new int[] {w, pos - at};
            at += len + 1;
        }
        return new int[] {lastWord, p.wordEnd(lastWord) - p.wordStart(lastWord) - 1};
    }

    /** run_squad.py's _compute_softmax: exp(score − max) / Σ. */
    private static double[] softmax(List<Candidate> kept) {
        double[] p = new double[kept.size()];
        if (p.length == 0) return p;
        double max = Double.NEGATIVE_INFINITY;
        for (Candidate c : kept) max = Math.max(max, c.score());
        double sum = 0;
        for (int i = 0; i < p.length; i++) {
            p[i] = Math.exp(kept.get(i).score() - max);
            sum += p[i];
        }
        for (int i = 0; i < p.length; i++) p[i] /= sum;
        return p;
    }
}
