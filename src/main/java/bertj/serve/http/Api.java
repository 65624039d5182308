package bertj.serve.http;

import bertj.embed.SentenceEmbedder;
import bertj.qa.Answer;
import bertj.qa.QaSettings;
import bertj.serve.Engine;
import bertj.serve.Metrics;
import bertj.serve.ServeException;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The HTTP API of {@code bertj serve}, independent of the server that carries it: routes a request, checks the API
 * key, parses the body ({@link Requests}), asks the {@link Engine}, and writes JSON — or maps what went wrong to a
 * status and {@code {"error", "error_type"}} ({@link ErrorType}). Never throws, never answers with a stack trace.
 * Thread-safe.
 */
public final class Api implements HttpTransport.Handler {
    private static final JsonFactory JSON = new JsonFactory();
    private static final String JSON_TYPE = "application/json";
    private static final String METRICS_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private final Supplier<Engine> engine;
    private final byte[] apiKey;
    private final long payloadLimit;
    private final Metrics metrics;
    private final Duration healthTimeout;
    private final java.util.function.Consumer<String> log;
    private final String version;
    private volatile boolean draining;
    private volatile long drainStarted;
    private final Map<Route, Metrics.Counter> count = new LinkedHashMap<>(), success = new LinkedHashMap<>();
    private final Map<Route, Metrics.Histogram> duration = new LinkedHashMap<>();

    /**
     * @param engine       the engine, or null while the model is loading (then everything but /metrics answers 503)
     * @param apiKey       the key clients must send as "Authorization: Bearer KEY", or null for none
     * @param payloadLimit largest request body in bytes (for /info)
     * @param log          where internal errors are reported (one line each), or null
     */
    public Api(Supplier<Engine> engine, String apiKey, long payloadLimit, Metrics metrics, Duration healthTimeout,
               java.util.function.Consumer<String> log) {
        this.engine = engine;
        this.apiKey = apiKey == null ? null : ("Bearer " + apiKey).getBytes(StandardCharsets.UTF_8);
        this.payloadLimit = payloadLimit;
        this.metrics = metrics;
        this.healthTimeout = healthTimeout;
        this.log = log;
        String v = Api.class.getPackage().getImplementationVersion();
        this.version = v == null ? "development build" : v;
        for (Route r : Route.values()) {
            count.put(r, metrics.counter("te_request_count", "Requests received, by route", "route", r.path()));
            success.put(r, metrics.counter("te_request_success", "Requests answered 200, by route", "route", r.path()));
            duration.put(r, metrics.histogram("te_request_duration", "Requests from first byte read to response, seconds",
                    Metrics.DURATION_BUCKETS, "route", r.path()));
        }
    }

    /**
     * Shutting down: a request received from now on (but /metrics) is answered 503 and its connection closed; one
     * received before — in flight, perhaps still uploading its body — is served as usual, then its connection closed.
     */
    public void drain() {
        drainStarted = System.nanoTime();
        draining = true;
    }

    private boolean refused(HttpTransport.Request r) {
        return draining && r.received() - drainStarted >= 0;
    }

    @Override
    public HttpTransport.Response handle(HttpTransport.Request request) {
        long t0 = System.nanoTime();
        Route route = Route.of(request.path());
        if (route == null) {
            return error(null, new ApiException(ErrorType.NOT_FOUND, "no endpoint " + request.path() + "; the endpoints are " + Route.list()));
        }
        if (!route.method().equals(request.method())) {
            HttpTransport.Response r = error(route, new ApiException(ErrorType.METHOD_NOT_ALLOWED,
                    request.method() + " " + route.path() + " is not served; use " + route.method()));
            Map<String, String> h = new LinkedHashMap<>(r.headers());
            h.put("Allow", route.method());
            return new HttpTransport.Response(r.status(), r.contentType(), r.body(), h, r.closeConnection());
        }
        count.get(route).inc();
        try {
            if (apiKey != null && !route.open() && !authorized(request.header("Authorization"))) {
                throw new ApiException(ErrorType.UNAUTHORIZED, "missing or wrong API key: send the header \"Authorization: Bearer <key>\"");
            }
            if (request.tooLarge()) {
                throw new ApiException(ErrorType.PAYLOAD_TOO_LARGE, "the request body is over this server's limit of " + payloadLimit
                        + " bytes (--payload-limit); send fewer or shorter inputs");
            }
            if (route == Route.METRICS) return ok(route, t0, new HttpTransport.Response(200, METRICS_TYPE,
                    metrics.prometheus().getBytes(StandardCharsets.UTF_8), Map.of(), false));
            if (refused(request)) throw new ApiException(ErrorType.UNHEALTHY, "the server is shutting down; send the request to another instance");
            Engine e = engine.get();
            if (e == null) throw new ApiException(ErrorType.UNHEALTHY, "the model is still loading; try again shortly");
            HttpTransport.Response r = switch (route) {
                case HEALTH -> health(e);
                case INFO -> json(200, info(e), Map.of());
                case TOKENIZE -> tokenize(e, Requests.tokenize(request.body(), e.settings().maxClientBatchSize()));
                default -> inference(e, route, request.body());
            };
            return ok(route, t0, r);
        } catch (ApiException ex) {
            return error(route, ex);
        } catch (ServeException ex) {
            return error(route, map(ex));
        } catch (RuntimeException | Error ex) {
            if (log != null) log.accept("internal error on " + route.path() + ": " + ex);
            return error(route, new ApiException(ErrorType.INTERNAL, "internal error (" + ex.getClass().getSimpleName()
                    + "); the server log has the details"));
        }
    }

