package bertj.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A closed-loop load generator for {@code bertj serve}: N clients, each sending its next request as soon as the
 * previous one is answered, over keep-alive connections, for a fixed time after a warm-up; then requests/s,
 * tokens/s (the server's x-compute-tokens), latency percentiles over every request, errors by status, the
 * server's RSS once a second, and — from /metrics at the window's start and end — the batches the server formed. A
 * request counts when it completes inside the window, wherever it started.
 *
 * <p>Traffic goes to this machine only: a URL whose host is not 127.0.0.1, ::1 or localhost is refused. Bounded in
 * time (warm-up + seconds + the last answers) and in count ({@code --max-requests}). Run by scripts/bench-serve.sh;
 * not a test.
 *
 * <pre>
 * LoadGen --url http://127.0.0.1:8080 --mix mixed|short|fixed|qa --clients 64 --seconds 60 [--warmup 10]
 *         [--max-requests 5000000] [--pid SERVER_PID] [--seed 1] [--json out.json] [--label text]
 * </pre>
 * Mixes: {@code mixed} half short queries (4–16 words), half passages (70–230 words, about 100–300 tokens), to
 * /embed; {@code short} only the queries; {@code fixed} one passage of about 128 tokens, every time (for the 1-client
 * latency against {@code bertj bench}); {@code qa} a question and a passage of 80–400 words to /qa.
 */
public final class LoadGen {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** Common English words, so that tokens are ordinary WordPieces (about 1.2 per word). */
    private static final String[] WORDS = ("the of and to in is was for that on as with by he it at from his an were are which this be "
            + "or has had first one their its new after but who not they have her she two been other when there all during into school "
            + "time may years more most only over city some world would where later up such used many can state about national out known "
            + "university united then made team game season war film part three year between well number both also under called until "
            + "year group river music series several because high four early area north south since john album while through including "
            + "population second government he public life being although family following however before based around different "
            + "served town american house played water church village work name record local took people company long best show "
            + "county small history main west league members district same form club each along final band system village court "
            + "common science station army east english major research book library bridge market museum garden railway engine light")
            .split(" ");

    record Request(String path, String body) {
    }

    record Result(long nanos, int status, int tokens) {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> a = new TreeMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) throw new IllegalArgumentException("usage: see the class comment (" + args[i] + ")");
            a.put(args[i].substring(2), args[++i]);
        }
        URI url = URI.create(a.getOrDefault("url", "http://127.0.0.1:8080"));
        String host = url.getHost();
        if (!("127.0.0.1".equals(host) || "localhost".equals(host) || "[::1]".equals(host) || "::1".equals(host))) {
            throw new IllegalArgumentException("LoadGen sends traffic to this machine only (127.0.0.1, ::1, localhost), not " + host);
        }
        String mix = a.getOrDefault("mix", "mixed");
        int clients = Integer.parseInt(a.getOrDefault("clients", "8"));
        double seconds = Double.parseDouble(a.getOrDefault("seconds", "60")), warmup = Double.parseDouble(a.getOrDefault("warmup", "10"));
        long maxRequests = Long.parseLong(a.getOrDefault("max-requests", "5000000"));
        long seed = Long.parseLong(a.getOrDefault("seed", "1"));
        long pid = Long.parseLong(a.getOrDefault("pid", "0"));
        if (clients < 1 || clients > 4096 || seconds <= 0 || seconds > 3600 || warmup < 0 || warmup > 600) {
            throw new IllegalArgumentException("clients 1..4096, seconds (0, 3600], warm-up [0, 600]");
        }

        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10))
                .executor(Executors.newFixedThreadPool(2)).build();
        long t0 = System.nanoTime();
        long startMeasure = t0 + (long) (warmup * 1e9), end = startMeasure + (long) (seconds * 1e9);
        AtomicLong sent = new AtomicLong();
        List<List<Result>> perClient = new ArrayList<>();
        Map<Integer, LongAdder> statuses = new ConcurrentHashMap<>();
        List<double[]> rss = new ArrayList<>();
        // /metrics at the start and at the end of the measured window, each stamped with when it was read
        java.util.concurrent.atomic.AtomicReference<Map<String, Double>> atStart = new java.util.concurrent.atomic.AtomicReference<>(),
                atEnd = new java.util.concurrent.atomic.AtomicReference<>();
        long[] stamps = new long[2];
        Thread scraper = Thread.ofPlatform().daemon().start(() -> {
            try {
                sleepUntil(startMeasure);
                atStart.set(metrics(client, url));
                stamps[0] = System.nanoTime();
                sleepUntil(end);
                atEnd.set(metrics(client, url));
                stamps[1] = System.nanoTime();
            } catch (InterruptedException | IOException e) {
                // the run ends
            }
        });
        Thread sampler = Thread.ofPlatform().daemon().start(() -> {
            try {
                sleepUntil(startMeasure);
                for (int i = 0; System.nanoTime() < end; i++) {
                    double mb = pid > 0 ? rssMb(pid) : -1;
                    synchronized (rss) {
                        rss.add(new double[] {(System.nanoTime() - startMeasure) / 1e9, mb});
                    }
                    sleepUntil(startMeasure + (i + 1) * 1_000_000_000L);
                }
            } catch (InterruptedException | IOException e) {
                // the run ends
            }
        });
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int c = 0; c < clients; c++) {
                List<Result> mine = new ArrayList<>();
                perClient.add(mine);
                Random r = new Random(seed * 1_000_003 + c);
                pool.submit(() -> {
                    while (true) {
                        long now = System.nanoTime();
                        if (now >= end || sent.incrementAndGet() > maxRequests) return;
                        Request q = request(mix, r);
                        HttpRequest hr = HttpRequest.newBuilder(url.resolve(q.path())).timeout(Duration.ofSeconds(120))
                                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(q.body())).build();
                        long s = System.nanoTime();
                        int status;
                        int tokens = 0;
                        try {
                            HttpResponse<String> resp = client.send(hr, HttpResponse.BodyHandlers.ofString());
                            status = resp.statusCode();
                            tokens = resp.headers().firstValue("x-compute-tokens").map(Integer::parseInt).orElse(0);
                        } catch (IOException e) {
                            status = -1;
                        } catch (InterruptedException e) {
                            return;
                        }
                        long done = System.nanoTime();
                        // what completes inside the window counts, wherever it started (a closed loop's throughput)
                        if (done >= startMeasure && done <= end) {
                            mine.add(new Result(done - s, status, tokens));
                            statuses.computeIfAbsent(status, k -> new LongAdder()).increment();
                        }
                    }
                });
            }
        }
        scraper.join();
        sampler.join();
        Map<String, Double> start = atStart.get(), after = atEnd.get();
        if (start == null || after == null) throw new IllegalStateException("/metrics could not be read at the window's ends");
        double scraped = (stamps[1] - stamps[0]) / 1e9;

        List<Result> all = new ArrayList<>();
        for (List<Result> l : perClient) all.addAll(l);
        long[] lat = all.stream().filter(x -> x.status() == 200).mapToLong(Result::nanos).sorted().toArray();
        long ok = lat.length, tokens = all.stream().filter(x -> x.status() == 200).mapToLong(Result::tokens).sum();
        double window = seconds;
        ObjectNode out = JSON.createObjectNode();
        out.put("label", a.getOrDefault("label", mix + " x" + clients));
        out.put("mix", mix);
        out.put("clients", clients);
        out.put("seconds", seconds);
        out.put("warmup_seconds", warmup);
        out.put("requests", all.size());
        out.put("ok", ok);
        ObjectNode st = out.putObject("statuses");
        statuses.forEach((k, v) -> st.put(k < 0 ? "io_error" : Integer.toString(k), v.sum()));
        out.put("errors", all.size() - ok - statuses.getOrDefault(429, new LongAdder()).sum());
        out.put("overloaded_429", statuses.getOrDefault(429, new LongAdder()).sum());
        out.put("requests_per_s", ok / window);
        out.put("tokens_per_s", tokens / window);
        out.put("mean_tokens_per_request", ok == 0 ? 0 : (double) tokens / ok);
        out.put("p50_ms", pct(lat, 0.50));
        out.put("p90_ms", pct(lat, 0.90));
        out.put("p99_ms", pct(lat, 0.99));
        out.put("max_ms", lat.length == 0 ? 0 : lat[lat.length - 1] / 1e6);
        String[] keys = {"bertj_batches", "bertj_batch_sequences", "bertj_batch_tokens", "bertj_batch_padded_tokens_total",
                "bertj_batch_inference_nanoseconds"};
        double[] d = new double[keys.length];
        for (int i = 0; i < keys.length; i++) d[i] = after.getOrDefault(keys[i], 0.0) - start.getOrDefault(keys[i], 0.0);
        ObjectNode b = out.putObject("batches");
        b.put("count", d[0]);
        b.put("mean_size", d[0] == 0 ? 0 : d[1] / d[0]);
        b.put("mean_padded_length", d[1] == 0 ? 0 : d[3] / d[1]);
        b.put("real_tokens", d[2]);
        b.put("padded_tokens", d[3]);
        b.put("fill", d[3] == 0 ? 0 : d[2] / d[3]);
        b.put("model_busy", d[4] / 1e9 / scraped);
        b.put("served_tokens_per_s", d[2] / scraped);
        ArrayNode r = out.putArray("rss_mb");
        synchronized (rss) {
            for (double[] x : rss) r.addArray().add(Math.round(x[0] * 10) / 10.0).add(Math.round(x[1] * 10) / 10.0);
        }
        String text = JSON.writeValueAsString(out);
        if (a.containsKey("json")) Files.writeString(Path.of(a.get("json")), text);
        System.out.printf(Locale.ROOT, "%-14s %4d clients: %8.1f req/s %9.0f tok/s  p50 %7.1f ms  p99 %7.1f ms  errors %d  429 %d  "
                        + "batches %.1f seq x %.0f tokens (fill %.2f, model busy %.0f%%)%n",
                mix, clients, ok / window, tokens / window, pct(lat, 0.5), pct(lat, 0.99), out.get("errors").asLong(),
                out.get("overloaded_429").asLong(), b.get("mean_size").asDouble(), b.get("mean_padded_length").asDouble(),
                b.get("fill").asDouble(), 100 * b.get("model_busy").asDouble());
        System.exit(0);
    }

    private static void sleepUntil(long nanoTime) throws InterruptedException {
        long left = nanoTime - System.nanoTime();
        if (left > 0) Thread.sleep(left / 1_000_000, (int) (left % 1_000_000));
    }

    private static double pct(long[] sorted, double p) {
        if (sorted.length == 0) return 0;
        int i = (int) Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1);
        return sorted[Math.max(0, i)] / 1e6;
    }

    private static String words(Random r, int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            if (i > 0) sb.append(i % 17 == 16 ? ". " : " ");
            sb.append(WORDS[r.nextInt(WORDS.length)]);
        }
        return sb.append('.').toString();
    }

    static Request request(String mix, Random r) {
        return switch (mix) {
            case "short" -> embed(words(r, 4 + r.nextInt(13)));
            case "mixed" -> embed(r.nextBoolean() ? words(r, 4 + r.nextInt(13)) : words(r, 70 + r.nextInt(161)));
            case "fixed" -> embed(words(new Random(7), 100));
            case "qa" -> new Request("/qa", "{\"inputs\": {\"question\": " + quote(words(r, 5 + r.nextInt(8)).replace(".", "?"))
                    + ", \"context\": " + quote(words(r, 80 + r.nextInt(321))) + "}}");
            default -> throw new IllegalArgumentException("unknown mix " + mix + " (mixed, short, fixed, qa)");
        };
    }

    private static Request embed(String text) {
        return new Request("/embed", "{\"inputs\": " + quote(text) + "}");
    }

    private static String quote(String s) {
        try {
            return JSON.writeValueAsString(s);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static final Pattern SAMPLE = Pattern.compile("^([a-z_]+)(?:\\{[^}]*})? ([-0-9.eE+]+)$");

    /** Unlabelled counters and gauges of /metrics. */
    static Map<String, Double> metrics(HttpClient client, URI url) throws IOException {
        Map<String, Double> m = new TreeMap<>();
        try {
            String text = client.send(HttpRequest.newBuilder(url.resolve("/metrics")).timeout(Duration.ofSeconds(30)).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            for (String line : text.split("\n")) {
                Matcher x = SAMPLE.matcher(line);
                if (x.matches() && !line.contains("{")) m.put(x.group(1), Double.parseDouble(x.group(2)));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return m;
    }

    /** VmRSS of a process in MiB, from /proc. */
    static double rssMb(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
        }
        return -1;
    }
}
