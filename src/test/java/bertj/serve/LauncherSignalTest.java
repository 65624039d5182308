package bertj.serve;

import bertj.testing.Launcher;
import bertj.testing.MiniLm;
import bertj.testing.PyTorch;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static bertj.serve.ServeFixture.q;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code ./bertj serve} (a small random model) run through the real launcher script, in a process group of its own (as systemd or a container
 * runtime starts it): SIGTERM to the launcher alone, and to its whole process group, with two heavy requests in
 * flight. Both must be answered, the launcher must exit 0 only after them, and no process of the group may be left.
 * The launcher is a copy of the project's {@code bertj} beside a {@code target/bertj.jar} whose manifest points at
 * the compiled classes (so the test needs no packaging step).
 */
class LauncherSignalTest {
    @TempDir
    static Path dir;
    static Path launcher, model;

    @BeforeAll
    static void launcher() throws IOException {
        model = ServeFixture.smallModel(dir.resolve("model"), PyTorch.seed("launcher test model"));
        launcher = Launcher.copyInto(dir);
    }

    /** A launcher running `serve` in its own session and process group, and what it prints on stderr. */
    static final class Served implements AutoCloseable {
        final Process process;
        final List<String> err = Collections.synchronizedList(new ArrayList<>());
        final CompletableFuture<String> url = new CompletableFuture<>();
        final Thread reader;

