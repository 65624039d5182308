package bertj.qa;

import bertj.testing.PyTorch;
import bertj.tokenizer.BasicTokenizer;
import bertj.tokenizer.BertTokenizer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Windows, max-context and span decoding on cases worked by hand. */
class SpanDecoderTest {
    @TempDir
    static Path dir;
    static BertTokenizer tokenizer;

    @BeforeAll
    static void setUp() throws IOException {
        tokenizer = BertTokenizer.load(QaFixtures.vocabTxt(dir), null);
    }

    /**
     * The n best positions equal a stable descending sort's first n (ties to the lower position), on logits with
     * many ties (rounded to a few values), with infinities, shorter than n, and n = 1.
     */
    @Test
    void bestPositionsAreAStableDescendingSortsFirst() {
        Random r = new Random(PyTorch.seed("span decoder best positions"));
        for (int t = 0; t < 2000; t++) {
            int length = 1 + r.nextInt(t % 10 == 0 ? 30 : 400), n = t % 7 == 0 ? 1 : 1 + r.nextInt(25);
            double[] v = new double[length + r.nextInt(3)]; // positions past length must not count
            for (int i = 0; i < v.length; i++) {
                v[i] = t % 3 == 0 ? Math.round(r.nextGaussian() * 2) : r.nextGaussian();
                if (r.nextInt(50) == 0) v[i] = r.nextBoolean() ? Double.POSITIVE_INFINITY : Double.NEGATIVE_INFINITY;
            }
            List<Integer> idx = new ArrayList<>();
            for (int i = 0; i < length; i++) idx.add(i);
            idx.sort((a, b) -> Double.compare(v[b], v[a])); // List.sort is stable
            int[] want = idx.subList(0, Math.min(n, length)).stream().mapToInt(Integer::intValue).toArray();
            int[] got = SpanDecoder.best(v, length, n);
            assertArrayEquals(want, got, () -> "length " + length + ", n " + n);
        }
        assertArrayEquals(new int[0], SpanDecoder.best(new double[] {1, 2}, 2, 0));
        assertArrayEquals(new int[0], SpanDecoder.best(new double[0], 0, 20));
    }

    @Test
    void windowsAdvanceByTheStrideAndTheLastReachesTheEnd() {
        // 40 tokens, 12 per window, stride 4: starts 0, 4, ..., 28; the window at 28 ends at 39
        var spans = Features.spans(40, 12, 4);
        assertEquals(8, spans.size());
        for (int i = 0; i < 8; i++) assertEquals(new Features.Span(4 * i, 12), spans.get(i));
        // a stride over the window length moves by the window length, never skipping tokens
        assertEquals(List.of(new Features.Span(0, 5), new Features.Span(5, 5), new Features.Span(10, 2)), Features.spans(12, 5, 9));
        assertEquals(List.of(), Features.spans(0, 5, 2));
    }

    @Test
    void maxContextPrefersTheMostCentredWindowAndTheFirstOnATie() {
        var spans = Features.spans(40, 12, 4); // windows [0,11], [4,15], [8,19], ...
        // token 10: window 0 scores min(10, 1) + 0.12, window 1 min(6, 5) + 0.12, window 2 min(2, 9) + 0.12 → window 1
        assertFalse(Features.isMaxContext(spans, 0, 10));
        assertTrue(Features.isMaxContext(spans, 1, 10));
        assertFalse(Features.isMaxContext(spans, 2, 10));
        // windows [0,9] and [1,10]: token 5 scores min(5, 4) = 4 in both, lengths equal → the first wins
        var tie = Features.spans(11, 10, 1);
        assertTrue(Features.isMaxContext(tie, 0, 5));
        assertFalse(Features.isMaxContext(tie, 1, 5));
    }

