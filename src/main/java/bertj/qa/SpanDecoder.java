package bertj.qa;

import bertj.tokenizer.BasicTokenizer;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * From start/end logits to answers: run_squad.py's decoding for SQuAD v1.1, in two forms ({@link Decoding}).
 * <ol>
 *   <li>In each window, the n-best start positions and the n-best end positions by logit (ties: lower position
 *       first, as Python's stable sort). {@link Decoding#NVIDIA}: over every position of the window padded to
 *       max_seq_length, padding included (NVIDIA's {@code _get_best_indices}); {@link Decoding#MASKED}: over the
 *       window's real tokens.</li>
 *   <li>Every start × end pair is a candidate if both are passage tokens (so not padding, not the question), the
 *       start is in its max-context window, start ≤ end and the span is at most max_answer_length tokens
 *       ({@code get_valid_prelim_predictions}). Score = start logit + end logit.</li>
 *   <li>Candidates best score first (stable: ties keep window, start, end order); each becomes text through
 *       {@link FinalText}. {@link Decoding#NVIDIA}: in each window, a text the window already gave is skipped and
 *       at most n are kept; the windows' lists are then merged, sorted again and cut to n, so a text can repeat
 *       across windows. {@link Decoding#MASKED}: all windows' candidates together, a text already taken anywhere
 *       is skipped, the first n distinct texts are kept.</li>
 *   <li>{@link Decoding#NVIDIA} only: when nothing is left (every ranked position was padding, question or an invalid
 *       span), the answer is NVIDIA's placeholder {@code "empty"} with logits 0 ({@link Answer#placeholder()}).</li>
 *   <li>Probabilities: softmax of the kept scores, exp(score − max) / Σ exp(score − max) in list order
 *       ({@code _compute_softmax}).</li>
 * </ol>
 * The best answer is the same in both forms unless padding outranks real positions (NVIDIA then has fewer
 * candidates, possibly none). Stateless and thread-safe.
 */
public final class SpanDecoder {
    private SpanDecoder() {
    }

    private record Candidate(int feature, int start, int end, double startLogit, double endLogit) {
        double score() {
            return startLogit + endLogit;
        }
    }

    /** A candidate turned into text, with its offsets in the context. */
    private record Resolved(Candidate candidate, String text, int[] offsets) {
    }

    /**
     * The n-best answers of one question, best first (see {@link #predict}).
     */
    public static List<Answer> decode(Passage passage, List<Feature> features, List<double[]> startLogits,
                                      List<double[]> endLogits, QaSettings s, BasicTokenizer basic) {
        return predict(passage, features, startLogits, endLogits, s, basic).nbest();
    }

    /**
     * The n-best answers of one question, decoded as {@code s.decoding()} says.
     *
     * @param startLogits per feature: {@link Decoding#MASKED} at least {@link Feature#length()} values (those are
     *                    ranked); {@link Decoding#NVIDIA} exactly max_seq_length values, the window padded as
     *                    NVIDIA pads it ({@link Batches})
     * @param endLogits   per feature, likewise
     */
    public static Prediction predict(Passage passage, List<Feature> features, List<double[]> startLogits,
                                     List<double[]> endLogits, QaSettings s, BasicTokenizer basic) {
        boolean nvidia = s.decoding() == Decoding.NVIDIA;
        int n = s.nBestSize();
        boolean padding = false;
        List<Candidate> all = new ArrayList<>();
        List<Resolved> merged = new ArrayList<>();
        for (int f = 0; f < features.size(); f++) {
            Feature feat = features.get(f);
            double[] sl = startLogits.get(f), el = endLogits.get(f);
            int positions = feat.length();
            if (nvidia) {
                if (sl.length != s.maxSeqLength() || el.length != s.maxSeqLength()) {
                    throw new IllegalArgumentException("nvidia decoding ranks every position of a window padded to max_seq_length "
                            + s.maxSeqLength() + ": window " + f + " has " + sl.length + " start and " + el.length + " end logits");
                }
                positions = s.maxSeqLength();
            } else if (sl.length < positions || el.length < positions) {
                throw new IllegalArgumentException("window " + f + " has " + feat.length() + " tokens but " + Math.min(sl.length, el.length) + " logits");
            }
            int[] starts = best(sl, positions, n), ends = best(el, positions, n);
            if (nvidia) padding |= anyAtOrAfter(starts, feat.length()) || anyAtOrAfter(ends, feat.length());
            List<Candidate> window = new ArrayList<>();
            for (int st : starts) {
                for (int en : ends) {
                    if (!feat.inPassage(st) || !feat.inPassage(en)) continue;
                    if (!feat.maxContext()[st]) continue;
                    if (en < st || en - st + 1 > s.maxAnswerLength()) continue;
                    window.add(new Candidate(f, st, en, sl[st], el[en]));
                }
            }
            if (nvidia) {
                window.sort(BY_SCORE);
                merged.addAll(distinct(window, n, passage, features, basic));
            } else {
                all.addAll(window);
            }
        }
        List<Resolved> kept;
        if (nvidia) {
            merged.sort((a, b) -> BY_SCORE.compare(a.candidate(), b.candidate()));
            kept = merged.subList(0, Math.min(n, merged.size()));
        } else {
            all.sort(BY_SCORE);
            kept = distinct(all, n, passage, features, basic);
        }
        if (kept.isEmpty()) {
            boolean placeholder = nvidia && !features.isEmpty();
            return new Prediction(placeholder ? List.of(Answer.placeholder()) : List.of(), padding);
        }
        double[] probs = softmax(kept);
        List<Answer> out = new ArrayList<>(kept.size());
        for (int i = 0; i < kept.size(); i++) {
            Resolved r = kept.get(i);
            int[] o = r.offsets();
            out.add(new Answer(r.text(), r.candidate().startLogit(), r.candidate().endLogit(), probs[i], o[0], o[1], o[2], o[3]));
        }
        return new Prediction(out, padding);
    }

    /** Stable, and numeric (−0.0 ties with 0.0, as in Python; Double.compare would order them). */
    private static final java.util.Comparator<Candidate> BY_SCORE = (a, b) -> descending(a.score(), b.score());

    private static boolean anyAtOrAfter(int[] positions, int limit) {
        for (int p : positions) if (p >= limit) return true;
        return false;
    }

    /** The first n candidates (in the order given) whose texts differ from those already taken. */
    private static List<Resolved> distinct(List<Candidate> sorted, int n, Passage passage, List<Feature> features, BasicTokenizer basic) {
        List<Resolved> kept = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (Candidate c : sorted) {
            if (kept.size() == n) break;
            Feature feat = features.get(c.feature());
            int firstWord = feat.tokenToWord()[c.start()], lastWord = feat.tokenToWord()[c.end()];
            String pred = detokenize(feat.tokens().subList(c.start(), c.end() + 1));
            String orig = String.join(" ", passage.words().subList(firstWord, lastWord + 1));
            int[] r = FinalText.span(pred, orig, basic);
            String text = substringByCodePoints(orig, r[0], r[1]);
            if (!seen.add(text)) continue;
            kept.add(new Resolved(c, text, contextOffsets(passage, firstWord, lastWord, r[0], r[1])));
        }
        return kept;
    }

    /**
     * Indices of the n largest of v[0, length), largest first; equal values by lower index (the order of a stable
     * descending sort, which is what run_squad.py's sorted(…, reverse=True) gives). An insertion into the n kept,
     * not a sort of every position: 20 of 384 positions, twice per window, was a sort of 384 boxed indices.
     * With a NaN among the values the choice is unspecified (NaN compares larger and smaller than nothing), but
     * never an error, as the sort's comparator could be.
     */
    static int[] best(double[] v, int length, int n) {
        int k = Math.max(0, Math.min(n, length));
        int[] out = new int[k];
        if (k == 0) return out;
        int size = 0;
        for (int i = 0; i < length; i++) {
            double x = v[i];
            if (size == k && !(x > v[out[k - 1]])) continue; // not larger than the n-th: an equal one came first
            int j = size < k ? size++ : k - 1;
            for (; j > 0 && x > v[out[j - 1]]; j--) out[j] = out[j - 1];
            out[j] = i;
        }
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
    private static double[] softmax(List<Resolved> kept) {
        double[] p = new double[kept.size()];
        if (p.length == 0) return p;
        double max = Double.NEGATIVE_INFINITY;
        for (Resolved r : kept) max = Math.max(max, r.candidate().score());
        double sum = 0;
        for (int i = 0; i < p.length; i++) {
            p[i] = Math.exp(kept.get(i).candidate().score() - max);
            sum += p[i];
        }
        for (int i = 0; i < p.length; i++) p[i] /= sum;
        return p;
    }
}
