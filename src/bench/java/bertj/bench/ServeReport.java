package bertj.bench;

import bertj.cli.Main;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Turns the load benchmark's results (LoadGen JSON files in a directory) into the table and plot of
 * docs/serving.md. For each level it runs {@code bertj bench} in-process at the batch the server formed (mean
 * sequences per batch × mean padded length) and reports the batching efficiency: tokens/s served ÷ tokens/s of the
 * bare forward pass at that batch. Run by scripts/bench-serve.sh after the servers are stopped (so that the bench
 * runs on a quiet machine); not a test.
 *
 * <pre>
 * ServeReport --dir DIR --minilm minilm --qa-model DIR/nvidia.pt --threads T [--png OUT.png] [--runs 15] [--note TEXT]
 * </pre>
 */
public final class ServeReport {
    private static final ObjectMapper JSON = new ObjectMapper();

    record Level(String name, JsonNode r, double benchTokensPerS, double benchMs, int b, int s) {
        double efficiency() {
            return !(benchTokensPerS > 0) ? Double.NaN : r.get("tokens_per_s").asDouble() / benchTokensPerS;
        }
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> a = new LinkedHashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) a.put(args[i].substring(2), args[i + 1]);
        Path dir = Path.of(a.getOrDefault("dir", "bench-out/serve"));
        String minilm = a.getOrDefault("minilm", "minilm"), qa = a.get("qa-model"), threads = a.getOrDefault("threads", "0");
        String runs = a.getOrDefault("runs", "15");
        StringBuilder md = new StringBuilder();
        List<Level> embed = levels(dir, "minilm-", minilm, threads, runs), qas = qa == null ? List.of() : levels(dir, "qa-", qa, threads, runs);

        md.append("| model, endpoint | clients | requests/s | tokens/s | p50 ms | p99 ms | errors | 429 | batch (seq × padded tokens) | fill |"
                + " model busy | server RSS MiB (min–max) | `bench` tokens/s at that batch | batching efficiency |\n");
        md.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (Level l : embed) row(md, "MiniLM /embed (mixed)", l);
        for (Level l : qas) row(md, "4L-288D /qa", l);

