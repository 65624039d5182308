package bertj.qa;

import bertj.testing.PyTorch;
import bertj.tokenizer.BertTokenizer;
import bertj.tokenizer.LowerCasing;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Feature building and span decoding against weights/squad_reference.py, an independent Python implementation,
 * on tricky passages (answers across window boundaries, passages of many windows, accents and punctuation next
 * to answers, questions over 64 tokens, odd whitespace, CJK and emoji, words over 100 characters) under several
 * window settings, with random logits — continuous, and rounded so that ties must break the same way.
 * Features must be identical; n-best lists identical in text and logits, probabilities within 1e-12. The same
 * with {@link Decoding#NVIDIA}: logits at every position of each window padded to max_seq_length, the padded ones
 * drawn around a per-example offset so that padding takes none, some or all of the n-best positions — so the
 * n-best hold padding, per-window de-duplication and NVIDIA's placeholder "empty" — and Python's str.lower()
 * (Final_Sigma) for the tokens.
 */
class SquadReferenceTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    static Path vocab;
    static BertTokenizer tokenizer;

    @BeforeAll
    static void setUp() throws IOException {
        vocab = QaFixtures.vocabTxt(dir);
        tokenizer = BertTokenizer.load(vocab, null);
    }

    static final QaSettings SMALL = new QaSettings(64, 24, 16, 7, 5);
    static final QaSettings TINY = new QaSettings(32, 5, 8, 20, 30);

    /** Offsets of the padded positions' logits against the real ones' (which are N(0, 3²)), NVIDIA decoding. */
    private static final double[] PADDING_OFFSETS = {-7.5, -5, -2.5, 0, 2.5};

    @Test
    void runSquadDefaults() throws IOException {
        compare(QaSettings.RUN_SQUAD, false, "defaults");
    }

    @Test
    void smallWindows() throws IOException {
        compare(SMALL, false, "small windows");
    }

    @Test
    void tinyWindowsWithTiedLogits() throws IOException {
        compare(TINY, true, "tiny windows, tied logits");
    }

    @Test
    void defaultsWithTiedLogits() throws IOException {
        compare(QaSettings.RUN_SQUAD, true, "defaults, tied logits");
    }

    @Test
    void nvidiaDefaults() throws IOException {
        compare(QaSettings.RUN_SQUAD.withDecoding(Decoding.NVIDIA), false, "nvidia, defaults");
    }

    @Test
    void nvidiaSmallWindowsWithTiedLogits() throws IOException {
        compare(SMALL.withDecoding(Decoding.NVIDIA), true, "nvidia, small windows, tied logits");
    }

    @Test
    void nvidiaTinyWindows() throws IOException {
        compare(TINY.withDecoding(Decoding.NVIDIA), false, "nvidia, tiny windows");
    }

    private void compare(QaSettings s, boolean ties, String what) throws IOException {
        long seed = PyTorch.seed("squad reference logits, " + what);
        Random r = new Random(seed);
        boolean nvidia = s.decoding() == Decoding.NVIDIA;
        BertTokenizer tokenizer = nvidia ? BertTokenizer.load(vocab, null, LowerCasing.PYTHON) : SquadReferenceTest.tokenizer;
        List<QaFixtures.Example> examples = new ArrayList<>(QaFixtures.tricky());
        if (nvidia) {
            examples.addAll(QaFixtures.paddingHeavy(seed, 16));
            // one text from every window: NVIDIA keeps it once per window, so the merged n-best repeats it
            examples.add(new QaFixtures.Example("repeats", "Which word repeats?", "data ".repeat(700).trim()));
        }
        ObjectNode spec = JSON.createObjectNode();
        ObjectNode st = spec.putObject("settings");
        st.put("max_seq_length", s.maxSeqLength()).put("doc_stride", s.docStride()).put("max_query_length", s.maxQueryLength())
                .put("n_best_size", s.nBestSize()).put("max_answer_length", s.maxAnswerLength());
        ArrayNode ex = spec.putArray("examples");
        ObjectNode logitsNode = spec.putObject("logits");
        List<Passage> passages = new ArrayList<>();
        List<List<Feature>> features = new ArrayList<>();
        List<List<double[][]>> logits = new ArrayList<>();
        int windows = 0, shift = r.nextInt(PADDING_OFFSETS.length);
        for (int i = 0; i < examples.size(); i++) {
            QaFixtures.Example e = examples.get(i);
            ex.addObject().put("id", e.id()).put("question", e.question()).put("context", e.context());
            Passage p = Passage.of(e.context(), tokenizer);
            BertTokenizer.Encoding q = tokenizer.encode(e.question());
            List<Feature> fs = Features.build(i, q.tokens(), q.ids(), p, tokenizer.vocab(), s);
            passages.add(p);
            features.add(fs);
            windows += fs.size();
            ArrayNode perWindow = logitsNode.putArray(e.id());
            List<double[][]> mine = new ArrayList<>();
            // nvidia: padding around an offset of its own per example, from far below the real logits to above them;
            // the offsets take turns from a random start, so that every run has examples at each of them (drawn
            // independently, as they were, a run could draw too few high ones and have no placeholder to compare:
            // seed 61273090 of the small-window test did)
            double paddingOffset = PADDING_OFFSETS[(i + shift) % PADDING_OFFSETS.length];
            for (Feature f : fs) {
                int positions = nvidia ? s.maxSeqLength() : f.length();
                double[][] se = new double[2][positions];
                ArrayNode pair = perWindow.addArray();
                for (int k = 0; k < 2; k++) {
                    ArrayNode arr = pair.addArray();
                    for (int t = 0; t < positions; t++) {
                        double v = r.nextGaussian() * 3 + (t >= f.length() ? paddingOffset : 0);
                        se[k][t] = ties ? Math.rint(v) : v;
                        arr.add(se[k][t]);
                    }
                }
                mine.add(se);
            }
            logits.add(mine);
        }
        Path in = dir.resolve("in-" + what.replace(' ', '_').replace(',', '_') + ".json");
        Path out = dir.resolve("out-" + what.replace(' ', '_').replace(',', '_') + ".json");
        JSON.writeValue(in.toFile(), spec);
        PyTorch.run("squad_reference.py", "--vocab", vocab.toString(), "--input", in.toString(), "--out", out.toString(),
                "--decoding", s.decoding().cliName());
        JsonNode py = JSON.readTree(out.toFile()).get("examples");

        int answers = 0, padded = 0, placeholders = 0, repeats = 0, paddedAnswered = 0, maskedDiffers = 0;
        for (int i = 0; i < examples.size(); i++) {
            String id = examples.get(i).id();
            JsonNode pe = py.get(i);
            assertEquals(id, pe.get("id").asText());
            List<Feature> fs = features.get(i);
            assertEquals(pe.get("features").size(), fs.size(), id + ": number of windows");
            for (int w = 0; w < fs.size(); w++) checkFeature(id + " window " + w, fs.get(w), pe.get("features").get(w));
            List<double[]> sl = new ArrayList<>(), el = new ArrayList<>();
            for (double[][] se : logits.get(i)) {
                sl.add(se[0]);
                el.add(se[1]);
            }
            Prediction prediction = SpanDecoder.predict(passages.get(i), fs, sl, el, s, tokenizer.basic());
            List<Answer> mine = prediction.nbest();
            JsonNode nbest = pe.get("nbest");
            assertEquals(pe.get("padding_among_best").asBoolean(), prediction.paddingAmongBest(), id + ": padding among the best");
            assertEquals(pe.get("placeholder").asBoolean(), !mine.isEmpty() && mine.get(0).isPlaceholder(), id + ": placeholder");
            if (prediction.paddingAmongBest()) padded++;
            if (!mine.isEmpty() && mine.get(0).isPlaceholder()) placeholders++;
            else if (prediction.paddingAmongBest()) paddedAnswered++;
            if (mine.stream().map(Answer::text).distinct().count() < mine.size()) repeats++;
            if (nvidia) {
                // negative control: masked decoding of the same logits is not what the reference computes
                List<Answer> masked = SpanDecoder.decode(passages.get(i), fs, sl, el, s.withDecoding(Decoding.MASKED), tokenizer.basic());
                List<String> pyTexts = new ArrayList<>();
                nbest.forEach(b -> pyTexts.add(b.get("text").asText()));
                if (!texts(masked).equals(pyTexts)) maskedDiffers++;
            }
            assertEquals(nbest.size(), mine.size(), id + ": n-best size; ours " + texts(mine));
            for (int k = 0; k < mine.size(); k++) {
                Answer a = mine.get(k);
                JsonNode b = nbest.get(k);
                assertEquals(b.get("text").asText(), a.text(), id + " n-best " + k);
                assertEquals(b.get("start_logit").asDouble(), a.startLogit(), 0.0, id + " n-best " + k + " start logit");
                assertEquals(b.get("end_logit").asDouble(), a.endLogit(), 0.0, id + " n-best " + k + " end logit");
                assertEquals(b.get("probability").asDouble(), a.probability(), 1e-12 * Math.max(1, a.probability()), id + " probability");
                if (!a.isPlaceholder()) checkOffsets(id, examples.get(i).context(), a);
                answers++;
            }
        }
        System.out.printf("%s: %d examples, %d windows, %d n-best answers identical to weights/squad_reference.py"
                + "; padding among the %d best in %d examples, %d answered \"empty\", %d with a text repeated"
                + "; masked decoding would differ in %d%n",
                what, examples.size(), windows, answers, s.nBestSize(), padded, placeholders, repeats, maskedDiffers);
        assertTrue(answers > examples.size(), "almost no answers were compared");
        if (nvidia) {
            assertTrue(paddedAnswered > 0, "no example kept an answer with padding among its best positions");
            assertTrue(repeats > 0, "no n-best list repeats a text across windows");
            assertTrue(maskedDiffers >= placeholders + repeats, "masked decoding should differ at least where NVIDIA answers "
                    + "\"empty\" or repeats a text: " + maskedDiffers);
            // Windows of 32 are mostly passage: padding seldom leaves nothing there; at 64 and 384 short passages do.
            if (s.maxSeqLength() >= 64) assertTrue(placeholders > 0, "no example was left with NVIDIA's placeholder");
        }
    }

    private static void checkFeature(String where, Feature f, JsonNode p) {
        assertEquals(p.get("tokens").toString(), JSON.valueToTree(f.tokens()).toString(), where + " tokens");
        assertEquals(p.get("input_ids").toString(), JSON.valueToTree(f.inputIds()).toString(), where + " input ids");
        assertEquals(p.get("token_type_ids").toString(), JSON.valueToTree(f.tokenTypeIds()).toString(), where + " token types");
        assertEquals(p.get("start").asInt(), f.passageStart(), where + " window start");
        JsonNode map = p.get("token_to_orig_map"), ctx = p.get("token_is_max_context");
        for (int t = 0; t < f.length(); t++) {
            JsonNode m = map.get(Integer.toString(t));
            assertEquals(m == null ? -1 : m.asInt(), f.tokenToWord()[t], where + " token_to_orig_map[" + t + "]");
            JsonNode c = ctx.get(Integer.toString(t));
            assertEquals(c != null && c.asBoolean(), f.maxContext()[t], where + " token_is_max_context[" + t + "]");
        }
    }

    /** The offsets point at the answer in the context: the same text once whitespace runs are single spaces. */
    static void checkOffsets(String id, String context, Answer a) {
        String span = context.substring(a.startUtf16(), a.endUtf16());
        assertEquals(a.text(), String.join(" ", span.split("[ \t\r\n\u202F]+")), id + ": context[start:end] is the answer");
        assertEquals(a.start(), context.codePointCount(0, a.startUtf16()), id + ": code point start");
        assertEquals(a.end(), context.codePointCount(0, a.endUtf16()), id + ": code point end");
    }

    private static List<String> texts(List<Answer> a) {
        return a.stream().map(Answer::text).toList();
    }
}
