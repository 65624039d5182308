package bertj.serve.http;

import bertj.serve.Engine;
import bertj.serve.Metrics;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.function.Consumer;

/**
 * {@code bertj serve} put together: the {@link Api} on a {@link JdkHttpTransport}, listening before the model is
 * loaded (answering 503 until {@link #ready}), and a shutdown that stops accepting, lets the requests in flight
 * finish, then frees the model.
 */
public final class Server {
    /**
     * @param host            address to bind (127.0.0.1: this machine only)
     * @param port            0: any free port
     * @param payloadLimit    largest request body, bytes
     * @param apiKey          required as "Authorization: Bearer KEY" on every route but /health and /metrics; null: none
     * @param healthTimeout   longest /health may wait for its forward pass
     * @param shutdownTimeout longest a shutdown waits for requests in flight
     */
    public record Options(String host, int port, long payloadLimit, String apiKey, Duration healthTimeout, Duration shutdownTimeout) {
        public Options {
            if (port < 0 || port > 65535) throw new IllegalArgumentException("--port must be between 0 and 65535 (got " + port + ")");
            if (payloadLimit < 1) throw new IllegalArgumentException("--payload-limit must be at least 1 byte (got " + payloadLimit + ")");
            if (apiKey != null && apiKey.isBlank()) throw new IllegalArgumentException("the API key is empty");
        }

        public static Options loopback(int port) {
            return new Options("127.0.0.1", port, 2_000_000, null, Duration.ofSeconds(10), Duration.ofSeconds(30));
        }

        public Options withApiKey(String key) {
            return new Options(host, port, payloadLimit, key, healthTimeout, shutdownTimeout);
        }

        public Options withPayloadLimit(long bytes) {
            return new Options(host, port, bytes, apiKey, healthTimeout, shutdownTimeout);
        }
    }

    private final Options options;
    private final Metrics metrics = new Metrics();
    private final Api api;
    private final HttpTransport transport;
    private volatile Engine engine;
    private boolean stopped;

    public Server(Options options, Consumer<String> log) {
        this.options = options;
        this.api = new Api(() -> engine, options.apiKey(), options.payloadLimit(), metrics, options.healthTimeout(), log);
        this.transport = new JdkHttpTransport(new InetSocketAddress(options.host(), options.port()), options.payloadLimit(), api);
    }

    /** Starts listening; until {@link #ready}, requests are answered 503 (and /metrics 200). */
    public void start() {
        transport.start();
    }

    /** The metrics the engine should record into (they are served at /metrics). */
    public Metrics metrics() {
        return metrics;
    }

    /** Serves this engine from now on; the server owns it and closes it on {@link #shutdown}. */
    public void ready(Engine e) {
        this.engine = e;
    }

    public InetSocketAddress address() {
        return transport.address();
    }

    /** "http://127.0.0.1:8080". */
    public String url() {
        InetSocketAddress a = address();
        String host = a.getAddress().getHostAddress();
        return "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort();
    }

    /**
     * Drains and stops: new connections are refused and new requests on open ones get 503 (and the connection
     * closed); requests in flight are answered, waiting at most the shutdown timeout; then the model is freed.
     * Idempotent.
     */
    public synchronized void shutdown() {
        if (stopped) return;
        stopped = true;
        api.drain();
        transport.stop(options.shutdownTimeout());
        Engine e = engine;
        if (e != null) e.close(Duration.ofSeconds(5));
    }
}