    /**
     * Passage "1 2 … 40" (one token per word), question "what", windows of 12 passage tokens, stride 4. The answer
     * "11 12 13" is tokens 10–12: window 0 holds its start but not its end; window 1 is token 10's max-context window.
     * Decoys with higher scores: window 0 (start 10, end 11: not max-context there) and window 2 (start 10 at logit
     * 20: not max-context there either). Background logits are small random noise.
     */
    @Test
    void answerAcrossAWindowBoundaryComesFromTheMaxContextWindow() {
        StringBuilder ctx = new StringBuilder();
        for (int i = 1; i <= 40; i++) ctx.append(i).append(i % 7 == 0 ? "  " : " ");
        Passage p = Passage.of(ctx.toString(), tokenizer);
        assertEquals(40, p.tokens().size());
        BertTokenizer.Encoding q = tokenizer.encode("what");
        QaSettings s = new QaSettings(16, 4, 4, 20, 30);
        List<Feature> fs = Features.build(0, q.tokens(), q.ids(), p, tokenizer.vocab(), s);
        assertEquals(8, fs.size());
        Random r = new Random(PyTorch.seed("span decoder background logits"));
        List<double[]> start = new ArrayList<>(), end = new ArrayList<>();
        for (Feature f : fs) {
            double[] a = new double[f.length()], b = new double[f.length()];
            for (int i = 0; i < a.length; i++) {
                a[i] = 0.1 * (r.nextDouble() - 0.5);
                b[i] = 0.1 * (r.nextDouble() - 0.5);
            }
            int at10 = 10 - f.passageStart() + 3, at11 = at10 + 1, at12 = at10 + 2; // [CLS] what [SEP] passage…
            if (at10 >= 3 && at10 < f.length() - 1) a[at10] = f.window() == 2 ? 20 : 5;
            if (at12 >= 3 && at12 < f.length() - 1) b[at12] = 5;
            if (f.window() == 0) b[at11] = 9;
            start.add(a);
            end.add(b);
        }
        List<Answer> answers = SpanDecoder.decode(p, fs, start, end, s, tokenizer.basic());
        Answer best = answers.get(0);
        assertEquals("11 12 13", best.text());
        assertEquals(10.0, best.score(), 0.0);
        assertEquals(ctx.indexOf("11 "), best.startUtf16());
        assertEquals(ctx.indexOf("11 ") + 8, best.endUtf16());
        double sum = 0;
        for (Answer a : answers) sum += a.probability();
        assertEquals(1.0, sum, 1e-12);
        assertEquals(20, answers.size());
        // the decoys (scores 14 and 25) would outrank it had they not been rejected
        for (Answer a : answers) assertTrue(a.score() <= 10.0 && a.startLogit() < 20, "a decoy survived: " + a);
    }

    @Test
    void finalTextRecoversAccentsCaseAndPunctuationFromTheOriginal() {
        BasicTokenizer uncased = tokenizer.basic();
        // prediction "jose pena" is in "jose pena - nunez" (the basic tokens of the original); map back
        assertArrayEquals(new int[] {0, 9}, FinalText.span("jose pena", "José Peña-Núñez", uncased));
        assertArrayEquals(new int[] {1, 5}, FinalText.span("pena", "(Peña)", uncased));
        // not found → the whole original text
        assertArrayEquals(new int[] {0, 6}, FinalText.span("london", "(Peña)", uncased));
        // a zero-width space vanishes in the tokenized text: lengths differ → the whole original text
        assertArrayEquals(new int[] {0, 4}, FinalText.span("abc", "ab\u200Bc", uncased));
    }

    @Test
    void detokenizeGluesWordPieces() {
        assertEquals("unaffable , ok", SpanDecoder.detokenize(List.of("un", "##aff", "##able", ",", "ok")));
        assertEquals("x", SpanDecoder.detokenize(List.of("##x")));
    }

    @Test
    void offsetsCountCodePointsAndUtf16Separately() {
        String ctx = "😀😀 née in Zürich 𝐀𝐁 ok";
        Passage p = Passage.of(ctx, tokenizer);
        BertTokenizer.Encoding q = tokenizer.encode("where");
        List<Feature> fs = Features.build(0, q.tokens(), q.ids(), p, tokenizer.vocab(), QaSettings.RUN_SQUAD);
        Feature f = fs.get(0);
        int zurich = f.tokens().indexOf("zurich");
        double[] a = new double[f.length()], b = new double[f.length()];
        for (int i = 0; i < a.length; i++) {
            a[i] = -1 - 0.01 * i;
            b[i] = -1 - 0.01 * i;
        }
        a[zurich] = 3;
        b[zurich] = 3;
        Answer best = SpanDecoder.decode(p, fs, List.of(a), List.of(b), QaSettings.RUN_SQUAD, tokenizer.basic()).get(0);
        assertEquals("Zürich", best.text());
        assertEquals(10, best.start());              // two emoji are two code points, four UTF-16 units
        assertEquals(16, best.end());
        assertEquals(12, best.startUtf16());
        assertEquals("Zürich", ctx.substring(best.startUtf16(), best.endUtf16()));
    }

