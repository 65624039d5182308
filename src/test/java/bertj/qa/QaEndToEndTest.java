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
 * its score (start + end logit) within 1e-4 — the float32 difference between the two is about 1e-6 — on the
 * float64 reference backend and the float32 cpu backend.
 */
class QaEndToEndTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final double SCORE_TOLERANCE = 1e-4;

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

    /** `squad` on a small SQuAD file: predictions equal PyTorch's answers; EM/F1 as our evaluation computes them. */
    @Test
    void squadMatchesPyTorch() throws IOException {
        List<QaFixtures.Example> ex = List.of(QaFixtures.tricky().get(0), QaFixtures.tricky().get(1), QaFixtures.tricky().get(4),
                QaFixtures.tricky().get(10), QaFixtures.tricky().get(11));
        String[] small = {"--max-seq-length", "128", "--doc-stride", "48"};
        JsonNode py = python(ex, small);
        ObjectNode root = JSON.createObjectNode().put("version", "1.1");
        ArrayNode paragraphs = root.putArray("data").addObject().put("title", "t").putArray("paragraphs");
        for (QaFixtures.Example e : ex) {
            ObjectNode p = paragraphs.addObject().put("context", e.context());
            ObjectNode q = p.putArray("qas").addObject().put("id", e.id()).put("question", e.question());
            // ground truths: the first three words of the passage, so that EM/F1 are not trivially 0 or 100
            q.putArray("answers").addObject().put("text", firstWords(e.context()))
                    .put("answer_start", 0);
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
        List<SquadEvaluation.Question> qs = new ArrayList<>();
        java.util.Map<String, String> predMap = new java.util.HashMap<>();
        for (int i = 0; i < ex.size(); i++) {
            String id = ex.get(i).id();
            assertEquals(py.get(i).get("answer").asText(), preds.get(id).asText(), id + ": prediction");
            assertEquals(preds.get(id).asText(), nb.get(id).get(0).get("text").asText(), id + ": n-best[0] is the prediction");
            assertTrue(nb.get(id).get(0).has("probability") && nb.get(id).get(0).has("start_logit"), id + ": n-best fields");
            predMap.put(id, preds.get(id).asText());
            qs.add(new SquadEvaluation.Question(id, List.of(firstWords(ex.get(i).context()))));
        }
        SquadEvaluation.Result expected = SquadEvaluation.evaluate(qs, predMap);
        JsonNode metrics = JSON.readTree(r.out());
        assertEquals(expected.exactMatch(), metrics.get("exact_match").asDouble(), 1e-12);
        assertEquals(expected.f1(), metrics.get("f1").asDouble(), 1e-12);
        assertTrue(r.err().contains("windows"), r.err());
        System.out.println("squad: " + r.out().trim() + "; stderr: " + r.err().replace('\n', '|'));

        // a second run refuses to overwrite, and --force overwrites
        Cli.Result again = Cli.run(args.toArray(String[]::new));
        assertEquals(1, again.code());
        assertTrue(again.err().contains("already exists") && again.err().contains("--force"), again.err());
        args.add("--force");
        assertEquals(0, Cli.run(args.toArray(String[]::new)).code());
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
