package bertj.cli;

import bertj.backend.Backend;
import bertj.embed.SentenceEmbedder;
import bertj.model.LoadedModel;
import bertj.qa.Decoding;
import bertj.qa.QaSettings;
import bertj.serve.Engine;
import bertj.serve.http.Server;
import bertj.tokenizer.BertTokenizer;
import bertj.tokenizer.LowerCasing;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.function.Supplier;

@Command(name = "serve", description = {
        "An HTTP inference server with dynamic batching that speaks Hugging Face text-embeddings-inference's API:",
        "POST /embed, /v1/embeddings (OpenAI), /similarity, /tokenize, /qa (models with a QA head); GET /health,",
        "/info, /metrics (Prometheus). Listens on 127.0.0.1 unless --host says otherwise. SIGTERM or Ctrl-C stops",
        "accepting, lets the requests in flight finish (--shutdown-timeout), and exits 0. See docs/serving.md."})
public final class ServeCommand implements java.util.concurrent.Callable<Integer> {
    @Mixin
    ModelOptions model;
    @Mixin
    BackendOptions backend;
    @Mixin
    QaOptions qa;
    @Mixin
    VerboseOption verbose;

    @Option(names = "--host", paramLabel = "ADDR", defaultValue = "127.0.0.1",
            description = "Address to listen on (default ${DEFAULT-VALUE}: this machine only; 0.0.0.0: every interface).")
    String host;
    @Option(names = "--port", paramLabel = "N", defaultValue = "8080", description = "Port (default ${DEFAULT-VALUE}; 0: any free port).")
    int port;
    @Option(names = "--max-batch-tokens", paramLabel = "N", defaultValue = "16384",
            description = "Padded tokens per batch, longest sequence x sequences (default ${DEFAULT-VALUE}); a sequence longer runs"
                    + " alone, so 1 turns batching off.")
    int maxBatchTokens;
    @Option(names = "--max-batch-requests", paramLabel = "N", defaultValue = "0",
            description = "Sequences per batch (default 0: as many as --max-batch-tokens allows).")
    int maxBatchRequests;
    @Option(names = "--max-concurrent-requests", paramLabel = "N", defaultValue = "512",
            description = "Requests served at once; one more is answered 429 at once (default ${DEFAULT-VALUE}).")
    int maxConcurrentRequests;
    @Option(names = "--max-client-batch-size", paramLabel = "N", defaultValue = "32",
            description = "Inputs per request (default ${DEFAULT-VALUE}).")
    int maxClientBatchSize;
    @Option(names = "--payload-limit", paramLabel = "BYTES", defaultValue = "2000000",
            description = "Largest request body; a larger one is answered 413 (default ${DEFAULT-VALUE}).")
    long payloadLimit;
    @Option(names = "--api-key-env", paramLabel = "NAME",
            description = "Require \"Authorization: Bearer KEY\" (every route but /health and /metrics), KEY read from the"
                    + " environment variable NAME, so that it never shows in the process list.")
    String apiKeyEnv;
    @Option(names = "--auto-truncate", description = "Cut inputs longer than --max-input-length when a request does not say"
            + " \"truncate\" (default: refuse them with 422).")
    boolean autoTruncate;
    @Option(names = "--max-input-length", paramLabel = "N", defaultValue = "0",
            description = "Tokens per input, [CLS] and [SEP] included (default: the model's positions, as 'bertj embed').")
    int maxInputLength;
    @Option(names = "--pooling", paramLabel = "mean|cls", defaultValue = "mean",
            description = "Pooling of embeddings (default ${DEFAULT-VALUE}, as sentence-transformers' all-MiniLM-L6-v2).")
    String pooling;
    @Option(names = "--workers", paramLabel = "N", defaultValue = "1",
            description = "Model instances, each running one batch at a time (default ${DEFAULT-VALUE}); with the cpu backend give"
                    + " each a share of the cores with --threads.")
    int workers;
    @Option(names = "--model-id", paramLabel = "NAME",
            description = "Name reported by /info and /v1/embeddings (default: the --model argument's file name).")
    String modelId;
    @Option(names = "--max-context-chars", paramLabel = "N", defaultValue = "100000",
            description = "Longest /qa context, in characters (default ${DEFAULT-VALUE}).")
    int maxContextChars;
    @Option(names = "--shutdown-timeout", paramLabel = "SECONDS", defaultValue = "30",
            description = "On SIGTERM, wait at most this long for requests in flight (default ${DEFAULT-VALUE}).")
    int shutdownTimeout;
    @Option(names = "--request-timeout", paramLabel = "SECONDS", defaultValue = "60",
            description = "Answer 503 when the model has not answered a request within this (default ${DEFAULT-VALUE}).")
    int requestTimeout;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        CommandLine cl = spec.commandLine();
        PrintWriter err = cl.getErr();
        backend.check(cl);
        if (workers < 1) throw new CommandLine.ParameterException(cl, "--workers must be at least 1");
        if (shutdownTimeout < 0) throw new CommandLine.ParameterException(cl, "--shutdown-timeout must be 0 or more seconds");
        if (requestTimeout < 1) throw new CommandLine.ParameterException(cl, "--request-timeout must be at least 1 second");
        SentenceEmbedder.Pooling pool;
        try {
            pool = SentenceEmbedder.Pooling.parse(pooling);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cl, "--pooling: " + e.getMessage());
        }
        QaSettings qaSettings = qa.settings(cl, Decoding.MASKED);
        LowerCasing lowerCasing = qa.lowerCasing(cl, qaSettings);
        Engine.Settings settings;
        Server.Options options;
        try {
            settings = new Engine.Settings(maxBatchTokens, maxBatchRequests, maxConcurrentRequests, maxClientBatchSize, maxInputLength,
                    autoTruncate, maxContextChars, qaSettings, Duration.ofSeconds(requestTimeout));
            options = new Server.Options(host, port, payloadLimit, apiKey(), Duration.ofSeconds(10), Duration.ofSeconds(shutdownTimeout));
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cl, e.getMessage());
        }

        CountDownLatch stop = new CountDownLatch(1);
        Signals signals = Signals.install(stop);
        Server server = new Server(options, line -> {
            err.println("bertj serve: " + line);
            err.flush();
        });
        try {
            server.start();
        } catch (UncheckedIOException e) {
            signals.restore();
            throw new Main.UserError(e.getMessage());
        }
        try {
            err.println("bertj serve: listening on " + server.url() + ", pid " + ProcessHandle.current().pid()
                    + " (loading the model; /health answers 503 until it is ready)");
            err.flush();
            VocabularyOptions.Loaded read = qa.load(model, lowerCasing);
            LoadedModel m = read.model();
            BertTokenizer tok = read.tokenizer();
            List<Supplier<Backend>> backends = new ArrayList<>();
            for (int i = 0; i < workers; i++) backends.add(backend::create);
            String id = modelId != null ? modelId : model.model.getFileName() == null ? model.model.toString() : model.model.getFileName().toString();
            Engine engine = Engine.start(id, m, tok, pool, backends, settings, server.metrics(), null);
            server.ready(engine);
            var c = m.config();
            err.printf("bertj serve: ready on %s: %s (%s, %d layers, hidden %d%s), %s backend (%s), %d worker%s%s%n", server.url(), id,
                    m.format(), c.numLayers(), c.hiddenSize(), engine.hasQaHead() ? ", QA head" : "", engine.backend(), engine.precision(),
                    workers, workers == 1 ? "" : "s", options.apiKey() != null ? ", API key required" : "");
            err.flush();
            await(stop);
            err.println("bertj serve: " + signals.received() + " received: no new connections; finishing the requests in flight (at most "
                    + shutdownTimeout + " s)");
            err.flush();
        } catch (RuntimeException | Error e) {
            server.shutdown();
            signals.restore();
            throw e;
        }
        server.shutdown();
        // The handlers stay: a late second signal (the launcher forwarding one the process group also got) must not
        // turn this exit into a 143.
        err.println("bertj serve: stopped");
        err.flush();
        return 0;
    }

    private String apiKey() {
        if (apiKeyEnv == null) return null;
        String key = System.getenv(apiKeyEnv);
        if (key == null || key.isBlank()) {
            throw new IllegalArgumentException("--api-key-env " + apiKeyEnv + ": the environment variable " + apiKeyEnv + " is not set or empty");
        }
        return key.trim();
    }

    private static void await(CountDownLatch stop) {
        while (true) {
            try {
                stop.await();
                return;
            } catch (InterruptedException e) {
                // only a signal ends the server
            }
        }
    }

    /**
     * SIGTERM and SIGINT start a graceful shutdown instead of ending the JVM (which would exit 143 without draining).
     * Later signals are ignored: the launcher forwards a SIGTERM that the whole process group also received.
     */
    static final class Signals {
        private final List<Object[]> previous = new ArrayList<>();
        private volatile String received = "a signal";

        @SuppressWarnings("removal")
        static Signals install(CountDownLatch stop) {
            Signals s = new Signals();
            for (String name : new String[] {"TERM", "INT"}) {
                try {
                    sun.misc.Signal sig = new sun.misc.Signal(name);
                    sun.misc.SignalHandler old = sun.misc.Signal.handle(sig, x -> {
                        if (stop.getCount() > 0) s.received = "SIG" + name;
                        stop.countDown();
                    });
                    s.previous.add(new Object[] {sig, old});
                } catch (IllegalArgumentException | UnsupportedOperationException e) {
                    // the platform does not have the signal, or the JVM keeps it (-Xrs): the default applies
                }
            }
            return s;
        }

        String received() {
            return received;
        }

        void restore() {
            for (Object[] p : previous) {
                try {
                    sun.misc.Signal.handle((sun.misc.Signal) p[0], (sun.misc.SignalHandler) p[1]);
                } catch (IllegalArgumentException e) {
                    // nothing to restore
                }
            }
        }
    }
}