    /**
     * The worked example of docs/qa.md. Question "who", passage "Ann met Bob. Ann left", max_seq_length 12, n-best 3:
     * [CLS] who [SEP] ann met bob . ann left [SEP] at positions 0–9, and with NVIDIA's padding, padding at 10 and 11.
     * Start logits: ann(3) 4, bob(5) 3, [SEP](9) 1, padding 6 and 5; end logits: [SEP](2) 1, ann(3) 2, bob(5) 4,
     * padding 10 scores 7; all else −9. NVIDIA's three best starts are 10, 11, 3 and ends 10, 5, 3: only ann–bob
     * (score 8) and ann–ann (6) survive. Masked, starts 3, 5, 9 and ends 5, 3, 2 give bob–bob (7) as well.
     */
    @Test
    void nvidiaRanksPaddingAndMaskedDoesNot() {
        Passage p = Passage.of("Ann met Bob. Ann left", tokenizer);
        BertTokenizer.Encoding q = tokenizer.encode("who");
        QaSettings masked = new QaSettings(12, 128, 4, 3, 30), nvidia = masked.withDecoding(Decoding.NVIDIA);
        List<Feature> fs = Features.build(0, q.tokens(), q.ids(), p, tokenizer.vocab(), masked);
        assertEquals(List.of("[CLS]", "who", "[SEP]", "ann", "met", "bob", ".", "ann", "left", "[SEP]"), fs.get(0).tokens());
        assertEquals(1, fs.size());
        double[] st = {-9, -9, -9, 4, -9, 3, -9, -9, -9, 1, 6, 5}, en = {-9, -9, 1, 2, -9, 4, -9, -9, -9, -9, 7, -9};

        Prediction n = SpanDecoder.predict(p, fs, List.of(st), List.of(en), nvidia, tokenizer.basic());
        assertTrue(n.paddingAmongBest());
        assertEquals(List.of("Ann met Bob", "Ann"), n.nbest().stream().map(Answer::text).toList());
        assertEquals(8.0, n.nbest().get(0).score(), 0.0);
        assertEquals(1 / (1 + Math.exp(-2)), n.nbest().get(0).probability(), 1e-15);
        Prediction m = SpanDecoder.predict(p, fs, List.of(st), List.of(en), masked, tokenizer.basic());
        assertFalse(m.paddingAmongBest());
        assertEquals(List.of("Ann met Bob", "Bob", "Ann"), m.nbest().stream().map(Answer::text).toList());

        // [CLS] and the padding above every passage end: NVIDIA is left with nothing and answers its placeholder
        double[] high = en.clone();
        high[0] = 5;
        high[11] = 9;
        Prediction empty = SpanDecoder.predict(p, fs, List.of(st), List.of(high), nvidia, tokenizer.basic());
        assertEquals(List.of(Answer.placeholder()), empty.nbest());
        assertTrue(empty.nbest().get(0).isPlaceholder());
        assertEquals(1.0, empty.nbest().get(0).probability(), 0.0);
        assertEquals("Ann met Bob", SpanDecoder.decode(p, fs, List.of(st), List.of(high), masked, tokenizer.basic()).get(0).text());
        // no window at all: no prediction (NVIDIA's get_answers gives none), not the placeholder
        assertEquals(List.of(), SpanDecoder.predict(p, List.of(), List.of(), List.of(), nvidia, tokenizer.basic()).nbest());
        // nvidia needs the logits of every padded position
        assertThrowsWithMessage(() -> SpanDecoder.predict(p, fs, List.of(new double[10]), List.of(new double[10]), nvidia,
                tokenizer.basic()), "padded to max_seq_length 12");
    }

    /** The same text from two windows: NVIDIA keeps it once per window and merges, masked keeps it once. */
    @Test
    void nvidiaDeduplicatesWithinEachWindowOnly() {
        Passage p = Passage.of("x y x y x y x y", tokenizer);
        BertTokenizer.Encoding q = tokenizer.encode("q");
        QaSettings masked = new QaSettings(8, 2, 4, 3, 1), nvidia = masked.withDecoding(Decoding.NVIDIA);
        List<Feature> fs = Features.build(0, q.tokens(), q.ids(), p, tokenizer.vocab(), masked);
        List<double[]> start = new ArrayList<>(), end = new ArrayList<>();
        for (Feature f : fs) {
            double[] a = new double[8], b = new double[8];
            java.util.Arrays.fill(a, -5);
            java.util.Arrays.fill(b, -5);
            for (int i = 0; i < f.length(); i++) {
                if (f.inPassage(i) && f.maxContext()[i]) {
                    double v = f.tokens().get(i).equals("x") ? 2 + 0.1 * f.window() : 1;
                    a[i] = v;
                    b[i] = v;
                }
            }
            start.add(a);
            end.add(b);
        }
        List<String> n = SpanDecoder.decode(p, fs, start, end, nvidia, tokenizer.basic()).stream().map(Answer::text).toList();
        List<String> m = SpanDecoder.decode(p, fs, start, end, masked, tokenizer.basic()).stream().map(Answer::text).toList();
        assertTrue(n.stream().filter("x"::equals).count() > 1, "NVIDIA's n-best should repeat x: " + n);
        assertEquals(List.of("x", "y"), m);
    }

    private static void assertThrowsWithMessage(org.junit.jupiter.api.function.Executable e, String part) {
        IllegalArgumentException x = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, e);
        assertTrue(x.getMessage().contains(part), x.getMessage());
    }
}