        Served() throws IOException {
            ProcessBuilder pb = new ProcessBuilder("setsid", launcher.toString(), "serve", "--model", model.toString(), "--port", "0",
                    "--shutdown-timeout", "60");
            pb.environment().put("JAVA_OPTS", "-Xmx1g");
            pb.redirectOutput(ProcessBuilder.Redirect.DISCARD);
            process = pb.start();
            Pattern listening = Pattern.compile("ready on (http://127\\.0\\.0\\.1:\\d+)");
            reader = Thread.ofPlatform().daemon().start(() -> {
                try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8))) {
                    for (String line; (line = in.readLine()) != null; ) {
                        err.add(line);
                        Matcher m = listening.matcher(line);
                        if (m.find()) url.complete(m.group(1));
                    }
                } catch (IOException e) {
                    url.completeExceptionally(e);
                }
                url.completeExceptionally(new AssertionError("the server never became ready: " + err));
            });
        }

        long pid() {
            return process.pid();
        }

        @Override
        public void close() throws IOException, InterruptedException {
            if (process.isAlive()) {
                kill("-KILL", "--", "-" + pid());
                process.waitFor(30, TimeUnit.SECONDS);
            }
        }
    }

    /** The processes of a process group, from /proc (field 5 of /proc/PID/stat is the group id). */
    private static List<String> group(long pgid) throws IOException {
        List<String> out = new ArrayList<>();
        try (var procs = Files.list(Path.of("/proc"))) {
            for (Path p : procs.toList()) {
                if (!p.getFileName().toString().matches("\\d+")) continue;
                String stat;
                try {
                    stat = Files.readString(p.resolve("stat"));
                } catch (IOException gone) {
                    continue;
                }
                // pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses: split after the last ')'
                String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                if (f.length > 2 && f[2].equals(Long.toString(pgid))) out.add(p.getFileName() + " " + stat.substring(0, stat.lastIndexOf(')') + 1));
            }
        }
        return out;
    }

    private static int kill(String... args) throws IOException, InterruptedException {
        return new ProcessBuilder("bash", "-c", "kill " + String.join(" ", args)).inheritIO().start().waitFor();
    }

    /**
     * Two requests are in flight when the signal comes: one whose body is still being uploaded (so it is certainly
     * in flight, however fast the machine), and one the model is running. Both must be answered, the upload one
     * after the signal, and the launcher must exit 0 after that.
     */
    private static void drainsAndExitsZero(boolean wholeGroup) throws Exception {
        try (Served s = new Served()) {
            String url = s.url.get(180, TimeUnit.SECONDS);
            int port = URI.create(url).getPort();
            List<String> members = group(s.pid());
            assertTrue(members.size() >= 3, "launcher, JVM and filter should share the group: " + members);
            HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
            byte[] body = q(Map.of("inputs", List.of(MiniLm.SENTENCES.get(0), MiniLm.SENTENCES.get(10)))).getBytes(StandardCharsets.UTF_8);
            try (Socket upload = new Socket("127.0.0.1", port)) {
                upload.setSoTimeout(120_000);
                OutputStream out = upload.getOutputStream();
                out.write(("POST /embed HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: " + body.length
                        + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                out.write(body, 0, body.length / 2);
                out.flush();
                CompletableFuture<HttpResponse<String>> model = client.sendAsync(HttpRequest.newBuilder(URI.create(url + "/embed"))
                        .POST(HttpRequest.BodyPublishers.ofString(q(Map.of("inputs", MiniLm.SENTENCES)))).build(),
                        HttpResponse.BodyHandlers.ofString());
                // the second request has reached the API (the first is still uploading, so it does not count yet)
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
                while (!client.send(HttpRequest.newBuilder(URI.create(url + "/metrics")).build(), HttpResponse.BodyHandlers.ofString())
                        .body().contains("te_request_count{route=\"/embed\"} 1")) {
                    assertTrue(System.nanoTime() < deadline, "the second request never reached the server");
                    Thread.sleep(5);
                }
                long signalled = System.nanoTime();
                assertEquals(0, wholeGroup ? kill("-TERM", "--", "-" + s.pid()) : kill("-TERM", Long.toString(s.pid())));
                Thread.sleep(1000);
                assertTrue(s.process.isAlive(), "the launcher exited with a request still being uploaded");
                out.write(body, body.length / 2, body.length - body.length / 2);
                out.flush();
                BufferedReader in = new BufferedReader(new InputStreamReader(upload.getInputStream(), StandardCharsets.UTF_8));
                String status = in.readLine();
                long answered = System.nanoTime();
                assertTrue(status != null && status.startsWith("HTTP/1.1 200"), "status line: " + status);
                int length = -1;
                for (String line; (line = in.readLine()) != null && !line.isEmpty(); ) {
                    if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) length = Integer.parseInt(line.substring(15).trim());
                }
                char[] json = new char[length];
                for (int n = 0; n < length; ) n += in.read(json, n, length - n);
                JsonNode n = ServeFixture.JSON.readTree(new String(json));
                assertEquals(2, n.size());
                assertEquals(32, n.get(1).size());
                HttpResponse<String> m = model.get(120, TimeUnit.SECONDS);
                assertEquals(200, m.statusCode(), m.body());
                assertEquals(MiniLm.SENTENCES.size(), ServeFixture.JSON.readTree(m.body()).size());
                assertTrue(s.process.waitFor(120, TimeUnit.SECONDS), "the launcher did not exit");
                long exited = System.nanoTime();
                assertEquals(0, s.process.exitValue(), "exit status; stderr: " + s.err);
                assertTrue(answered > signalled && exited > answered);
                s.reader.join(10_000);
                List<String> err = List.copyOf(s.err);
                int term = indexOf(err, "SIGTERM received"), stopped = indexOf(err, "bertj serve: stopped");
                assertTrue(term >= 0 && stopped > term, "stderr: " + err);
                assertTrue(err.stream().noneMatch(l -> l.contains("WARNING: Using incubator")), "the launcher's filter let the warning through: " + err);
                assertTrue(group(s.pid()).isEmpty(), "processes left behind: " + group(s.pid()));
                System.out.printf("launcher, SIGTERM to the %s: both requests answered, exit 0 %.1f s after the signal, nothing left%n",
                        wholeGroup ? "process group" : "launcher", (exited - signalled) / 1e9);
            }
        }
    }

    private static int indexOf(List<String> lines, String part) {
        for (int i = 0; i < lines.size(); i++) if (lines.get(i).contains(part)) return i;
        return -1;
    }

    @Test
    void sigtermToTheLauncherDrainsAndExitsZero() throws Exception {
        drainsAndExitsZero(false);
    }

    @Test
    void sigtermToTheProcessGroupDrainsAndExitsZero() throws Exception {
        drainsAndExitsZero(true);
    }
}
