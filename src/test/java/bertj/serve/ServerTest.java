package bertj.serve;

import bertj.backend.Batch;
import bertj.backend.cpu.CpuBackend;
import bertj.embed.SentenceEmbedder;
import bertj.encoder.BertEncoder;
import bertj.serve.http.Server;
import bertj.testing.Cli;
import bertj.testing.MiniLm;
import bertj.tokenizer.BertTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static bertj.serve.ServeFixture.json;
import static bertj.serve.ServeFixture.q;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code bertj serve}'s API on a real server (ephemeral loopback port) with all-MiniLM-L6-v2 and a real HTTP client:
 * every endpoint against the command line's answers, every error code, concurrent clients each getting exactly
 * their own result (bit for bit what the model gives the input alone), 429 under a small admission limit, and
 * the drain on shutdown.
 */
class ServerTest {
    static ServeFixture s;
    static final List<String> TEXTS = List.of(MiniLm.SENTENCES.get(0), MiniLm.SENTENCES.get(8), MiniLm.SENTENCES.get(10));

    @BeforeAll
    static void start() {
        s = ServeFixture.minilm(Engine.Settings.defaults(), Server.Options.loopback(0), null);
    }

    @AfterAll
    static void stop() {
        if (s != null) s.close();
    }

    private static float[] floats(JsonNode a) {
        float[] f = new float[a.size()];
        for (int i = 0; i < f.length; i++) f[i] = a.get(i).floatValue();
        return f;
    }

