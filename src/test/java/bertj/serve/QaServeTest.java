package bertj.serve;

import bertj.backend.cpu.CpuBackend;
import bertj.embed.SentenceEmbedder;
import bertj.model.LoadedModel;
import bertj.model.ModelLoader;
import bertj.qa.Answer;
import bertj.qa.QaSettings;
import bertj.qa.QuestionAnswerer;
import bertj.serve.http.Server;
import bertj.testing.Cli;
import bertj.testing.PyTorch;
import bertj.tokenizer.BertTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static bertj.serve.ServeFixture.json;
import static bertj.serve.ServeFixture.q;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * POST /qa on a random BERT with a QA head over the real BERT-uncased vocabulary (its answers are meaningless, but
 * exactly determined): the same answers as {@code bertj qa --json --top-k} with the same settings, alone and with
 * many questions batched together, and the 422s of bad parameters.
 */
class QaServeTest {
    @TempDir
    static Path dir;
    static Path model;
    static ServeFixture s;

    static final String CONTEXT = """
            The town of Millbrook was founded in 1794 by settlers who came up the river from the coast. Its first mill, built \
            by Josiah Whitcombe, ground corn for the farms of the valley until a flood destroyed it in 1832. The second mill, \
            of stone, still stands beside the falls; it was restored in 1978 and now houses a museum of local history. The \
            railway reached Millbrook in 1851, and the station, designed by the architect Harriet Vale, was praised for its \
            iron roof. After the factories closed in the 1950s the population fell from 14,200 to under 9,000, but the town \
            recovered as a home for commuters and for the state college, founded in 1967, which today enrols about 6,500 \
            students. Café owners — naïvely — called it «the valley's heart».""";

    @BeforeAll
    static void start() throws IOException {
        model = ServeFixture.smallModel(dir.resolve("qa-model"), PyTorch.seed("qa serve random model"));
        LoadedModel m = ModelLoader.load(model);
        s = new ServeFixture(m, Engine.Settings.defaults(), Server.Options.loopback(0), null);
    }

    @AfterAll
    static void stop() {
        if (s != null) s.close();
    }