    private HttpTransport.Response ok(Route route, long t0, HttpTransport.Response r) {
        if (r.status() == 200) success.get(route).inc();
        duration.get(route).observeNanos(System.nanoTime() - t0);
        return draining ? r.withClose() : r;
    }

    private boolean authorized(String header) {
        return header != null && MessageDigest.isEqual(apiKey, header.trim().getBytes(StandardCharsets.UTF_8));
    }

    private HttpTransport.Response health(Engine e) {
        if (!e.healthy(healthTimeout)) {
            throw new ApiException(ErrorType.UNHEALTHY, "unhealthy: a forward pass of the model did not come back within "
                    + healthTimeout.toSeconds() + " s, or came back with non-finite values");
        }
        return new HttpTransport.Response(200, JSON_TYPE, new byte[0], Map.of(), false);
    }

    /** The routes that run the model: one admission each. */
    private HttpTransport.Response inference(Engine e, Route route, byte[] body) {
        Requests.Parsed req = Requests.parse(route, body, e.settings().maxClientBatchSize());
        Engine.Permit permit = e.admit();
        try {
            return switch (req) {
                case Requests.Embed r -> {
                    Engine.Embedded out = e.embed(r.inputs(), truncate(e, r.truncate()), r.normalize());
                    yield json(200, g -> {
                        g.writeStartArray();
                        for (double[] v : out.vectors()) floats(g, v);
                        g.writeEndArray();
                    }, timing(out.timing(), out.totalTokens(), chars(r.inputs())));
                }
                case Requests.OpenAiEmbeddings r -> openAi(e, r);
                case Requests.Similarity r -> similarity(e, r);
                case Requests.Qa r -> qa(e, r);
                case Requests.Tokenize r -> throw new IllegalStateException("tokenize is not an inference route");
            };
        } finally {
            permit.close();
        }
    }

