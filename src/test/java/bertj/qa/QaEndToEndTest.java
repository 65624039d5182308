package bertj.qa;

import bertj.testing.Cli;
import bertj.testing.PyTorch;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * `bertj qa` and `bertj squad` on a random-weight NVIDIA-format checkpoint against PyTorch: weights/squad_reference.py
 * builds the same windows on its own, runs weights/torch_bert.py's TorchBert (float32, windows padded to
 * max_seq_length as run_squad.py runs them) and decodes in Python. The best answer must be the same span, with
 * its score (start + end logit) within 2e-5 — measured: at most 2e-6 apart (PyTorch float32 against bertj's float64
 * and float32), while the wrong GELU form moves it by more ({@link #theWrongGeluMissesTheScoreTolerance}) — on the
 * float64 reference backend and the float32 cpu backend. The opencl backend (fp16) is held to the cpu backend's
 * answers, near-ties aside.
 */
class QaEndToEndTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final double SCORE_TOLERANCE = 2e-5;

    @TempDir
    static Path dir;
    static Path vocab, checkpoint;

    @BeforeAll
    static void setUp() throws IOException {
        vocab = QaFixtures.vocabTxt(dir);
        checkpoint = PyTorch.checkpoint(dir, "model.pt", PyTorch.seed("QA end-to-end checkpoint"));
    }

    record Case(QaFixtures.Example example, String[] settings) {
    }

    static List<Case> cases() {
        String[] defaults = {};
        String[] small = {"--max-seq-length", "96", "--doc-stride", "32", "--max-query-length", "24"};
        List<QaFixtures.Example> t = QaFixtures.tricky();
        return List.of(
                new Case(t.get(0), defaults),                                            // one window of up to 384
                new Case(new QaFixtures.Example("long", "What did the harbour master measure?", QaFixtures.longPassage(70, 3)), defaults),
                new Case(t.get(4), small),                                               // accents and punctuation
                new Case(t.get(3), small),                                               // many windows
                new Case(t.get(7), small));                                              // question cut to 24 tokens
    }

    @Test
    void qaMatchesPyTorchOnTheReferenceBackend() throws IOException {
        compareQa("reference");
    }

    @Test
    void qaMatchesPyTorchOnTheCpuBackend() throws IOException {
        compareQa("cpu");
    }

    private void compareQa(String backend) throws IOException {
        int n = 0;
        for (Case c : cases()) {
            JsonNode py = python(List.of(c.example()), c.settings()).get(0);
            Path ctx = dir.resolve(c.example().id() + ".txt");
            Files.writeString(ctx, c.example().context());
            List<String> args = new ArrayList<>(List.of("qa", "--model", checkpoint.toString(), "--vocab", vocab.toString(),
                    "--question", c.example().question(), "--context-file", ctx.toString(), "--json", "--top-k", "3",
                    "--backend", backend));
            args.addAll(List.of(c.settings()));
            Cli.Result r = Cli.run(args.toArray(String[]::new));
            assertEquals(0, r.code(), r.err());
            JsonNode ours = JSON.readTree(r.out());
            JsonNode nbest = py.get("nbest");
            assertTrue(nbest.size() > 0 && ours.size() > 0, c.example().id() + ": no answers");
            String where = c.example().id() + " (" + backend + ", " + py.get("features").size() + " windows)";
            JsonNode top = ours.get(0);
            double pyScore = nbest.get(0).get("start_logit").asDouble() + nbest.get(0).get("end_logit").asDouble();
            boolean tie = nbest.size() > 1 && Math.abs(pyScore - nbest.get(1).get("start_logit").asDouble()
                    - nbest.get(1).get("end_logit").asDouble()) < SCORE_TOLERANCE;
            if (tie && !top.get("answer").asText().equals(nbest.get(0).get("text").asText())) {
                System.out.println(where + ": PyTorch's two best answers tie within " + SCORE_TOLERANCE + "; accepting the second");
                assertEquals(nbest.get(1).get("text").asText(), top.get("answer").asText(), where);
            } else {
                assertEquals(nbest.get(0).get("text").asText(), top.get("answer").asText(), where + ": best answer");
                assertEquals(pyScore, top.get("score").asDouble(), SCORE_TOLERANCE, where + ": score");
            }
            String context = c.example().context();
            int s = top.get("start").asInt(), e = top.get("end").asInt();
            String span = context.substring(context.offsetByCodePoints(0, s), context.offsetByCodePoints(0, e));
            assertEquals(top.get("answer").asText(), String.join(" ", span.split("[ \t\r\n\u202F]+")), where + ": offsets");
            System.out.printf("%s: \"%s\" score %.6f (PyTorch %.6f)%n", where, top.get("answer").asText(), top.get("score").asDouble(), pyScore);
            n++;
        }
        assertEquals(cases().size(), n);
    }

    /**
     * Negative control of SCORE_TOLERANCE: the same questions with the erf GELU (NVIDIA's checkpoints use tanh). On
     * every case, since one alone is not enough: with the checkpoint seed 52900937 the first case's score moved by
     * only 7.0e-7 (the two forms agree in float32 wherever |x| is large), and a seed had one QA score come out
     * bit-identical under both forms in QaJobTest. The control holds when some case's top answer moves beyond the
     * tolerance or changes.
     */
    @Test
    void theWrongGeluMissesTheScoreTolerance() throws IOException {
        double worst = 0;
        boolean changed = false;
        for (Case c : cases()) {
            JsonNode py = python(List.of(c.example()), c.settings()).get(0).get("nbest").get(0);
            double pyScore = py.get("start_logit").asDouble() + py.get("end_logit").asDouble();
            List<String> args = new ArrayList<>(List.of("qa", "--model", checkpoint.toString(), "--vocab", vocab.toString(),
                    "--question", c.example().question(), "--context", c.example().context(), "--json", "--gelu", "erf"));
            args.addAll(List.of(c.settings()));
            Cli.Result r = Cli.run(args.toArray(String[]::new));
            assertEquals(0, r.code(), r.err());
            JsonNode ours = JSON.readTree(r.out());
            double d = Math.abs(ours.get("score").asDouble() - pyScore);
            System.out.printf("wrong GELU, %s: score %.6f vs PyTorch %.6f (|difference| %.2e, tolerance %.0e)%n", c.example().id(),
                    ours.get("score").asDouble(), pyScore, d, SCORE_TOLERANCE);
            worst = Math.max(worst, d);
            changed |= !ours.get("answer").asText().equals(py.get("text").asText());
        }
        assertTrue(worst > SCORE_TOLERANCE || changed, "the erf GELU passed for tanh: every score within " + worst);
    }

    /**
     * `squad` on a small SQuAD file: predictions equal PyTorch's answers; EM/F1 equal what weights/squad_eval_reference.py
     * (the official v1.1 definition, in Python) computes from PyTorch's answers and the file's ground truths — nothing
     * of bertj's own evaluation is used for the expected figures.
     */
    @Test
    void squadMatchesPyTorch() throws IOException {
        List<QaFixtures.Example> ex = List.of(QaFixtures.tricky().get(0), QaFixtures.tricky().get(1), QaFixtures.tricky().get(4),
                QaFixtures.tricky().get(10), QaFixtures.tricky().get(11));
        String[] small = {"--max-seq-length", "128", "--doc-stride", "48"};
        JsonNode py = python(ex, small);
        ObjectNode root = JSON.createObjectNode().put("version", "1.1");
        ArrayNode paragraphs = root.putArray("data").addObject().put("title", "t").putArray("paragraphs");
        // ground truths, so that EM and F1 are neither 0 nor 100: for every other question PyTorch's own answer in
        // other case with a trailing '!' (equal once normalised), for the others the first three words of the passage
        List<List<String>> truths = new ArrayList<>();
        for (int i = 0; i < ex.size(); i++) {
            QaFixtures.Example e = ex.get(i);
            ObjectNode p = paragraphs.addObject().put("context", e.context());
            ObjectNode q = p.putArray("qas").addObject().put("id", e.id()).put("question", e.question());
            List<String> t = i % 2 == 1 ? List.of(py.get(i).get("answer").asText().toUpperCase(java.util.Locale.ROOT) + "!", firstWords(e.context()))
                    : List.of(firstWords(e.context()));
            ArrayNode answers = q.putArray("answers");
            for (String text : t) answers.addObject().put("text", text).put("answer_start", 0);
            truths.add(t);
        }
        Path data = dir.resolve("mini-squad.json"), out = dir.resolve("predictions.json"), nbest = dir.resolve("nbest.json");
        JSON.writeValue(data.toFile(), root);
        List<String> args = new ArrayList<>(List.of("squad", "--model", checkpoint.toString(), "--vocab", vocab.toString(),
                "--data", data.toString(), "--out", out.toString(), "--nbest-out", nbest.toString(), "--batch", "3",
                "--backend", "reference", "--progress", "lines", "--decoding", "masked")); // NvidiaDecodingTest checks nvidia
        args.addAll(List.of(small));
        Cli.Result r = Cli.run(args.toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        JsonNode preds = JSON.readTree(out.toFile()), nb = JSON.readTree(nbest.toFile());
        ArrayNode scoring = JSON.createArrayNode();
        for (int i = 0; i < ex.size(); i++) {
            String id = ex.get(i).id();
            assertEquals(py.get(i).get("answer").asText(), preds.get(id).asText(), id + ": prediction");
            assertEquals(preds.get(id).asText(), nb.get(id).get(0).get("text").asText(), id + ": n-best[0] is the prediction");
            assertTrue(nb.get(id).get(0).has("probability") && nb.get(id).get(0).has("start_logit"), id + ": n-best fields");
            ArrayNode item = scoring.addArray().add(py.get(i).get("answer").asText());
            truths.get(i).forEach(item.addArray()::add);
        }
        Path scoreIn = dir.resolve("score-in.json"), scoreOut = dir.resolve("score-out.json");
        JSON.writeValue(scoreIn.toFile(), scoring);
        PyTorch.run("squad_eval_reference.py", "--input", scoreIn.toString(), "--out", scoreOut.toString());
        double em = 0, f1 = 0;
        for (JsonNode s : JSON.readTree(scoreOut.toFile())) {
            em += s.get(0).asDouble();
            f1 += s.get(1).asDouble();
        }
        em *= 100.0 / ex.size();
        f1 *= 100.0 / ex.size();
        assertTrue(em > 0 && em < 100, "exact match " + em + ": the ground truths are chosen so that it is neither 0 nor 100");
        JsonNode metrics = JSON.readTree(r.out());
        assertEquals(em, metrics.get("exact_match").asDouble(), 1e-9, "exact_match");
        assertEquals(f1, metrics.get("f1").asDouble(), 1e-9, "f1");
        assertTrue(r.err().contains("windows"), r.err());
        System.out.println("squad: " + r.out().trim() + "; stderr: " + r.err().replace('\n', '|'));

        // a second run refuses to overwrite, and --force overwrites
        Cli.Result again = Cli.run(args.toArray(String[]::new));
        assertEquals(1, again.code());
        assertTrue(again.err().contains("already exists") && again.err().contains("--force"), again.err());
        args.add("--force");
        assertEquals(0, Cli.run(args.toArray(String[]::new)).code());
    }

    /**
     * Near-tie margin for the fp16 backend, in score (start + end logit): parity counts an argmax as agreeing when the
     * fp16 pick is within 1% of the row's logit RMS of the best (bertj.parity.Tolerance.FLOAT16.argmaxTie()); this
     * model's logits have an RMS of about 1 (unit-scale hidden states, qa_outputs ~ N(0, 1/288)), and a score adds two
     * logits: 2 × 0.01. The fp16 logits themselves err by up to ~0.6% of their RMS (docs/numerics.md).
     */
    private static final double FP16_SCORE_TIE = 0.02;
    /**
     * The fp16 score of the same span: two logits, each off by at most 4.2e-3 in the parity runs of docs/numerics.md
     * (OpenClParityTest prints this run's), so 2 × 4.2e-3 rounded up.
     */
    private static final double FP16_SCORE_TOLERANCE = 1e-2;

    /** Issue 9 item 6: `qa --backend opencl` (PoCL in CI) gives the cpu backend's answers, near-ties aside. */
    @Test
    void qaOnTheOpenClBackendGivesTheCpuBackendsAnswers() throws IOException {
        double worst = 0;
        int ties = 0, n = 0;
        // one window of 384, a passage of two windows of 96 with accents, a question cut to 24 tokens over 8 windows
        List<Case> cases = List.of(cases().get(0), cases().get(2), cases().get(4));
        for (Case c : cases) {
            Path ctx = dir.resolve(c.example().id() + "-ocl.txt");
            Files.writeString(ctx, c.example().context());
            JsonNode[] runs = new JsonNode[2];
            String[] backends = {"cpu", "opencl"};
            for (int b = 0; b < 2; b++) {
                List<String> args = new ArrayList<>(List.of("qa", "--model", checkpoint.toString(), "--vocab", vocab.toString(),
                        "--question", c.example().question(), "--context-file", ctx.toString(), "--json", "--top-k", "20",
                        "--backend", backends[b]));
                args.addAll(List.of(c.settings()));
                Cli.Result r = Cli.run(args.toArray(String[]::new));
                assertEquals(0, r.code(), r.err());
                runs[b] = JSON.readTree(r.out());
            }
            JsonNode cpu = runs[0], ocl = runs[1].get(0);
            String where = c.example().id() + " (opencl vs cpu)";
            if (!ocl.get("answer").asText().equals(cpu.get(0).get("answer").asText())) {
                double gap = cpu.get(0).get("score").asDouble() - scoreOf(cpu, ocl, where);
                assertTrue(gap <= FP16_SCORE_TIE, where + ": opencl's answer \"" + ocl.get("answer").asText() + "\" is " + gap
                        + " below cpu's best \"" + cpu.get(0).get("answer").asText() + "\", more than a near-tie (" + FP16_SCORE_TIE + ")");
                System.out.printf("%s: a near-tie, cpu scores opencl's answer %.4f below its best%n", where, gap);
                ties++;
            } else {
                assertEquals(cpu.get(0).get("start").asInt(), ocl.get("start").asInt(), where);
                assertEquals(cpu.get(0).get("end").asInt(), ocl.get("end").asInt(), where);
            }
            double d = Math.abs(scoreOf(cpu, ocl, where) - ocl.get("score").asDouble());
            worst = Math.max(worst, d);
            assertTrue(d <= FP16_SCORE_TOLERANCE, where + ": score of the same span differs by " + d);
            n++;
        }
        System.out.printf("qa opencl vs cpu: %d questions, %d near-ties, largest score difference on the same span %.2e%n", n, ties, worst);
        assertTrue(ties < n, "every answer a near-tie: nothing was compared");
    }

    /** cpu's score of the span opencl chose (same text and offsets) from cpu's n-best list. */
    private static double scoreOf(JsonNode cpuNbest, JsonNode ocl, String where) {
        for (JsonNode a : cpuNbest) {
            if (a.get("start").asInt() == ocl.get("start").asInt() && a.get("end").asInt() == ocl.get("end").asInt()) {
                return a.get("score").asDouble();
            }
        }
        throw new AssertionError(where + ": opencl's answer \"" + ocl.get("answer").asText() + "\" is not in cpu's 20 best");
    }

    /** Issue 9 item 6: `squad --backend opencl` predicts what the cpu backend predicts, near-ties aside. */
    @Test
    void squadOnTheOpenClBackendPredictsWhatTheCpuBackendPredicts() throws IOException {
        List<QaFixtures.Example> t = QaFixtures.tricky();
        List<QaFixtures.Example> ex = List.of(t.get(0), t.get(1), t.get(4), t.get(10), t.get(11));
        ObjectNode root = JSON.createObjectNode().put("version", "1.1");
        ArrayNode paragraphs = root.putArray("data").addObject().put("title", "t").putArray("paragraphs");
        for (QaFixtures.Example e : ex) {
            paragraphs.addObject().put("context", e.context()).putArray("qas").addObject().put("id", e.id()).put("question", e.question());
        }
        Path data = dir.resolve("ocl-squad.json");
        JSON.writeValue(data.toFile(), root);
        JsonNode[] preds = new JsonNode[2], nbest = new JsonNode[2];
        String[] backends = {"cpu", "opencl"};
        for (int b = 0; b < 2; b++) {
            Path out = dir.resolve("ocl-pred-" + backends[b] + ".json"), nb = dir.resolve("ocl-nbest-" + backends[b] + ".json");
            Cli.Result r = Cli.run("squad", "--model", checkpoint.toString(), "--vocab", vocab.toString(), "--data", data.toString(),
                    "--out", out.toString(), "--nbest-out", nb.toString(), "--backend", backends[b], "--progress", "none", "--force",
                    "--max-seq-length", "128", "--doc-stride", "48");
            assertEquals(0, r.code(), r.err());
            preds[b] = JSON.readTree(out.toFile());
            nbest[b] = JSON.readTree(nb.toFile());
        }
        int same = 0, ties = 0;
        for (QaFixtures.Example e : ex) {
            String cpu = preds[0].get(e.id()).asText(), ocl = preds[1].get(e.id()).asText();
            if (cpu.equals(ocl)) {
                same++;
                continue;
            }
            JsonNode best = nbest[0].get(e.id()).get(0);
            double bestScore = best.get("start_logit").asDouble() + best.get("end_logit").asDouble(), theirs = Double.NEGATIVE_INFINITY;
            for (JsonNode a : nbest[0].get(e.id())) {
                if (a.get("text").asText().equals(ocl)) theirs = Math.max(theirs, a.get("start_logit").asDouble() + a.get("end_logit").asDouble());
            }
            assertTrue(bestScore - theirs <= FP16_SCORE_TIE, e.id() + ": opencl predicts \"" + ocl + "\", cpu \"" + cpu
                    + "\"; cpu scores opencl's " + (bestScore - theirs) + " lower, more than a near-tie");
            ties++;
        }
        System.out.printf("squad opencl vs cpu: %d questions, %d same predictions, %d near-ties%n", ex.size(), same, ties);
        assertTrue(same > ex.size() / 2, "most predictions must be the same");
    }

    private static String firstWords(String context) {
        List<String> words = List.of(context.trim().split("\\s+"));
        return String.join(" ", words.subList(0, Math.min(3, words.size())));
    }

    /** Python's answers (PyTorch logits) for examples under the given CLI window settings. */
    private static JsonNode python(List<QaFixtures.Example> examples, String[] cliSettings) throws IOException {
        ObjectNode spec = JSON.createObjectNode();
        ObjectNode st = spec.putObject("settings");
        st.put("max_seq_length", 384).put("doc_stride", 128).put("max_query_length", 64).put("n_best_size", 20).put("max_answer_length", 30);
        for (int i = 0; i < cliSettings.length; i += 2) {
            st.put(cliSettings[i].substring(2).replace('-', '_'), Integer.parseInt(cliSettings[i + 1]));
        }
        ArrayNode ex = spec.putArray("examples");
        for (QaFixtures.Example e : examples) ex.addObject().put("id", e.id()).put("question", e.question()).put("context", e.context());
        String name = examples.get(0).id() + "-" + examples.size() + "-" + String.join("_", cliSettings);
        Path in = dir.resolve("py-in-" + name + ".json"), out = dir.resolve("py-out-" + name + ".json");
        if (!Files.exists(out)) {
            JSON.writeValue(in.toFile(), spec);
            PyTorch.run("squad_reference.py", "--vocab", vocab.toString(), "--input", in.toString(), "--out", out.toString(),
                    "--model", checkpoint.toString());
        }
        return JSON.readTree(out.toFile()).get("examples");
    }
}