        JsonNode fixed = read(dir.resolve("fixed-1.json"));
        if (fixed != null && fixed.get("ok").asLong() == 0) {
            md.append("\nOne client, one text every time: no request was answered within the window.\n");
        } else if (fixed != null) {
            int tokens = (int) Math.round(fixed.get("mean_tokens_per_request").asDouble());
            JsonNode bench = bench(minilm, 1, tokens, threads, runs);
            double ms = bench.get("ms_per_batch_median").asDouble();
            md.append(String.format(Locale.ROOT, "%nOne client, one %d-token text every time: p50 %.1f ms, p99 %.1f ms; `bertj bench --batch 1 --seq %d`:"
                    + " %.1f ms per pass; p99 ÷ bench = %.2f (target ≤ 1.2).%n", tokens, fixed.get("p50_ms").asDouble(),
                    fixed.get("p99_ms").asDouble(), tokens, ms, fixed.get("p99_ms").asDouble() / ms));
        }
        JsonNode on = read(dir.resolve("short-on-64.json")), off = read(dir.resolve("short-off-64.json"));
        if (on != null && off != null) {
            md.append(String.format(Locale.ROOT, "%nShort texts, 64 clients: batching on %.1f requests/s (batches of %.1f), off (`--max-batch-tokens 1`)"
                            + " %.1f requests/s: %.2f× (target ≥ 3×). p99 %.1f ms on, %.1f ms off.%n", on.get("requests_per_s").asDouble(),
                    on.get("batches").get("mean_size").asDouble(), off.get("requests_per_s").asDouble(),
                    on.get("requests_per_s").asDouble() / off.get("requests_per_s").asDouble(), on.get("p99_ms").asDouble(),
                    off.get("p99_ms").asDouble()));
        }
        for (Level l : embed) {
            if (l.r().get("clients").asInt() == 256) {
                md.append(String.format(Locale.ROOT, "%nRSS at 256 clients after the warm-up: %s.%n", rssFlatness(l.r())));
            }
        }
        Files.writeString(dir.resolve("summary.md"), md.toString());
        System.out.print(md);
        String note = a.getOrDefault("note", "");
        if (note.isEmpty() && !embed.isEmpty() && embed.get(0).r().get("seconds").asDouble() < 60) {
            note = "SMOKE RUN: " + embed.get(0).r().get("seconds").asText() + " s per level";
        }
        if (a.containsKey("png")) plot(embed, qas, Path.of(a.get("png")), note);
    }

    private static void row(StringBuilder md, String what, Level l) {
        JsonNode r = l.r(), b = r.get("batches");
        double[] mm = rssRange(r);
        md.append(String.format(Locale.ROOT, "| %s | %d | %.1f | %.0f | %.1f | %.1f | %d | %d | %.1f × %.0f | %.2f | %.0f%% | %s | %s | %s |%n",
                what, r.get("clients").asInt(), r.get("requests_per_s").asDouble(), r.get("tokens_per_s").asDouble(), r.get("p50_ms").asDouble(),
                r.get("p99_ms").asDouble(), r.get("errors").asLong(), r.get("overloaded_429").asLong(), b.get("mean_size").asDouble(),
                b.get("mean_padded_length").asDouble(), b.get("fill").asDouble(), 100 * b.get("model_busy").asDouble(),
                mm == null ? "–" : String.format(Locale.ROOT, "%.0f–%.0f", mm[0], mm[1]),
                Double.isNaN(l.benchTokensPerS()) ? "–" : String.format(Locale.ROOT, "%.0f (%d × %d)", l.benchTokensPerS(), l.b(), l.s()),
                Double.isNaN(l.efficiency()) ? "–" : String.format(Locale.ROOT, "%.0f%%", 100 * l.efficiency())));
    }

    /** min and max RSS after the first fifth of the window (the warm-up of the measured part). */
    private static double[] rssRange(JsonNode r) {
        JsonNode s = r.get("rss_mb");
        if (s == null || s.isEmpty() || s.get(0).get(1).asDouble() < 0) return null;
        double lo = Double.MAX_VALUE, hi = 0;
        for (int i = s.size() / 5; i < s.size(); i++) {
            double v = s.get(i).get(1).asDouble();
            lo = Math.min(lo, v);
            hi = Math.max(hi, v);
        }
        return new double[] {lo, hi};
    }

    private static String rssFlatness(JsonNode r) {
        double[] mm = rssRange(r);
        if (mm == null) return "not sampled";
        double mid = (mm[0] + mm[1]) / 2;
        return String.format(Locale.ROOT, "%.0f–%.0f MiB, ±%.1f%% (target ±10%%)", mm[0], mm[1], 100 * (mm[1] - mm[0]) / 2 / mid);
    }

    private static List<Level> levels(Path dir, String prefix, String model, String threads, String runs) throws IOException {
        List<Path> files = new ArrayList<>();
        try (var s = Files.list(dir)) {
            s.filter(p -> p.getFileName().toString().matches(java.util.regex.Pattern.quote(prefix) + "\\d+\\.json")).forEach(files::add);
        }
        files.sort((x, y) -> Integer.compare(clients(x), clients(y)));
        List<Level> out = new ArrayList<>();
        for (Path f : files) {
            JsonNode r = JSON.readTree(f.toFile());
            JsonNode b = r.get("batches");
            if (b.get("count").asDouble() < 1 || r.get("ok").asLong() == 0) {
                // no batch (or no request) completed inside the window: nothing to compare
                out.add(new Level(f.getFileName().toString(), r, Double.NaN, Double.NaN, 0, 0));
                continue;
            }
            int size = Math.max(1, (int) Math.round(b.get("mean_size").asDouble()));
            int seq = Math.max(2, (int) Math.round(b.get("mean_padded_length").asDouble()));
            JsonNode bench = bench(model, size, seq, threads, runs);
            out.add(new Level(f.getFileName().toString(), r, bench.get("seq_per_s").asDouble() * seq, bench.get("ms_per_batch_median").asDouble(),
                    size, seq));
        }
        return out;
    }

    private static int clients(Path p) {
        String n = p.getFileName().toString();
        return Integer.parseInt(n.replaceAll("\\D", ""));
    }

    /** {@code bertj bench --json}, in this JVM. */
    private static JsonNode bench(String model, int batch, int seq, String threads, String runs) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int code = Main.run(new String[] {"bench", "--model", model, "--batch", Integer.toString(batch), "--seq", Integer.toString(seq),
                "--threads", threads, "--runs", runs, "--warmup", Integer.toString(Math.min(5, Integer.parseInt(runs))), "--json"}, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        if (code != 0) throw new IllegalStateException("bench failed: " + err.toString(StandardCharsets.UTF_8));
        JsonNode n = JSON.readTree(out.toString(StandardCharsets.UTF_8));
        System.out.printf(Locale.ROOT, "bench %s %d x %d: %.1f seq/s, %.2f ms%n", model, batch, seq, n.get("seq_per_s").asDouble(),
                n.get("ms_per_batch_median").asDouble());
        return n;
    }

    private static JsonNode read(Path p) throws IOException {
        return Files.isRegularFile(p) ? JSON.readTree(p.toFile()) : null;
    }

    // ---------------------------------------------------------------- plot (Java2D)

    private static void plot(List<Level> embed, List<Level> qa, Path png, String note) throws IOException {
        int w = 1000, h = 430;
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, w, h);
        panel(g, 60, 40, 400, 320, "throughput (requests/s)", embed, qa, "requests_per_s");
        panel(g, 560, 40, 400, 320, "p99 latency (ms)", embed, qa, "p99_ms");
        g.setColor(Color.DARK_GRAY);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        g.drawString("bertj serve, closed-loop keep-alive clients (x: concurrent clients, log scale)" + (note.isEmpty() ? "" : " — " + note), 60, 415);
        g.dispose();
        Files.createDirectories(png.toAbsolutePath().getParent());
        ImageIO.write(img, "png", png.toFile());
        System.out.println("plot: " + png);
    }

    private static void panel(Graphics2D g, int x0, int y0, int pw, int ph, String title, List<Level> a, List<Level> b, String field) {
        List<double[]> sa = series(a, field), sb = series(b, field);
        double ymax = 0;
        for (double[] p : sa) ymax = Math.max(ymax, p[1]);
        for (double[] p : sb) ymax = Math.max(ymax, p[1]);
        ymax = niceCeil(ymax);
        double xmin = 1, xmax = 256;
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
        g.drawString(title, x0, y0 - 12);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        g.setStroke(new BasicStroke(1f));
        g.drawRect(x0, y0, pw, ph);
        for (int c : new int[] {1, 8, 64, 256}) {
            int x = x0 + (int) Math.round(pw * Math.log(c / xmin) / Math.log(xmax / xmin));
            g.setColor(new Color(230, 230, 230));
            g.drawLine(x, y0, x, y0 + ph);
            g.setColor(Color.BLACK);
            g.drawString(Integer.toString(c), x - 8, y0 + ph + 16);
        }
        for (int i = 0; i <= 4; i++) {
            int y = y0 + ph - ph * i / 4;
            g.setColor(new Color(230, 230, 230));
            g.drawLine(x0, y, x0 + pw, y);
            g.setColor(Color.BLACK);
            String lab = String.format(Locale.ROOT, ymax >= 100 ? "%.0f" : "%.1f", ymax * i / 4);
            g.drawString(lab, x0 - 8 - g.getFontMetrics().stringWidth(lab), y + 4);
        }
        draw(g, sa, new Color(31, 119, 180), x0, y0, pw, ph, xmin, xmax, ymax);
        draw(g, sb, new Color(214, 39, 40), x0, y0, pw, ph, xmin, xmax, ymax);
        g.setColor(new Color(31, 119, 180));
        g.drawString("MiniLM /embed, mixed lengths", x0 + 10, y0 + 18);
        if (!sb.isEmpty()) {
            g.setColor(new Color(214, 39, 40));
            g.drawString("BERT 4L-288D (random) /qa", x0 + 10, y0 + 34);
        }
    }

    private static List<double[]> series(List<Level> levels, String field) {
        List<double[]> out = new ArrayList<>();
        for (Level l : levels) out.add(new double[] {l.r().get("clients").asDouble(), l.r().get(field).asDouble()});
        return out;
    }

    private static void draw(Graphics2D g, List<double[]> s, Color c, int x0, int y0, int pw, int ph, double xmin, double xmax, double ymax) {
        g.setColor(c);
        g.setStroke(new BasicStroke(2f));
        int px = -1, py = -1;
        for (double[] p : s) {
            int x = x0 + (int) Math.round(pw * Math.log(p[0] / xmin) / Math.log(xmax / xmin));
            int y = y0 + ph - (int) Math.round(ph * p[1] / ymax);
            if (px >= 0) g.drawLine(px, py, x, y);
            g.fillOval(x - 4, y - 4, 8, 8);
            px = x;
            py = y;
        }
    }

    private static double niceCeil(double v) {
        if (v <= 0) return 1;
        double e = Math.pow(10, Math.floor(Math.log10(v)));
        for (double m : new double[] {1, 2, 2.5, 5, 10}) if (m * e >= v) return m * e;
        return 10 * e;
    }
}
