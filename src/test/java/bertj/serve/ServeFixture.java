package bertj.serve;

import bertj.backend.Backend;
import bertj.backend.cpu.CpuBackend;
import bertj.embed.SentenceEmbedder;
import bertj.model.LoadedModel;
import bertj.model.ModelLoader;
import bertj.serve.http.Server;
import bertj.tokenizer.BertTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/** A real server on an ephemeral loopback port, its engine, and a real HTTP client (java.net.http). */
public final class ServeFixture implements AutoCloseable {
    public static final ObjectMapper JSON = new ObjectMapper();
    private static LoadedModel minilm;

    /** Hidden 32, 2 layers, 4 heads, 512 positions, a QA head: small, over the real BERT-uncased vocabulary. */
    public static final bertj.model.BertConfig SMALL = new bertj.model.BertConfig(30522, 32, 2, 4, 64, 512, 2, 1e-12,
            bertj.model.GeluForm.ERF);

    /**
     * A Hugging Face style directory with a random {@link #SMALL} BERT (QA head included): model.safetensors,
     * config.json, and all-MiniLM-L6-v2's tokenizer.json (BERT's uncased vocabulary). Its answers are meaningless
     * but exactly determined, and it loads in milliseconds.
     */
    public static Path smallModel(Path dir, long seed) throws IOException {
        java.nio.file.Files.createDirectories(dir);
        bertj.readers.SafeTensors.write(dir.resolve("model.safetensors"), bertj.testing.RandomBert.tensors(SMALL, seed), java.util.Map.of());
        java.nio.file.Files.writeString(dir.resolve("config.json"), """
                {"vocab_size": 30522, "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
                 "intermediate_size": 64, "max_position_embeddings": 512, "type_vocab_size": 2, "hidden_act": "gelu"}
                """);
        try (java.io.InputStream in = ServeFixture.class.getClassLoader().getResourceAsStream("all-minilm-l6-v2-tokenizer.json")) {
            if (in == null) throw new AssertionError("all-minilm-l6-v2-tokenizer.json is not on the test class path");
            java.nio.file.Files.write(dir.resolve("tokenizer.json"), in.readAllBytes());
        }
        return dir;
    }

    /** all-MiniLM-L6-v2, loaded once for all tests. */
    public static synchronized LoadedModel minilm() {
        if (minilm == null) minilm = ModelLoader.load(Path.of("minilm"));
        return minilm;
    }

    public static BertTokenizer tokenizer(LoadedModel m) {
        return BertTokenizer.load(m.vocabulary(null), null);
    }

    /** Records the rows of every batch, and can hold batches until released. */
    public static final class Tap implements UnaryOperator<Batcher.Runner<Engine.Row, Engine.Output>> {
        public final List<List<Engine.Row>> batches = Collections.synchronizedList(new ArrayList<>());
        public final CountDownLatch entered = new CountDownLatch(1);
        private volatile CountDownLatch gate;
        public volatile RuntimeException fail;

        /** From now on, batches wait until {@link #open}. */
        public Tap hold() {
            gate = new CountDownLatch(1);
            return this;
        }

        public void open() {
            CountDownLatch g = gate;
            if (g != null) g.countDown();
        }

        @Override
        public Batcher.Runner<Engine.Row, Engine.Output> apply(Batcher.Runner<Engine.Row, Engine.Output> r) {
            return rows -> {
                batches.add(List.copyOf(rows));
                entered.countDown();
                CountDownLatch g = gate;
                try {
                    if (g != null && !g.await(60, TimeUnit.SECONDS)) throw new IllegalStateException("the test never opened the gate");
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
                if (fail != null) throw fail;
                return r.run(rows);
            };
        }
    }

    public final Server server;
    public final Engine engine;
    public final Tap tap;
    public final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();
    public final List<String> log = Collections.synchronizedList(new ArrayList<>());

    /** A cpu backend on two threads per worker. */
    public static Supplier<Backend> cpu() {
        return () -> new CpuBackend(2);
    }

    public ServeFixture(LoadedModel model, Engine.Settings settings, Server.Options options, Tap tap) {
        this.tap = tap == null ? new Tap() : tap;
        server = new Server(options, log::add);
        server.start();
        engine = Engine.start("minilm", model, tokenizer(model), SentenceEmbedder.Pooling.MEAN, List.of(cpu()), settings,
                server.metrics(), this.tap);
        server.ready(engine);
    }

    public static ServeFixture minilm(Engine.Settings settings, Server.Options options, Tap tap) {
        return new ServeFixture(minilm(), settings, options, tap);
    }

    public URI uri(String path) {
        return URI.create(server.url() + path);
    }

    public HttpResponse<String> post(String path, String json) {
        return send(HttpRequest.newBuilder(uri(path)).POST(HttpRequest.BodyPublishers.ofString(json))
                .header("Content-Type", "application/json").build());
    }

    public HttpResponse<String> get(String path) {
        return send(HttpRequest.newBuilder(uri(path)).GET().build());
    }

    public HttpResponse<String> send(HttpRequest r) {
        try {
            return client.send(r, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public static JsonNode json(HttpResponse<String> r) {
        try {
            return JSON.readTree(r.body());
        } catch (IOException e) {
            throw new AssertionError("not JSON (" + r.statusCode() + "): " + r.body(), e);
        }
    }

    /** The JSON string of a value. */
    public static String q(Object o) {
        try {
            return JSON.writeValueAsString(o);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        tap.open();
        server.shutdown();
    }
}