    private static float[] floats(double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) f[i] = (float) v[i];
        return f;
    }

    private static void assertError(HttpResponse<String> r, int status, String type) {
        assertEquals(status, r.statusCode(), r.body());
        JsonNode n = json(r);
        assertEquals(type, n.get("error_type").asText(), r.body());
        assertFalse(n.get("error").asText().isBlank());
        assertFalse(r.body().contains("\tat "), "a stack trace leaked: " + r.body());
    }

    // ---------------------------------------------------------------- endpoints against the command line

    @Test
    void embedAndOpenAiEqualTheCommandLine() {
        List<String> args = new ArrayList<>(List.of("embed", "--model", "minilm", "--normalize", "--json"));
        args.addAll(TEXTS);
        Cli.Result cli = Cli.run(args.toArray(String[]::new));
        assertEquals(0, cli.code(), cli.err());
        JsonNode expected = ServeFixture.JSON.valueToTree(parse(cli.out())).get("embeddings");

        HttpResponse<String> r = s.post("/embed", q(Map.of("inputs", TEXTS)));
        assertEquals(200, r.statusCode(), r.body());
        JsonNode got = json(r);
        assertEquals(TEXTS.size(), got.size());
        int tokens = 0;
        for (int i = 0; i < TEXTS.size(); i++) {
            assertArrayEquals(floats(expected.get(i).get("embedding")), floats(got.get(i)), "text " + i);
            tokens += expected.get(i).get("tokens").asInt();
        }
        assertEquals(Integer.toString(tokens), r.headers().firstValue("x-compute-tokens").orElseThrow());
        // a single string is a batch of one
        assertArrayEquals(floats(expected.get(0).get("embedding")), floats(json(s.post("/embed", q(Map.of("inputs", TEXTS.get(0))))).get(0)));

        // normalize=false: the raw mean-pooled vector, whose direction is the normalised one
        JsonNode raw = json(s.post("/embed", q(Map.of("inputs", TEXTS.get(0), "normalize", false)))).get(0);
        double norm = 0;
        for (JsonNode x : raw) norm += x.doubleValue() * x.doubleValue();
        norm = Math.sqrt(norm);
        assertTrue(Math.abs(norm - 1) > 0.01, "not normalised: norm " + norm);
        for (int j = 0; j < raw.size(); j++) assertEquals(expected.get(0).get("embedding").get(j).doubleValue(), raw.get(j).doubleValue() / norm, 1e-6);

        // OpenAI shape, float and base64
        HttpResponse<String> o = s.post("/v1/embeddings", q(Map.of("input", TEXTS, "model", "whatever")));
        assertEquals(200, o.statusCode(), o.body());
        JsonNode oj = json(o);
        assertEquals("list", oj.get("object").asText());
        assertEquals("minilm", oj.get("model").asText());
        assertEquals(tokens, oj.get("usage").get("prompt_tokens").asInt());
        assertEquals(tokens, oj.get("usage").get("total_tokens").asInt());
        JsonNode b64 = json(s.post("/v1/embeddings", q(Map.of("input", TEXTS, "encoding_format", "base64"))));
        for (int i = 0; i < TEXTS.size(); i++) {
            JsonNode d = oj.get("data").get(i);
            assertEquals("embedding", d.get("object").asText());
            assertEquals(i, d.get("index").asInt());
            assertArrayEquals(floats(expected.get(i).get("embedding")), floats(d.get("embedding")));
            ByteBuffer bb = ByteBuffer.wrap(Base64.getDecoder().decode(b64.get("data").get(i).get("embedding").asText())).order(ByteOrder.LITTLE_ENDIAN);
            float[] decoded = new float[bb.remaining() / 4];
            for (int j = 0; j < decoded.length; j++) decoded[j] = bb.getFloat();
            assertArrayEquals(floats(expected.get(i).get("embedding")), decoded);
        }
        assertEquals(200, s.post("/embeddings", q(Map.of("input", "alias"))).statusCode());
    }

    @Test
    void similarityEqualsTheCommandLine() {
        List<String> texts = MiniLm.SENTENCES.subList(0, 5);
        List<String> args = new ArrayList<>(List.of("similarity", "--json"));
        args.addAll(texts);
        Cli.Result cli = Cli.run(args.toArray(String[]::new));
        assertEquals(0, cli.code(), cli.err());
        JsonNode expected = ServeFixture.JSON.valueToTree(parse(cli.out())).get("similarities");
        HttpResponse<String> r = s.post("/similarity", q(Map.of("inputs", Map.of("source_sentence", texts.get(0), "sentences", texts.subList(1, 5)))));
        assertEquals(200, r.statusCode(), r.body());
        JsonNode got = json(r);
        assertEquals(4, got.size());
        for (int i = 0; i < 4; i++) assertEquals((float) expected.get(i).get("cosine").asDouble(), got.get(i).floatValue(), "sentence " + i);
        assertEquals(0.7553f, got.get(0).floatValue(), 5e-5f); // the README's figure
    }

    @Test
    void tokenizeEqualsTheCommandLine() throws IOException {
        String text = "Héllo, wörld! [SEP] 北京 tokenization";
        java.nio.file.Path vocab = java.nio.file.Files.createTempFile("minilm-tokenizer", ".json");
        try {
            java.nio.file.Files.copy(ServeFixture.minilm().vocabulary(null), vocab, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            Cli.Result cli = Cli.run("tokenize", "--vocab", vocab.toString(), "--json", text);
            assertEquals(0, cli.code(), cli.err());
            JsonNode expected = ServeFixture.JSON.readTree(cli.out());
            JsonNode got = json(s.post("/tokenize", q(Map.of("inputs", List.of(text), "add_special_tokens", false)))).get(0);
            assertEquals(expected.get("ids").size(), got.size());
            for (int i = 0; i < got.size(); i++) {
                assertEquals(expected.get("ids").get(i).asInt(), got.get(i).get("id").asInt());
                JsonNode t = got.get(i);
                if (t.get("special").asBoolean()) {
                    assertEquals(expected.get("tokens").get(i).asText(), t.get("text").asText());
                    assertTrue(t.get("start").isNull());
                } else {
                    int a = t.get("start").asInt(), b = t.get("stop").asInt();
                    assertEquals(text.substring(text.offsetByCodePoints(0, a), text.offsetByCodePoints(0, b)), t.get("text").asText());
                }
            }
            assertEquals("héllo".length(), got.get(0).get("stop").asInt()); // "hello" points at "Héllo"
            JsonNode withSpecials = json(s.post("/tokenize", q(Map.of("inputs", text)))).get(0);
            assertEquals(got.size() + 2, withSpecials.size());
            assertEquals("[CLS]", withSpecials.get(0).get("text").asText());
            assertEquals("[SEP]", withSpecials.get(withSpecials.size() - 1).get("text").asText());
            assertTrue(withSpecials.get(0).get("special").asBoolean());
        } finally {
            java.nio.file.Files.deleteIfExists(vocab);
        }
    }

    private static Object parse(String json) {
        try {
            return ServeFixture.JSON.readValue(json, Object.class);
        } catch (IOException e) {
            throw new AssertionError(json, e);
        }
    }

    @Test
    void healthInfoAndMetrics() {
        HttpResponse<String> h = s.get("/health");
        assertEquals(200, h.statusCode(), h.body());
        JsonNode info = json(s.get("/info"));
        assertEquals("minilm", info.get("model_id").asText());
        assertEquals("cpu", info.get("backend").asText());
        assertEquals("float32", info.get("precision").asText());
        assertEquals("float32", info.get("model_dtype").asText());
        assertEquals("mean", info.get("model_type").get("embedding").get("pooling").asText());
        assertEquals(16384, info.get("max_batch_tokens").asInt());
        assertEquals(512, info.get("max_concurrent_requests").asInt());
        assertEquals(32, info.get("max_client_batch_size").asInt());
        assertEquals(512, info.get("max_input_length").asInt());
        assertEquals(2_000_000, info.get("payload_limit").asInt());
        assertFalse(info.get("question_answering").asBoolean());
        assertTrue(info.hasNonNull("version"));
        s.post("/embed", q(Map.of("inputs", "count me")));
        s.post("/embed", q(Map.of("inputs", List.of())));
        HttpResponse<String> m = s.get("/metrics");
        assertEquals(200, m.statusCode());
        assertTrue(m.headers().firstValue("Content-Type").orElseThrow().startsWith("text/plain"));
        String text = m.body();
        for (String name : new String[] {"te_request_count{route=\"/embed\"}", "te_request_success{route=\"/embed\"}",
                "te_request_failure{route=\"/embed\",err=\"empty\"}", "te_queue_size ", "te_batch_next_size_bucket{le=\"1\"}",
                "te_batch_next_tokens_sum", "bertj_batch_padded_tokens_count", "te_request_tokenization_duration_bucket",
                "te_request_queue_duration_sum", "te_request_inference_duration_count", "te_request_duration_bucket{route=\"/embed\",le=\"+Inf\"}",
                "bertj_requests_in_flight "}) {
            assertTrue(text.contains(name), name + " missing from\n" + text);
        }
    }

    // ---------------------------------------------------------------- errors

    @Test
    void everyErrorCodeOfTheOpenServer() {
        assertError(s.get("/nope"), 404, "NotFound");
        assertError(s.get("/embed"), 405, "MethodNotAllowed");
        assertEquals("POST", s.get("/embed").headers().firstValue("Allow").orElseThrow());
        assertError(s.post("/health", "{}"), 405, "MethodNotAllowed");
        assertError(s.post("/embed", "{\"inputs\": "), 400, "Malformed");
        assertError(s.post("/embed", "not json"), 400, "Malformed");
        assertError(s.post("/embed", ""), 400, "Malformed");
        assertError(s.post("/embed", "{\"inputs\": []}"), 400, "Empty");
        assertError(s.post("/embed", "{\"inputs\": \"\"}"), 400, "Empty");
        assertError(s.post("/embed", "{\"inputs\": 5}"), 422, "Validation");
        List<String> many = new ArrayList<>();
        for (int i = 0; i < 33; i++) many.add("text " + i);
        assertError(s.post("/embed", q(Map.of("inputs", many))), 422, "Validation");
        String longText = "word ".repeat(600);
        HttpResponse<String> tooLong = s.post("/embed", q(Map.of("inputs", longText)));
        assertError(tooLong, 422, "Validation");
        assertTrue(json(tooLong).get("error").asText().contains("602 tokens"), tooLong.body());
        assertEquals(200, s.post("/embed", q(Map.of("inputs", longText, "truncate", true))).statusCode());
        HttpResponse<String> qa = s.post("/qa", q(Map.of("inputs", Map.of("question", "Who?", "context", "Ann."))));
        assertError(qa, 422, "Validation");
        assertTrue(json(qa).get("error").asText().contains("no question-answering head"), qa.body());
        HttpResponse<String> dims = s.post("/v1/embeddings", q(Map.of("input", "x", "dimensions", 128)));
        assertError(dims, 422, "Validation");
        assertEquals(422, json(dims).get("code").asInt()); // TEI's OpenAI-route fields as well
        assertEquals("Validation", json(dims).get("type").asText());
        assertEquals(200, s.get("/health").statusCode(), "the server still works after all that");
    }

    @Test
    void payloadLimitIs413WithContentLengthAndChunked() throws Exception {
        try (ServeFixture small = ServeFixture.minilm(Engine.Settings.defaults(), Server.Options.loopback(0).withPayloadLimit(200), null)) {
            String big = q(Map.of("inputs", "x".repeat(300)));
            assertError(small.post("/embed", big), 413, "PayloadTooLarge");
            byte[] bytes = big.getBytes(StandardCharsets.UTF_8);
            HttpRequest chunked = HttpRequest.newBuilder(small.uri("/embed"))
                    .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(bytes))).build();
            assertError(small.send(chunked), 413, "PayloadTooLarge");
            assertEquals(200, small.post("/embed", q(Map.of("inputs", "small"))).statusCode());
        }
    }

    @Test
    void apiKeyIsRequiredButNotForHealthAndMetrics() {
        try (ServeFixture locked = ServeFixture.minilm(Engine.Settings.defaults(), Server.Options.loopback(0).withApiKey("s3cret"), null)) {
            HttpResponse<String> none = locked.post("/embed", q(Map.of("inputs", "x")));
            assertError(none, 401, "Unauthorized");
            assertEquals("Bearer", none.headers().firstValue("WWW-Authenticate").orElseThrow());
            HttpRequest.Builder b = HttpRequest.newBuilder(locked.uri("/embed")).POST(HttpRequest.BodyPublishers.ofString(q(Map.of("inputs", "x"))));
            assertError(locked.send(b.copy().header("Authorization", "Bearer wrong").build()), 401, "Unauthorized");
            assertError(locked.get("/info"), 401, "Unauthorized");
            assertEquals(200, locked.send(b.copy().header("Authorization", "Bearer s3cret").build()).statusCode());
            assertEquals(200, locked.get("/health").statusCode());
            assertEquals(200, locked.get("/metrics").statusCode());
        }
    }

    @Test
    void overloadIs429AndTheAdmittedRequestsStillGetTheirAnswers() throws Exception {
        ServeFixture.Tap tap = new ServeFixture.Tap().hold();
        try (ServeFixture two = ServeFixture.minilm(Engine.Settings.defaults().withMaxConcurrentRequests(2), Server.Options.loopback(0), tap)) {
            CompletableFuture<HttpResponse<String>> a = two.client.sendAsync(post(two, "/embed", q(Map.of("inputs", TEXTS.get(0)))),
                    HttpResponse.BodyHandlers.ofString());
            assertTrue(tap.entered.await(60, TimeUnit.SECONDS));
            CompletableFuture<HttpResponse<String>> b = two.client.sendAsync(post(two, "/similarity",
                    q(Map.of("inputs", Map.of("source_sentence", TEXTS.get(0), "sentences", List.of(TEXTS.get(1)))))), HttpResponse.BodyHandlers.ofString());
            waitFor(() -> two.engine.metrics().prometheus().contains("bertj_requests_in_flight 2"));
            HttpResponse<String> refused = two.post("/embed", q(Map.of("inputs", "one too many")));
            assertError(refused, 429, "Overloaded");
            assertEquals(200, two.post("/tokenize", q(Map.of("inputs", "tokenize takes no admission"))).statusCode());
            tap.open();
            assertEquals(200, a.get(60, TimeUnit.SECONDS).statusCode());
            assertEquals(200, b.get(60, TimeUnit.SECONDS).statusCode());
            assertArrayEquals(floats(json(s.post("/embed", q(Map.of("inputs", TEXTS.get(0))))).get(0)), floats(json(a.get()).get(0)));
            assertEquals(200, two.post("/embed", q(Map.of("inputs", "room again"))).statusCode());
            assertTrue(two.get("/metrics").body().contains("te_request_failure{route=\"/embed\",err=\"overloaded\"} 1"));
        }
    }

    @Test
    void notReadyShuttingDownAndAFailedForwardPassAre503And424() throws Exception {
        Server loading = new Server(Server.Options.loopback(0), line -> { });
        loading.start();
        try {
            HttpClient c = HttpClient.newHttpClient();
            HttpResponse<String> h = c.send(HttpRequest.newBuilder(java.net.URI.create(loading.url() + "/health")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertError(h, 503, "Unhealthy");
            HttpResponse<String> e = c.send(HttpRequest.newBuilder(java.net.URI.create(loading.url() + "/embed"))
                    .POST(HttpRequest.BodyPublishers.ofString("{\"inputs\":\"x\"}")).build(), HttpResponse.BodyHandlers.ofString());
            assertError(e, 503, "Unhealthy");
            assertEquals(200, c.send(HttpRequest.newBuilder(java.net.URI.create(loading.url() + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode());
        } finally {
            loading.shutdown();
        }
        ServeFixture.Tap tap = new ServeFixture.Tap();
        try (ServeFixture broken = ServeFixture.minilm(Engine.Settings.defaults(), Server.Options.loopback(0), tap)) {
            tap.fail = new IllegalStateException("simulated device failure");
            HttpResponse<String> r = broken.post("/embed", q(Map.of("inputs", "x")));
            assertError(r, 424, "Backend");
            assertTrue(json(r).get("error").asText().contains("simulated device failure"), r.body());
            assertError(broken.get("/health"), 503, "Unhealthy");
            tap.fail = null;
            assertEquals(200, broken.get("/health").statusCode());
        }
    }

    // ---------------------------------------------------------------- batching

    /**
     * 24 clients at once, texts of 3 to 150 tokens: each gets exactly the embedding its text has alone, bit for bit
     * (the engine's doubles) and as the same float32 JSON; the batches formed really mixed lengths (so padding was
     * there to matter), and a negative control shows that it would matter if padded keys were not masked.
     */
    @Test
    void concurrentClientsGetExactlyTheirOwnResults() throws Exception {
        ServeFixture.Tap tap = new ServeFixture.Tap().hold();
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 24; i++) texts.add(MiniLm.SENTENCES.get(i % MiniLm.SENTENCES.size()) + " (client " + i + ")");
        BertTokenizer tok = ServeFixture.tokenizer(ServeFixture.minilm());
        Map<String, double[]> alone = new java.util.HashMap<>();
        try (BertEncoder enc = new BertEncoder(ServeFixture.minilm().weights(), new CpuBackend(2))) {
            SentenceEmbedder single = new SentenceEmbedder(enc, tok, SentenceEmbedder.Pooling.MEAN, true, 512);
            for (String t : texts) alone.put(t, single.embed(List.of(t), 1).get(0).vector());
        }
        try (ServeFixture f = ServeFixture.minilm(Engine.Settings.defaults(), Server.Options.loopback(0), tap);
             ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            // the first request holds the worker so that the other clients' requests pile up into shared batches
            Future<Engine.Embedded> first = pool.submit(() -> f.engine.embed(List.of(texts.get(0)), false, true));
            assertTrue(tap.entered.await(60, TimeUnit.SECONDS));
            List<Future<Engine.Embedded>> direct = new ArrayList<>();
            List<Future<HttpResponse<String>>> http = new ArrayList<>();
            for (int i = 1; i < texts.size(); i++) {
                String t = texts.get(i);
                if (i % 2 == 0) direct.add(pool.submit(() -> f.engine.embed(List.of(t), false, true)));
                else http.add(pool.submit(() -> f.post("/embed", q(Map.of("inputs", t)))));
            }
            waitFor(() -> f.engine.queued() == texts.size() - 1);
            tap.open();
            assertArrayEquals(alone.get(texts.get(0)), first.get(60, TimeUnit.SECONDS).vectors().get(0));
            for (int k = 0, i = 2; k < direct.size(); k++, i += 2) {
                assertArrayEquals(alone.get(texts.get(i)), direct.get(k).get(60, TimeUnit.SECONDS).vectors().get(0), "client " + i);
            }
            for (int k = 0, i = 1; k < http.size(); k++, i += 2) {
                HttpResponse<String> r = http.get(k).get(60, TimeUnit.SECONDS);
                assertEquals(200, r.statusCode(), r.body());
                assertArrayEquals(floats(alone.get(texts.get(i))), floats(json(r).get(0)), "client " + i);
            }
        }
        // the batches after the first really held several sequences of different lengths
        List<Engine.Row> mixed = tap.batches.stream().filter(b -> b.stream().mapToInt(Engine.Row::length).distinct().count() > 2)
                .findFirst().orElseThrow(() -> new AssertionError("no batch mixed lengths: " + tap.batches.size() + " batches"));
        System.out.println("concurrent clients: " + tap.batches.size() + " batches, sizes "
                + tap.batches.stream().map(List::size).toList());
        // negative control: the same padded batch with padded keys NOT masked gives a different embedding for its shortest row
        Engine.EmbedRow shortest = (Engine.EmbedRow) mixed.stream().min(java.util.Comparator.comparingInt(Engine.Row::length)).orElseThrow();
        List<BertTokenizer.Sequence> seqs = mixed.stream().map(r -> ((Engine.EmbedRow) r).sequence()).toList();
        Batch padded = SentenceEmbedder.batch(seqs, tok.vocab().padId());
        int[] allOnes = new int[padded.tokens()];
        java.util.Arrays.fill(allOnes, 1);
        Batch unmasked = new Batch(padded.size(), padded.seqLen(), padded.inputIds(), padded.tokenTypeIds(), allOnes);
        try (BertEncoder enc = new BertEncoder(ServeFixture.minilm().weights(), new CpuBackend(2))) {
            double[] hidden = enc.forward(unmasked, true, null).lastHidden();
            double[][] pooled = SentenceEmbedder.pool(hidden, padded, 384, SentenceEmbedder.Pooling.MEAN);
            int row = seqs.indexOf(shortest.sequence());
            double[] wrong = SentenceEmbedder.normalized(pooled[row]);
            SentenceEmbedder single = new SentenceEmbedder(enc, tok, SentenceEmbedder.Pooling.MEAN, true, 512);
            double[] right = single.embedSequences(List.of(shortest.sequence()))[0];
            double diff = 0;
            for (int j = 0; j < right.length; j++) diff = Math.max(diff, Math.abs(right[j] - wrong[j]));
            assertTrue(diff > 1e-3, "attending to padding should change the embedding, max difference " + diff);
        }
    }

    // ---------------------------------------------------------------- shutdown

    /**
     * A request in flight when the server is told to stop is answered; a new connection is refused; a new request
     * on a connection that was already open is answered 503 with the connection closed; then the server is gone.
     */
    @Test
    void shutdownDrainsTheRequestsInFlight() throws Exception {
        ServeFixture.Tap tap = new ServeFixture.Tap().hold();
        ServeFixture f = ServeFixture.minilm(Engine.Settings.defaults(), Server.Options.loopback(0), tap);
        int port = f.server.address().getPort();
        try (Socket idle = new Socket("127.0.0.1", port)) {
            idle.setSoTimeout(30_000);
            BufferedReader in = new BufferedReader(new InputStreamReader(idle.getInputStream(), StandardCharsets.US_ASCII));
            OutputStream out = idle.getOutputStream();
            out.write("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            assertTrue(in.readLine().startsWith("HTTP/1.1 200"));
            drainResponse(in);

            CompletableFuture<HttpResponse<String>> inFlight = f.client.sendAsync(post(f, "/embed", q(Map.of("inputs", TEXTS.get(2)))),
                    HttpResponse.BodyHandlers.ofString());
            assertTrue(tap.entered.await(60, TimeUnit.SECONDS));
            Thread stopper = Thread.ofPlatform().start(f.server::shutdown);
            waitFor(() -> {
                try (Socket probe = new Socket("127.0.0.1", port)) {
                    return false;
                } catch (IOException e) {
                    return true; // refused: no longer accepting
                }
            });
            assertThrows(ConnectException.class, () -> new Socket("127.0.0.1", port).close());
            out.write("GET /health HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            String status = in.readLine();
            assertTrue(status.startsWith("HTTP/1.1 503"), status);
            Map<String, String> headers = drainResponse(in);
            assertEquals("close", headers.get("connection"));
            assertTrue(stopper.isAlive(), "the server must wait for the request in flight");
            assertFalse(inFlight.isDone());
            tap.open();
            HttpResponse<String> r = inFlight.get(60, TimeUnit.SECONDS);
            assertEquals(200, r.statusCode(), r.body());
            assertArrayEquals(floats(json(s.post("/embed", q(Map.of("inputs", TEXTS.get(2))))).get(0)), floats(json(r).get(0)));
            stopper.join(60_000);
            assertFalse(stopper.isAlive());
        } finally {
            f.close();
        }
    }

    /** Reads a response's headers (lower-cased names) and its Content-Length body. */
    private static Map<String, String> drainResponse(BufferedReader in) throws IOException {
        Map<String, String> h = new java.util.HashMap<>();
        String line;
        while ((line = in.readLine()) != null && !line.isEmpty()) {
            int c = line.indexOf(':');
            h.put(line.substring(0, c).trim().toLowerCase(java.util.Locale.ROOT), line.substring(c + 1).trim());
        }
        int n = Integer.parseInt(h.getOrDefault("content-length", "0"));
        for (int i = 0; i < n; i++) in.read();
        return h;
    }

    private static HttpRequest post(ServeFixture f, String path, String json) {
        return HttpRequest.newBuilder(f.uri(path)).POST(HttpRequest.BodyPublishers.ofString(json)).build();
    }

    private static void waitFor(java.util.function.BooleanSupplier c) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!c.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("condition not met within 60 s");
            Thread.sleep(20);
        }
    }

    @Test
    void timingHeadersAreNumbers() {
        HttpResponse<String> r = s.post("/embed", q(Map.of("inputs", "timing")));
        for (String h : new String[] {"x-tokenization-time", "x-queue-time", "x-inference-time", "x-compute-characters"}) {
            assertTrue(Long.parseLong(r.headers().firstValue(h).orElseThrow()) >= 0, h);
        }
        assertNotEquals("0", r.headers().firstValue("x-compute-tokens").orElseThrow());
        assertEquals(Duration.ofSeconds(60), s.engine.settings().requestTimeout());
    }
}