    private static JsonNode cli(String question, String context, int topK, String... extra) throws IOException {
        List<String> args = new ArrayList<>(List.of("qa", "--model", model.toString(), "--question", question, "--context", context,
                "--json", "--top-k", Integer.toString(topK)));
        args.addAll(List.of(extra));
        Cli.Result r = Cli.run(args.toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        JsonNode n = ServeFixture.JSON.readTree(r.out());
        return n.isArray() ? n : ServeFixture.JSON.createArrayNode().add(n);
    }

    /** The server's answers equal the command line's: text, offsets, and score = the CLI's probability. */
    private static void assertSameAnswers(JsonNode expected, JsonNode got) {
        assertEquals(expected.size(), got.size(), got.toString());
        for (int i = 0; i < got.size(); i++) {
            JsonNode e = expected.get(i), g = got.get(i);
            assertEquals(e.get("answer").asText(), g.get("answer").asText());
            // offsets compared as JSON values: NVIDIA's placeholder "empty" has null ones on both sides
            assertEquals(e.get("start"), g.get("start"), "answer " + i + ": " + g);
            assertEquals(e.get("end"), g.get("end"), "answer " + i + ": " + g);
            assertEquals(e.get("probability").asDouble(), g.get("score").asDouble(), 0.0, "answer " + i);
            assertEquals(4, g.size(), "fields: " + g);
        }
    }

    @Test
    void answersEqualTheCommandLine() throws IOException {
        String question = "When did the railway reach Millbrook?";
        HttpResponse<String> r = s.post("/qa", q(Map.of("inputs", Map.of("question", question, "context", CONTEXT), "parameters", Map.of("top_k", 3))));
        assertEquals(200, r.statusCode(), r.body());
        assertSameAnswers(cli(question, CONTEXT, 3), json(r));
        assertEquals(1, json(s.post("/qa", q(Map.of("inputs", Map.of("question", question, "context", CONTEXT))))).size(), "top_k defaults to 1");

        // small windows: several per context, overlapping, each a row of its own in the batches
        Map<String, Object> params = new LinkedHashMap<>();
        params.put("top_k", 5);
        params.put("max_seq_len", 64);
        params.put("doc_stride", 24);
        params.put("max_question_len", 12);
        params.put("max_answer_len", 8);
        HttpResponse<String> w = s.post("/qa", q(Map.of("inputs", Map.of("question", question, "context", CONTEXT), "parameters", params)));
        assertEquals(200, w.statusCode(), w.body());
        assertSameAnswers(cli(question, CONTEXT, 5, "--max-seq-length", "64", "--doc-stride", "24", "--max-query-length", "12",
                "--max-answer-length", "8"), json(w));
        assertTrue(Integer.parseInt(w.headers().firstValue("x-compute-tokens").orElseThrow()) > 64 * 3, "expected several windows");
        JsonNode info = json(s.get("/info"));
        assertTrue(info.get("question_answering").asBoolean());
        assertEquals(384, info.get("qa").get("max_seq_len").asInt());
        assertEquals("masked", info.get("qa").get("decoding").asText());
    }

    /**
     * With NVIDIA's decoding every window is padded to its request's max_seq_length (id 0), and padding competes in
     * the ranking: the server answers as {@code bertj qa --decoding nvidia} does, also when requests with different
     * lengths are in flight together (their windows cannot share a pass).
     */
    @Test
    void nvidiaDecodingAnswersAsTheCommandLine() throws Exception {
        Engine.Settings d = Engine.Settings.defaults();
        Engine.Settings nv = new Engine.Settings(d.maxBatchTokens(), d.maxBatchRequests(), d.maxConcurrentRequests(), d.maxClientBatchSize(),
                d.maxInputLength(), d.autoTruncate(), d.maxContextChars(), QaSettings.RUN_SQUAD.withDecoding(bertj.qa.Decoding.NVIDIA),
                d.requestTimeout());
        try (ServeFixture n = new ServeFixture(ModelLoader.load(model), nv, Server.Options.loopback(0), null);
             ExecutorService pool = Executors.newFixedThreadPool(4)) {
            assertEquals("nvidia", json(n.get("/info")).get("qa").get("decoding").asText());
            String[] questions = {"Who designed the station?", "When was the college founded?", "What did the flood destroy?", "Why?"};
            List<Future<HttpResponse<String>>> got = new ArrayList<>();
            for (int i = 0; i < questions.length; i++) {
                Map<String, Object> params = new LinkedHashMap<>();
                params.put("top_k", 3);
                if (i % 2 == 1) {
                    params.put("max_seq_len", 64);
                    params.put("max_question_len", 12);
                }
                String body = q(Map.of("inputs", Map.of("question", questions[i], "context", CONTEXT), "parameters", params));
                got.add(pool.submit(() -> n.post("/qa", body)));
            }
            for (int i = 0; i < questions.length; i++) {
                HttpResponse<String> r = got.get(i).get(60, TimeUnit.SECONDS);
                assertEquals(200, r.statusCode(), r.body());
                String[] extra = i % 2 == 1 ? new String[] {"--decoding", "nvidia", "--lowercasing", "hf", "--max-seq-length", "64", "--max-query-length", "12"}
                        : new String[] {"--decoding", "nvidia", "--lowercasing", "hf"};
                assertSameAnswers(cli(questions[i], CONTEXT, 3, extra), json(r));
            }
        }
    }

    @Test
    void concurrentQuestionsEachGetTheirOwnAnswers() throws Exception {
        Random r = new Random(PyTorch.seed("qa serve questions"));
        String[] words = CONTEXT.replaceAll("[^A-Za-z ]", " ").split(" +");
        List<String> questions = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            StringBuilder sb = new StringBuilder("What");
            for (int k = 0; k < 2 + r.nextInt(8); k++) sb.append(' ').append(words[r.nextInt(words.length)]);
            questions.add(sb.append('?').toString());
        }
        // expected: the API the qa command calls (QuestionAnswerer.answers), each question alone
        Map<String, JsonNode> expected = new LinkedHashMap<>();
        LoadedModel m = ModelLoader.load(model);
        QaSettings settings = new QaSettings(96, 40, 64, 20, 30);
        try (QuestionAnswerer qa = QuestionAnswerer.of(m, BertTokenizer.load(m.vocabulary(null), null), new CpuBackend(2), settings, 16)) {
            for (String q : questions) {
                com.fasterxml.jackson.databind.node.ArrayNode list = ServeFixture.JSON.createArrayNode();
                for (Answer a : qa.answers(q, CONTEXT, 2)) {
                    list.addObject().put("answer", a.text()).put("start", a.start()).put("end", a.end()).put("probability", a.probability());
                }
                expected.put(q, list);
            }
        }
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<HttpResponse<String>>> f = new ArrayList<>();
            for (String q : questions) {
                f.add(pool.submit(() -> s.post("/qa", q(Map.of("inputs", Map.of("question", q, "context", CONTEXT),
                        "parameters", Map.of("top_k", 2, "max_seq_len", 96, "doc_stride", 40))))));
            }
            for (int i = 0; i < questions.size(); i++) {
                HttpResponse<String> resp = f.get(i).get(60, TimeUnit.SECONDS);
                assertEquals(200, resp.statusCode(), resp.body());
                assertSameAnswers(expected.get(questions.get(i)), json(resp));
            }
        }
    }

    @Test
    void badParametersAre422AndEmptyInputs400() {
        String[][] bad = {
                {"top_k", "21"}, {"max_seq_len", "513"}, {"max_seq_len", "20", "max_question_len", "64"}, {"doc_stride", "0"},
        };
        for (String[] b : bad) {
            Map<String, Object> p = new LinkedHashMap<>();
            for (int i = 0; i < b.length; i += 2) p.put(b[i], Integer.parseInt(b[i + 1]));
            HttpResponse<String> r = s.post("/qa", q(Map.of("inputs", Map.of("question", "Who?", "context", CONTEXT), "parameters", p)));
            assertEquals(422, r.statusCode(), p + ": " + r.body());
            assertEquals("Validation", json(r).get("error_type").asText());
        }
        HttpResponse<String> e = s.post("/qa", q(Map.of("inputs", Map.of("question", "", "context", CONTEXT))));
        assertEquals(400, e.statusCode(), e.body());
        HttpResponse<String> huge = s.post("/qa", q(Map.of("inputs", Map.of("question", "Who?", "context", "x ".repeat(60_000)))));
        assertEquals(422, huge.statusCode(), huge.body());
        assertTrue(json(huge).get("error").asText().contains("--max-context-chars"), huge.body());
        HttpResponse<String> cleaned = s.post("/qa", q(Map.of("inputs", Map.of("question", "\u200b\u0000", "context", CONTEXT))));
        assertEquals(422, cleaned.statusCode(), cleaned.body());
        // the QA model serves embeddings too (its pooled hidden states), as `bertj embed` does
        assertEquals(200, s.post("/embed", q(Map.of("inputs", "a QA model embeds as well"))).statusCode());
        assertEquals(SentenceEmbedder.Pooling.MEAN, s.engine.pooling());
    }
}