    private HttpTransport.Response openAi(Engine e, Requests.OpenAiEmbeddings r) {
        int dims = e.config().hiddenSize();
        if (r.dimensions() != null && r.dimensions() != dims) {
            throw new ApiException(ErrorType.VALIDATION, "\"dimensions\": " + r.dimensions() + " is not supported: this model's embeddings have "
                    + dims + " dimensions");
        }
        Engine.Embedded out = e.embed(r.inputs(), e.settings().autoTruncate(), true);
        int tokens = out.totalTokens();
        return json(200, g -> {
            g.writeStartObject();
            g.writeStringField("object", "list");
            g.writeArrayFieldStart("data");
            for (int i = 0; i < out.vectors().size(); i++) {
                g.writeStartObject();
                g.writeStringField("object", "embedding");
                g.writeFieldName("embedding");
                if (r.base64()) g.writeString(base64(out.vectors().get(i)));
                else floats(g, out.vectors().get(i));
                g.writeNumberField("index", i);
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeStringField("model", e.modelId());
            g.writeObjectFieldStart("usage");
            g.writeNumberField("prompt_tokens", tokens);
            g.writeNumberField("total_tokens", tokens);
            g.writeEndObject();
            g.writeEndObject();
        }, timing(out.timing(), tokens, chars(r.inputs())));
    }

    private HttpTransport.Response similarity(Engine e, Requests.Similarity r) {
        List<String> texts = new ArrayList<>(r.sentences().size() + 1);
        texts.add(r.source());
        texts.addAll(r.sentences());
        // as `bertj similarity` computes it: cosines of the L2-normalised embeddings
        Engine.Embedded out = e.embed(texts, truncate(e, r.truncate()), true);
        return json(200, g -> {
            g.writeStartArray();
            for (int i = 1; i < out.vectors().size(); i++) {
                g.writeNumber((float) SentenceEmbedder.cosine(out.vectors().get(0), out.vectors().get(i)));
            }
            g.writeEndArray();
        }, timing(out.timing(), out.totalTokens(), chars(texts)));
    }

    private HttpTransport.Response qa(Engine e, Requests.Qa r) {
        QaSettings d = e.settings().qa();
        QaSettings s;
        try {
            s = new QaSettings(r.maxSeqLen() != null ? r.maxSeqLen() : d.maxSeqLength(), r.docStride() != null ? r.docStride() : d.docStride(),
                    r.maxQuestionLen() != null ? r.maxQuestionLen() : d.maxQueryLength(), d.nBestSize(),
                    r.maxAnswerLen() != null ? r.maxAnswerLen() : d.maxAnswerLength(), d.decoding());
        } catch (IllegalArgumentException ex) {
            throw new ApiException(ErrorType.VALIDATION, "parameters: " + ex.getMessage());
        }
        Engine.Answered out = e.answer(r.question(), r.context(), s, r.topK() == null ? 1 : r.topK());
        return json(200, g -> {
            g.writeStartArray();
            for (Answer a : out.answers()) {
                g.writeStartObject();
                g.writeStringField("answer", a.text());
                g.writeNumberField("score", a.probability());
                intOrNull(g, "start", a.startOrNull()); // null for NVIDIA's placeholder "empty"
                intOrNull(g, "end", a.endOrNull());
                g.writeEndObject();
            }
            g.writeEndArray();
        }, timing(out.timing(), out.tokens(), chars(List.of(r.question(), r.context()))));
    }

    private HttpTransport.Response tokenize(Engine e, Requests.Tokenize r) {
        List<List<Engine.Token>> all = new ArrayList<>();
        for (String text : r.inputs()) all.add(e.tokenize(text, r.addSpecialTokens()));
        return json(200, g -> {
            g.writeStartArray();
            for (int i = 0; i < all.size(); i++) {
                String text = r.inputs().get(i);
                g.writeStartArray();
                for (Engine.Token t : all.get(i)) {
                    g.writeStartObject();
                    g.writeNumberField("id", t.id());
                    g.writeStringField("text", t.special() ? t.token() : codePoints(text, t.start(), t.end()));
                    g.writeBooleanField("special", t.special());
                    intOrNull(g, "start", t.special() ? null : t.start());
                    intOrNull(g, "stop", t.special() ? null : t.end());
                    g.writeEndObject();
                }
                g.writeEndArray();
            }
            g.writeEndArray();
        }, Map.of());
    }

    private JsonBody info(Engine e) {
        return g -> {
            g.writeStartObject();
            g.writeStringField("model_id", e.modelId());
            g.writeNullField("model_sha");
            g.writeStringField("model_dtype", e.precision());
            g.writeObjectFieldStart("model_type");
            g.writeObjectFieldStart("embedding");
            g.writeStringField("pooling", e.pooling().label());
            g.writeEndObject();
            g.writeEndObject();
            Engine.Settings s = e.settings();
            g.writeNumberField("max_concurrent_requests", s.maxConcurrentRequests());
            g.writeNumberField("max_input_length", e.maxInputLength());
            g.writeNumberField("max_batch_tokens", s.maxBatchTokens());
            if (s.maxBatchRequests() == 0) g.writeNullField("max_batch_requests");
            else g.writeNumberField("max_batch_requests", s.maxBatchRequests());
            g.writeNumberField("max_client_batch_size", s.maxClientBatchSize());
            g.writeBooleanField("auto_truncate", s.autoTruncate());
            g.writeNumberField("tokenization_workers", Runtime.getRuntime().availableProcessors());
            g.writeStringField("version", version);
            g.writeNullField("sha");
            g.writeNullField("docker_label");
            // bertj's own fields
            g.writeStringField("backend", e.backend());
            g.writeStringField("precision", e.precision());
            g.writeNumberField("workers", e.workers());
            g.writeNumberField("payload_limit", payloadLimit);
            g.writeNumberField("hidden_size", e.config().hiddenSize());
            g.writeNumberField("layers", e.config().numLayers());
            g.writeStringField("format", e.model().format());
            g.writeBooleanField("question_answering", e.hasQaHead());
            if (e.hasQaHead()) {
                QaSettings q = s.qa();
                g.writeObjectFieldStart("qa");
                g.writeNumberField("max_seq_len", q.maxSeqLength());
                g.writeNumberField("doc_stride", q.docStride());
                g.writeNumberField("max_question_len", q.maxQueryLength());
                g.writeNumberField("max_answer_len", q.maxAnswerLength());
                g.writeNumberField("n_best_size", q.nBestSize());
                g.writeStringField("decoding", q.decoding().cliName());
                g.writeNumberField("max_context_chars", s.maxContextChars());
                g.writeEndObject();
            }
            g.writeEndObject();
        };
    }

    // ---------------------------------------------------------------- helpers

    private static boolean truncate(Engine e, Boolean asked) {
        return asked != null ? asked : e.settings().autoTruncate();
    }

    private static long chars(List<String> texts) {
        long n = 0;
        for (String t : texts) n += t.codePointCount(0, t.length());
        return n;
    }

    /** TEI's response headers: tokens, characters, and where the time went (milliseconds). */
    private static Map<String, String> timing(Engine.Timing t, long tokens, long chars) {
        Map<String, String> h = new LinkedHashMap<>();
        h.put("x-compute-tokens", Long.toString(tokens));
        h.put("x-compute-characters", Long.toString(chars));
        h.put("x-tokenization-time", Long.toString(t.tokenization() / 1_000_000));
        h.put("x-queue-time", Long.toString(t.queue() / 1_000_000));
        h.put("x-inference-time", Long.toString(t.inference() / 1_000_000));
        return h;
    }

    private static String codePoints(String s, int start, int end) {
        int from = s.offsetByCodePoints(0, start);
        return s.substring(from, s.offsetByCodePoints(from, end - start));
    }

    /** "name": v, or "name": null. */
    private static void intOrNull(JsonGenerator g, String name, Integer v) throws IOException {
        if (v == null) g.writeNullField(name);
        else g.writeNumberField(name, v);
    }

    private static void floats(JsonGenerator g, double[] v) throws IOException {
        g.writeStartArray();
        for (double x : v) g.writeNumber((float) x);
        g.writeEndArray();
    }

    /** float32 little-endian, base64: what OpenAI's clients decode. */
    static String base64(double[] v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (double x : v) b.putFloat((float) x);
        return Base64.getEncoder().encodeToString(b.array());
    }

    @FunctionalInterface
    private interface JsonBody {
        void write(JsonGenerator g) throws IOException;
    }

    private static HttpTransport.Response json(int status, JsonBody body, Map<String, String> headers) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        try (JsonGenerator g = JSON.createGenerator(out)) {
            body.write(g);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new HttpTransport.Response(status, JSON_TYPE, out.toByteArray(), headers, false);
    }

    private static ApiException map(ServeException e) {
        ErrorType t = switch (e.reason()) {
            case EMPTY -> ErrorType.EMPTY;
            case INVALID -> ErrorType.VALIDATION;
            case OVERLOADED -> ErrorType.OVERLOADED;
            case UNAVAILABLE -> ErrorType.UNHEALTHY;
            case FAILED -> ErrorType.BACKEND;
        };
        return new ApiException(t, e.getMessage());
    }

    private HttpTransport.Response error(Route route, ApiException e) {
        if (route != null) {
            metrics.counter("te_request_failure", "Requests refused or failed, by route and error type", "route", route.path(),
                    "err", e.type().label().toLowerCase(Locale.ROOT)).inc();
        }
        String message = e.getMessage() == null ? e.type().label() : e.getMessage();
        HttpTransport.Response r = json(e.type().status(), g -> {
            g.writeStartObject();
            g.writeStringField("error", message);
            g.writeStringField("error_type", e.type().label());
            if (route == Route.OPENAI_EMBEDDINGS) {
                // and the fields TEI's OpenAI route answers with
                g.writeStringField("message", message);
                g.writeNumberField("code", e.type().status());
                g.writeStringField("type", e.type().label());
            }
            g.writeEndObject();
        }, e.type() == ErrorType.UNAUTHORIZED ? Map.of("WWW-Authenticate", "Bearer") : Map.of());
        // A body left unread, or a server going away: do not keep the connection.
        return draining || e.type() == ErrorType.PAYLOAD_TOO_LARGE ? r.withClose() : r;
    }
}
