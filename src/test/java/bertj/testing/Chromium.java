package bertj.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * A tiny driver for Debian's headless Chromium over the DevTools protocol, written for bertj's browser tests:
 * start the browser with a fresh profile and {@code --remote-debugging-port=0}, read the port it chose from the
 * profile's DevToolsActivePort file, open one WebSocket (the JDK's java.net.http client) to the browser, attach to
 * a new page in flat session mode, and send it commands: navigate, evaluate, click, screenshot. No downloaded
 * browser and no library beyond the JDK and Jackson.
 *
 * <p>The flags keep Chromium off the network (the project's machines have none): no background networking,
 * component updates, sync or QUIC, no first-run work. Not safe for concurrent callers: one test drives it.
 */
public final class Chromium implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(60);

    private final Process process;
    private final Path profile;
    private final Path log;
    private final WebSocket socket;
    private final AtomicInteger nextId = new AtomicInteger();
    private final Map<Integer, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
    private final List<JsonNode> events = new java.util.concurrent.CopyOnWriteArrayList<>();
    private String session;

    /** Where Chromium is: $BERTJ_CHROMIUM, else Debian's /usr/bin/chromium (or a chromium-browser on PATH's usual places). */
    public static Optional<Path> find() {
        String env = System.getenv("BERTJ_CHROMIUM");
        if (env != null && !env.isBlank()) return Optional.of(Path.of(env)).filter(Files::isExecutable); // no fallback: it was asked for
        return Stream.of("/usr/bin/chromium", "/usr/bin/chromium-browser", "/snap/bin/chromium")
                .map(Path::of).filter(Files::isExecutable).findFirst();
    }

    /** Starts a headless browser with a viewport of width × height CSS pixels (device scale 1). */
    public static Chromium launch(Path executable, Path workDir, int width, int height) throws IOException {
        Path profile = Files.createTempDirectory(workDir, "chromium-profile-");
        Path log = workDir.resolve(profile.getFileName() + ".log");
        List<String> cmd = new ArrayList<>(List.of(executable.toString(),
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
                "--disable-component-update", "--disable-sync", "--disable-quic", "--disable-extensions",
                "--no-default-browser-check", "--disable-dev-shm-usage", "--mute-audio", "--hide-scrollbars",
                "--force-color-profile=srgb", "--force-device-scale-factor=1", "--window-size=" + width + "," + height,
                "--user-data-dir=" + profile, "--remote-debugging-port=0", "about:blank"));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            Path portFile = profile.resolve("DevToolsActivePort");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            List<String> lines = List.of();
            while (System.nanoTime() < deadline) {
                if (!p.isAlive()) throw new IOException("chromium exited with " + p.exitValue() + ": " + tail(log));
                if (Files.exists(portFile)) {
                    lines = Files.readAllLines(portFile);
                    if (lines.size() >= 2) break;
                }
                Thread.sleep(50);
            }
            if (lines.size() < 2) throw new IOException("chromium wrote no DevToolsActivePort within 60 s: " + tail(log));
            URI uri = URI.create("ws://127.0.0.1:" + lines.get(0).trim() + lines.get(1).trim());
            Chromium c = new Chromium(p, profile, log, uri);
            c.attach(width, height);
            return c;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            throw new IOException("interrupted while starting chromium", e);
        } catch (IOException | RuntimeException e) {
            p.destroyForcibly();
            throw e;
        }
    }

    private Chromium(Process process, Path profile, Path log, URI uri) throws IOException {
        this.process = process;
        this.profile = profile;
        this.log = log;
        try {
            socket = HttpClient.newHttpClient().newWebSocketBuilder().connectTimeout(Duration.ofSeconds(20))
                    .buildAsync(uri, new Listener()).get(30, TimeUnit.SECONDS);
        } catch (InterruptedException | ExecutionException | TimeoutException e) {
            throw new IOException("cannot open the DevTools WebSocket " + uri + ": " + e, e);
        }
    }

    /** Opens a page and attaches to it; commands then go to that page's session. */
    private void attach(int width, int height) {
        String target = send(null, "Target.createTarget", obj().put("url", "about:blank")).get("targetId").asText();
        session = send(null, "Target.attachToTarget", obj().put("targetId", target).put("flatten", true)).get("sessionId").asText();
        send("Page.enable", obj());
        send("Runtime.enable", obj());
        send("Emulation.setDeviceMetricsOverride", obj().put("width", width).put("height", height).put("deviceScaleFactor", 1)
                .put("mobile", false));
    }

    public static ObjectNode obj() {
        return JSON.createObjectNode();
    }

    /** Sends a command to the page and returns its result; a protocol error is an AssertionError. */
    public JsonNode send(String method, ObjectNode params) {
        return send(session, method, params);
    }

    private JsonNode send(String sessionId, String method, ObjectNode params) {
        int id = nextId.incrementAndGet();
        ObjectNode msg = obj().put("id", id).put("method", method);
        msg.set("params", params);
        if (sessionId != null) msg.put("sessionId", sessionId);
        CompletableFuture<JsonNode> reply = new CompletableFuture<>();
        pending.put(id, reply);
        try {
            socket.sendText(msg.toString(), true).get(COMMAND_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            JsonNode r = reply.get(COMMAND_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            if (r.has("error")) throw new AssertionError("DevTools " + method + " failed: " + r.get("error"));
            return r.get("result");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted during " + method, e);
        } catch (ExecutionException | TimeoutException e) {
            throw new AssertionError("DevTools " + method + " got no answer within " + COMMAND_TIMEOUT.toSeconds() + " s: " + e
                    + "; chromium log: " + tail(log), e);
        } finally {
            pending.remove(id);
        }
    }

    /** Evaluates a JavaScript expression in the page (awaiting a promise) and returns its value as JSON. */
    public JsonNode eval(String expression) {
        JsonNode r = send("Runtime.evaluate", obj().put("expression", expression).put("returnByValue", true).put("awaitPromise", true));
        if (r.has("exceptionDetails")) throw new AssertionError("page script failed: " + expression + ": " + r.get("exceptionDetails"));
        JsonNode v = r.get("result").get("value");
        return v == null ? JSON.nullNode() : v;
    }

    /** Polls a JavaScript condition until it is true. */
    public void waitUntil(String condition, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            if (eval("!!(" + condition + ")").asBoolean()) return;
            if (System.nanoTime() > deadline) throw new AssertionError("page never satisfied " + condition + " within " + timeout);
            try {
                Thread.sleep(25);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }

    public void navigate(String url) {
        JsonNode r = send("Page.navigate", obj().put("url", url));
        if (r.has("errorText")) throw new AssertionError("cannot open " + url + ": " + r.get("errorText").asText());
        waitUntil("document.readyState === 'complete'", Duration.ofSeconds(60));
    }

    /** A real mouse click (move, press, release) at viewport coordinates in CSS pixels. */
    public void click(double x, double y) {
        move(x, y);
        for (String type : new String[] {"mousePressed", "mouseReleased"}) {
            send("Input.dispatchMouseEvent", obj().put("type", type).put("x", x).put("y", y).put("button", "left").put("clickCount", 1));
        }
    }

    public void move(double x, double y) {
        send("Input.dispatchMouseEvent", obj().put("type", "mouseMoved").put("x", x).put("y", y));
    }

    /** The viewport as the page shows it now. */
    public BufferedImage screenshot() {
        return decode(send("Page.captureScreenshot", obj().put("format", "png")));
    }

    /** The whole page, beyond the viewport: for documentation pictures. */
    public BufferedImage screenshot(double x, double y, double width, double height) {
        ObjectNode clip = obj().put("x", x).put("y", y).put("width", width).put("height", height).put("scale", 1);
        ObjectNode p = obj().put("format", "png").put("captureBeyondViewport", true);
        p.set("clip", clip);
        return decode(send("Page.captureScreenshot", p));
    }

    private static BufferedImage decode(JsonNode r) {
        byte[] png = Base64.getDecoder().decode(r.get("data").asText());
        try {
            return ImageIO.read(new ByteArrayInputStream(png));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Closes the browser and removes its profile. */
    @Override
    public void close() {
        try {
            send(null, "Browser.close", obj());
        } catch (AssertionError ignored) {
            // it may close the socket before it answers
        }
        socket.abort();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        try (Stream<Path> files = Files.walk(profile)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException ignored) {
            // a temp directory; JUnit removes its parent anyway
        }
    }

    private static String tail(Path log) {
        try {
            String s = Files.readString(log, StandardCharsets.UTF_8);
            return s.length() > 2000 ? "..." + s.substring(s.length() - 2000) : s;
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    /** The params of every event of this kind received so far (e.g. "Network.requestWillBeSent" after Network.enable). */
    public List<JsonNode> events(String method) {
        return events.stream().filter(e -> method.equals(e.path("method").asText())).map(e -> e.get("params")).toList();
    }

    /** Collects a message's text frames and hands replies to their waiting senders; events are kept. */
    private final class Listener implements WebSocket.Listener {
        private final StringBuilder text = new StringBuilder();

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            text.append(data);
            if (last) {
                try {
                    JsonNode msg = JSON.readTree(text.toString());
                    if (msg.has("id")) {
                        CompletableFuture<JsonNode> f = pending.get(msg.get("id").asInt());
                        if (f != null) f.complete(msg);
                    } else if (msg.has("method")) {
                        events.add(msg);
                    }
                } catch (IOException e) {
                    pending.values().forEach(f -> f.completeExceptionally(e));
                }
                text.setLength(0);
            }
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket ws, int status, String reason) {
            pending.values().forEach(f -> f.completeExceptionally(new IOException("DevTools socket closed: " + status + " " + reason)));
            return null;
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
            pending.values().forEach(f -> f.completeExceptionally(error));
        }
    }
}
