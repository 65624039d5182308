package bertj.explain;

import bertj.readers.Tensor;
import bertj.testing.Cli;
import bertj.testing.PyTorch;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code bertj explain}: the report is valid, self-contained HTML, and what it shows equals what {@code bertj
 * trace} saves for the same input — every head's attention (the values and every heatmap pixel), every token's
 * hidden-state norm per layer, the logits — with negative controls showing each comparison would catch a
 * transposed matrix, a neighbouring head or a layer off by one. The QA report marks the span {@code bertj qa}
 * answers.
 */
class ExplainReportTest {
    /** The report rounds attention to multiples of 1/4095; the trace is float32. */
    static final double ATTENTION_TOL = 0.5 / 4095 + 1e-6;

    @TempDir
    static Path dir;
    static Path qaModel;

    @BeforeAll
    static void setUp() throws Exception {
        qaModel = Fixtures.qaModel(dir, PyTorch.seed("explain QA model"));
    }

    private static Path explain(String name, String... args) {
        Path out = dir.resolve(name);
        String[] all = new String[args.length + 4];
        all[0] = "explain";
        System.arraycopy(args, 0, all, 1, args.length);
        all[args.length + 1] = "--out";
        all[args.length + 2] = out.toString();
        all[args.length + 3] = "--force";
        Cli.Result r = Cli.run(all);
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("wrote " + out + ": "), r.out());
        return out;
    }

    @Test
    void minilmReportIsValidSelfContainedAndEqualsTheTrace() throws Exception {
        Path report = explain("minilm.html", "--model", "minilm", "--text", Fixtures.TEXT);
        String html = Files.readString(report, StandardCharsets.UTF_8);
        assertEquals(List.of(), HtmlCheck.problems(html));
        assertEquals(List.of(), HtmlCheck.externalReferences(html));
        assertTrue(!HtmlCheck.withoutPayloads(html).toLowerCase(Locale.ROOT).contains("http"), "no http anywhere but in base64");

        ReportData d = ReportData.read(report);
        assertEquals(6, d.layers);
        assertEquals(12, d.heads);
        List<String> tokens = d.tokens();
        assertEquals("[CLS]", tokens.get(0));
        assertEquals("[SEP]", tokens.get(tokens.size() - 1));
        assertTrue(tokens.contains("animal") && tokens.contains("tired"), tokens.toString());
        for (String t : tokens) assertTrue(html.contains(">" + Html.esc(t) + "</span>"), "word piece " + t + " shown");
        int[] ids = d.ints("ids"), types = d.ints("types");
        assertEquals(d.seq, ids.length);

        Map<String, Tensor> trace = Fixtures.trace(dir, "minilm", ids, types);
        assertEquals(d.seq, trace.get("layer.0.attention_probs").dim(2));
        checkAgainstTrace(d, trace);
        assertNull(d.doubles("start_logits"), "minilm has no QA head");
        assertTrue(!html.contains("id=\"logits\""), "no logits section without a QA head");
        // the settings and the model's info
        assertTrue(html.contains("<th>backend</th><td>cpu (float32)"), "settings table names the backend");
        assertTrue(html.contains("6 layers, hidden 384, 12 heads of 32"), "bertj info is in the report");
    }

    /** Every value the report shows of one pass, against the trace of the same input; and controls that fail. */
    static void checkAgainstTrace(ReportData d, Map<String, Tensor> trace) throws Exception {
        int s = d.seq;
        double worst = 0;
        for (int l = 0; l < d.layers; l++) {
            for (int h = 0; h < d.heads; h++) {
                double[] shown = d.attention(l, h), p = Fixtures.attention(trace, l, h, s);
                worst = Math.max(worst, maxDiff(shown, p));
                int[] levels = ReportData.levels(d.heatmap(l, h));
                assertEquals(s * s, levels.length, "heatmap of layer " + l + " head " + h + " is S x S");
                for (int k = 0; k < levels.length; k++) {
                    double x = 255 * Math.sqrt(p[k]);
                    int expected = Colormap.level(Colormap.attentionScale(p[k]));
                    if (levels[k] != expected && Math.abs(x - Math.floor(x) - 0.5) > 1e-4) {
                        throw new AssertionError("layer " + l + " head " + h + " cell (" + k / s + ", " + k % s + "): pixel level "
                                + levels[k] + ", expected " + expected + " for p = " + p[k]);
                    }
                }
            }
        }
        System.out.printf("explain vs trace: attention max |difference| %.2e over %d heads (limit %.2e)%n", worst, d.layers * d.heads, ATTENTION_TOL);
        assertTrue(worst <= ATTENTION_TOL, "attention differs from the trace by " + worst);
        // negative controls: the same comparison catches a transposed head and a neighbouring head
        double[] a00 = d.attention(0, 0), t00 = Fixtures.attention(trace, 0, 0, s);
        assertTrue(maxDiff(transpose(a00, s), t00) > 10 * ATTENTION_TOL, "a transposed heatmap would be caught");
        assertTrue(maxDiff(d.attention(0, 1), t00) > 10 * ATTENTION_TOL, "a neighbouring head would be caught");
        assertTrue(maxDiff(d.attention(1, 0), t00) > 10 * ATTENTION_TOL, "a neighbouring layer would be caught");
        // the thumbnails are the heatmaps (or, for long inputs, their block maxima)
        BufferedImage thumb = ReportData.png(d.thumbnailSrc(0, 0));
        int block = (s + ExplainReport.THUMB - 1) / ExplainReport.THUMB;
        assertEquals(s <= ExplainReport.THUMB ? s : (s + block - 1) / block, thumb.getWidth(), "thumbnail size");

        double[][] norms = d.hiddenNorms();
        assertEquals(d.layers + 1, norms.length);
        for (int r = 0; r <= d.layers; r++) {
            double[] expected = Fixtures.norms(trace, r == 0 ? "embeddings" : "layer." + (r - 1));
            for (int t = 0; t < s; t++) {
                assertEquals(expected[t], norms[r][t], 1e-6 * expected[t], "hidden norm row " + r + " token " + t);
            }
        }
        // control: row r against the trace of the next layer is far off
        double[] next = Fixtures.norms(trace, "layer.1");
        assertTrue(maxDiff(norms[1], next) > 1e-3, "a layer off by one would be caught");

        double[] start = d.doubles("start_logits"), end = d.doubles("end_logits");
        if (start != null) {
            double[] ts = trace.get("start_logits").toDoubles(), te = trace.get("end_logits").toDoubles();
            assertTrue(maxDiff(start, ts) <= 1e-6 && maxDiff(end, te) <= 1e-6, "logits equal the trace's");
            assertTrue(maxDiff(start, te) > 1e-3, "start and end swapped would be caught");
        }
    }

    @Test
    void qaReportMarksTheSpanBertjQaAnswers() throws Exception {
        Path vocab = qaModel.resolve("tokenizer.json");
        Path report = explain("qa.html", "--model", qaModel.toString(), "--vocab", vocab.toString(),
                "--question", Fixtures.QUESTION, "--context", Fixtures.CONTEXT);
        String html = Files.readString(report, StandardCharsets.UTF_8);
        assertEquals(List.of(), HtmlCheck.problems(html));
        assertEquals(List.of(), HtmlCheck.externalReferences(html));
        ReportData d = ReportData.read(report);
        assertEquals(3, d.layers);
        assertEquals(4, d.heads);
        List<String> tokens = d.tokens();
        int[] types = d.ints("types");
        int firstSep = tokens.indexOf("[SEP]");
        assertEquals("[CLS]", tokens.get(0));
        assertTrue(firstSep > 1 && types[firstSep + 1] == 1, "[CLS] question [SEP] passage [SEP]");
        Map<String, Tensor> trace = Fixtures.trace(dir, qaModel.toString(), d.ints("ids"), types);
        checkAgainstTrace(d, trace);

        // the span bertj qa gives, at the tokens whose logits are its logits
        Cli.Result qa = Cli.run("qa", "--model", qaModel.toString(), "--vocab", vocab.toString(), "--question", Fixtures.QUESTION,
                "--context", Fixtures.CONTEXT, "--json");
        assertEquals(0, qa.code(), qa.err());
        JsonNode answer = new ObjectMapper().readTree(qa.out());
        JsonNode shown = d.data.get("answer");
        assertNotNull(shown, "the report marks an answer");
        assertEquals(answer.get("answer").asText(), shown.get("text").asText());
        int a = shown.get("start").asInt(), b = shown.get("end").asInt();
        assertTrue(firstSep < a && a <= b && b < tokens.size() - 1, "the span lies in the passage: " + a + ".." + b);
        assertEquals(answer.get("start_logit").asDouble(), d.doubles("start_logits")[a], 1e-6);
        assertEquals(answer.get("end_logit").asDouble(), d.doubles("end_logits")[b], 1e-6);
        assertEquals(answer.get("score").asDouble(), shown.get("score").asDouble(), 1e-9);
        // drawn: the band over the span's columns, and the span's chips outlined
        assertTrue(html.contains("<rect id=\"answer-band\" class=\"answer\" x=\"" + a * ExplainReport.PITCH + "\""), "answer band at its tokens");
        assertTrue(html.contains("data-i=\"" + a + "\"") && html.contains("ans\" data-i=\"" + a + "\""), "answer chips outlined");
        assertTrue(html.contains("Answer: <mark>" + Html.esc(answer.get("answer").asText()) + "</mark>"));
        // non-passage columns are shaded: question, [CLS] and both [SEP]s
        int shaded = html.split("class=\"nonpassage\"", -1).length - 1;
        assertEquals(firstSep + 2, shaded, "[CLS] + question + [SEP] + final [SEP]");
    }

    @Test
    void longPassagesShowOneWindowAndSaySo() throws Exception {
        Path vocab = qaModel.resolve("tokenizer.json");
        String context = (Fixtures.CONTEXT + " ").repeat(4);
        Path out = dir.resolve("window1.html");
        Cli.Result r = Cli.run("explain", "--model", qaModel.toString(), "--vocab", vocab.toString(), "--question", Fixtures.QUESTION,
                "--context", context, "--max-seq-length", "64", "--max-query-length", "16", "--doc-stride", "32", "--window", "1", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("bertj: note: the passage makes ") && r.err().contains("this report shows window 1"), r.err());
        ReportData d = ReportData.read(out);
        assertEquals(64, d.seq);
        assertTrue(d.html.contains("class=\"note\">the passage makes "), "the note is in the report too");
        Cli.Result past = Cli.run("explain", "--model", qaModel.toString(), "--vocab", vocab.toString(), "--question", Fixtures.QUESTION,
                "--context", context, "--max-seq-length", "64", "--max-query-length", "16", "--doc-stride", "32", "--window", "99", "--out", dir.resolve("w99.html").toString());
        assertEquals(1, past.code());
        assertTrue(past.err().startsWith("bertj: --window 99 is past the last window: the passage makes "), past.err());
        assertTrue(!Files.exists(dir.resolve("w99.html")));
    }

    @Test
    void longTextIsCutToMaxSeqLengthAndSaysSo() throws Exception {
        Path out = dir.resolve("cut.html");
        Cli.Result r = Cli.run("explain", "--model", qaModel.toString(), "--vocab", qaModel.resolve("tokenizer.json").toString(),
                "--text", Fixtures.TEXT.repeat(3), "--max-seq-length", "16", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("the first 14 are shown"), r.err());
        ReportData d = ReportData.read(out);
        assertEquals(16, d.seq);
        assertEquals("[SEP]", d.tokens().get(15));
        assertEquals(16, d.doubles("start_logits").length, "a QA model's logits are shown for a text too");
        assertNull(d.data.get("answer"), "but no answer: there is no passage");
    }

    @Test
    void badRequestsAreOneLineErrors() throws Exception {
        Path out = dir.resolve("bad.html");
        Path encoder = Fixtures.encoderModel(dir, 1);
        Cli.Result noQa = Cli.run("explain", "--model", encoder.toString(), "--vocab", encoder.resolve("tokenizer.json").toString(),
                "--question", "Who?", "--context", "Nobody.", "--out", out.toString());
        assertEquals(1, noQa.code());
        assertEquals(1, noQa.errLines().length, noQa.err());
        assertTrue(noQa.err().contains("has no QA head") && noQa.err().contains("--text"), noQa.err());

        Cli.Result both = Cli.run("explain", "--model", "minilm", "--text", "x", "--question", "Who?", "--context", "Nobody.", "--out", out.toString());
        assertEquals(2, both.code(), both.err());
        Cli.Result neither = Cli.run("explain", "--model", "minilm", "--out", out.toString());
        assertEquals(2, neither.code(), neither.err());
        Cli.Result half = Cli.run("explain", "--model", "minilm", "--question", "Who?", "--out", out.toString());
        assertEquals(2, half.code(), half.err());

        Cli.Result empty = Cli.run("explain", "--model", "minilm", "--text", "  ", "--out", out.toString());
        assertEquals(1, empty.code());
        assertEquals("bertj: the text is empty\n", empty.err());

        Cli.Result noDir = Cli.run("explain", "--model", "minilm", "--text", "x", "--out", dir.resolve("missing/r.html").toString());
        assertEquals(1, noDir.code());
        assertTrue(noDir.err().contains("does not exist"), noDir.err());

        Files.writeString(out, "keep me");
        Cli.Result exists = Cli.run("explain", "--model", "minilm", "--text", "x", "--out", out.toString());
        assertEquals(1, exists.code());
        assertTrue(exists.err().contains("already exists") && exists.err().contains("--force"), exists.err());
        assertEquals("keep me", Files.readString(out), "nothing lost");
        assertNotEquals(0, Cli.run("explain", "--model", "minilm", "--text", "x", "--backend", "nope", "--out", out.toString()).code());
    }

    /** Markup in tokens, the answer, settings or info stays text: the page and its JSON stay valid and equal. */
    @Test
    void hostileTextStaysText() throws Exception {
        List<String> tokens = List.of("[CLS]", "</script>", "<!--", "&amp;", "\"'<b>", "[SEP]");
        int s = tokens.size();
        double[] probs = new double[s * s], hidden = new double[s * 2], logits = new double[s];
        for (int i = 0; i < s; i++) {
            for (int j = 0; j < s; j++) probs[i * s + j] = (i == j ? 0.5 : 0.5 / (s - 1));
            hidden[2 * i] = i;
            hidden[2 * i + 1] = 1;
            logits[i] = i - 2.5;
        }
        Capture c = new Capture(1, 1, s, 2, Map.of("layer.0.attention_probs", probs, "embeddings", hidden, "layer.0", hidden,
                "start_logits", logits, "end_logits", logits), "cpu", "float32", 0.01);
        String answerText = "</script><script>alert(1)</script><!-- & \u2028";
        Explanation e = new Explanation("<i>model</i>", tokens, new int[s], new int[s], new boolean[] {false, true, true, true, true, false},
                c, new Explanation.Span(1, 3, answerText, 1.5, 0.9), List.of(new Explanation.Setting("<th>", "</td><script>")),
                "info </pre><script>", List.of("note <b>"));
        Path out = dir.resolve("hostile.html");
        ExplainReport.write(e, out);
        String html = Files.readString(out, StandardCharsets.UTF_8);
        assertEquals(List.of(), HtmlCheck.problems(html));
        assertEquals(List.of(), HtmlCheck.externalReferences(html));
        assertEquals(2, html.split("<script", -1).length - 1, "only bertj's two script elements");
        ReportData d = ReportData.read(out);
        assertEquals(tokens, d.tokens());
        assertEquals(answerText, d.data.get("answer").get("text").asText());
        assertEquals(0.5, d.attention(0, 0)[0], 0.5 / 4095);
    }

    @Test
    void colourScaleIsMonotoneAndExactAtTheEnds() {
        assertEquals(0xffffff, Colormap.rgb(0));
        int prev = Integer.MAX_VALUE;
        for (int k = 0; k < Colormap.LEVELS; k++) {
            int c = Colormap.rgb(k);
            int luma = 299 * (c >> 16 & 255) + 587 * (c >> 8 & 255) + 114 * (c & 255);
            assertTrue(luma < prev, "luminance falls at level " + k);
            prev = luma;
        }
        assertEquals(0, Colormap.level(Colormap.attentionScale(0)));
        assertEquals(255, Colormap.level(Colormap.attentionScale(1)));
        assertEquals(128, Colormap.level(Colormap.attentionScale(0.2520)), "√0.252 ≈ 0.502");
        assertArrayEquals(new int[] {0, 26, 51, 255}, new int[] {Colormap.level(0), Colormap.level(0.1), Colormap.level(0.2), Colormap.level(7)});
    }

    private static double maxDiff(double[] a, double[] b) {
        assertEquals(a.length, b.length);
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }

    private static double[] transpose(double[] a, int s) {
        double[] t = new double[a.length];
        for (int i = 0; i < s; i++) for (int j = 0; j < s; j++) t[j * s + i] = a[i * s + j];
        return t;
    }
}
