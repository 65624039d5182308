package bertj.serve.http;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * {@link HttpTransport} on the JDK's own HTTP server (com.sun.net.httpserver), one virtual thread per request.
 * The server's settings are system properties read once, when its first instance is made; unless already set they
 * are: TCP_NODELAY on ({@code sun.net.httpserver.nodelay}: small responses are not held back by Nagle's algorithm),
 * up to 4096 idle keep-alive connections (the default 200 would close connections of a 256-client load) kept
 * 60 s, and 120 s at most to read a request or write a response (a client that stalls does not hold a
 * connection forever).
 */
public final class JdkHttpTransport implements HttpTransport {
    private final InetSocketAddress bind;
    private final long payloadLimit;
    private final Handler handler;
    private HttpServer server;
    private ExecutorService executor;

    static {
        setDefault("sun.net.httpserver.nodelay", "true");
        setDefault("sun.net.httpserver.maxIdleConnections", "4096");
        setDefault("sun.net.httpserver.idleInterval", "60");
        setDefault("sun.net.httpserver.maxReqTime", "120");
        setDefault("sun.net.httpserver.maxRspTime", "120");
    }

    private static void setDefault(String key, String value) {
        if (System.getProperty(key) == null) System.setProperty(key, value);
    }

    /**
     * @param payloadLimit largest request body read, in bytes; a larger one reaches the handler as
     *                     {@link Request#tooLarge()} and is not read
     */
    public JdkHttpTransport(InetSocketAddress bind, long payloadLimit, Handler handler) {
        this.bind = bind;
        this.payloadLimit = payloadLimit;
        this.handler = handler;
    }

    @Override
    public void start() {
        try {
            server = HttpServer.create(bind, 1024);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on " + bind.getHostString() + ":" + bind.getPort() + ": " + e.getMessage()
                    + " (is the port in use?)", e);
        }
        executor = Executors.newVirtualThreadPerTaskExecutor();
        server.setExecutor(executor);
        server.createContext("/", this::exchange);
        server.start();
    }

    @Override
    public InetSocketAddress address() {
        return server.getAddress();
    }

    private void exchange(HttpExchange x) {
        try (x) {
            Response r;
            try {
                r = handler.handle(read(x));
            } catch (RuntimeException | Error e) {
                // a handler never throws; if it does, the client still gets an answer
                byte[] b = ("{\"error\":\"internal error\",\"error_type\":\"Internal\"}").getBytes(StandardCharsets.UTF_8);
                r = new Response(500, "application/json", b, Map.of(), true);
            }
            write(x, r);
        } catch (IOException e) {
            // the client went away: nothing to answer
        }
    }

    private Request read(HttpExchange x) throws IOException {
        long received = System.nanoTime();
        Map<String, List<String>> headers = new LinkedHashMap<>();
        for (Map.Entry<String, List<String>> h : x.getRequestHeaders().entrySet()) {
            headers.put(h.getKey().toLowerCase(Locale.ROOT), List.copyOf(h.getValue()));
        }
        String method = x.getRequestMethod(), path = x.getRequestURI().getRawPath();
        String length = x.getRequestHeaders().getFirst("Content-Length");
        long declared = -1;
        if (length != null) {
            try {
                declared = Long.parseLong(length.trim());
            } catch (NumberFormatException e) {
                declared = -1;
            }
        }
        if (declared > payloadLimit) return new Request(method, path, headers, new byte[0], true, received);
        byte[] body;
        try (InputStream in = x.getRequestBody()) {
            body = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, payloadLimit + 1));
        }
        if (body.length > payloadLimit) return new Request(method, path, headers, new byte[0], true, received);
        return new Request(method, path, headers, body, false, received);
    }

    private static void write(HttpExchange x, Response r) throws IOException {
        Headers h = x.getResponseHeaders();
        if (r.contentType() != null) h.set("Content-Type", r.contentType());
        r.headers().forEach(h::set);
        if (r.closeConnection()) h.set("Connection", "close");
        byte[] body = r.body();
        x.sendResponseHeaders(r.status(), body.length == 0 ? -1 : body.length);
        if (body.length > 0) {
            try (OutputStream out = x.getResponseBody()) {
                out.write(body);
            }
        }
    }

    @Override
    public void stop(Duration drain) {
        if (server == null) return;
        server.stop((int) Math.max(0, Math.min(Integer.MAX_VALUE, (drain.toMillis() + 999) / 1000)));
        executor.shutdown();
        try {
            executor.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
