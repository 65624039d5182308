package bertj.explain;

import bertj.parity.Parity;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Line2D;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * {@code bertj parity --plot parity.png / --report parity.html}: the error of every tensor against PyTorch as a
 * chart, drawn with Java2D, and an HTML page with the chart next to the table {@code parity} prints.
 *
 * <p>The chart has two panels on a log scale, max |bertj − PyTorch| and ‖bertj − PyTorch‖₂ / ‖PyTorch‖₂, one
 * point per tensor in the reference's order (embeddings, layer.0 … layer.N-1, the logits, or whatever the
 * reference holds), green within its limit, red over it; a dashed red line is the tolerance wherever one
 * applies (a precision checks some errors and not others: docs/numerics.md). An exact zero, which a log scale
 * cannot show, sits on the bottom edge as a hollow point.
 */
public final class ParityReport {
    private ParityReport() {
    }

    /** Device-independent size of the chart; the PNG is drawn at twice this, for sharp text on any screen. */
    static final int WIDTH = 960, HEIGHT = 640, SCALE = 2;

    private static final Color INK = new Color(0x1f2430), DIM = new Color(0x6b7280), GRID = new Color(0xe5e7eb),
            PASS = new Color(0x16a34a), FAIL = new Color(0xdc2626), UNCHECKED = new Color(0x64748b), LINE = new Color(0x94a3b8),
            LIMIT = new Color(0xb91c1c);

    /** Fails early, before any work, when a report could not be written for want of its folder (null: none asked). */
    public static void checkFolder(Path out) {
        if (out != null) Reports.checkFolder(out);
    }

    public static void writePng(Parity.Report r, Path out) {
        Reports.writeAtomically(out, png(r));
    }

    public static void writeHtml(Parity.Report r, String model, Path out) {
        Reports.writeAtomically(out, html(r, model).getBytes(StandardCharsets.UTF_8));
    }

    public static byte[] png(Parity.Report r) {
        return Png.encode(draw(r));
    }

    /** One panel's numbers: a value and its limit (NaN: none) per tensor. */
    private record Series(String title, double[] values, double[] limits) {
    }

    public static BufferedImage draw(Parity.Report r) {
        Png.headless();
        List<Parity.TensorResult> t = r.tensors();
        int n = t.size();
        double[] maxAbs = new double[n], rel = new double[n], limAbs = new double[n], limRel = new double[n];
        for (int i = 0; i < n; i++) {
            maxAbs[i] = t.get(i).maxAbs();
            rel[i] = t.get(i).relL2();
            limAbs[i] = t.get(i).limitMaxAbs();
            limRel[i] = t.get(i).limitRelL2();
        }
        BufferedImage img = new BufferedImage(WIDTH * SCALE, HEIGHT * SCALE, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_STROKE_CONTROL, RenderingHints.VALUE_STROKE_PURE);
            g.scale(SCALE, SCALE);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, WIDTH, HEIGHT);
            g.setColor(INK);
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
            g.drawString(String.format(Locale.ROOT, "bertj parity: %s (%s) vs PyTorch %s: %s", r.backend(), r.precision(),
                    r.referencePrecision(), r.pass() ? "PASS" : "FAIL"), 20, 26);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            g.setColor(DIM);
            g.drawString(String.format(Locale.ROOT, "%s tolerance; reference %s", r.tolerance().precision(), fileName(r.reference())), 20, 44);
            legend(g, 20, 66);
            int left = 92, right = WIDTH - 24, labelsH = labelHeight(g, t);
            int top1 = 100, gap = 48, panelH = (HEIGHT - top1 - gap - labelsH - 16) / 2;
            panel(g, new Series("max |bertj − PyTorch|", maxAbs, limAbs), t, left, top1, right - left, panelH, r, false);
            panel(g, new Series("relative L2  ‖bertj − PyTorch‖₂ / ‖PyTorch‖₂", rel, limRel), t, left, top1 + panelH + gap,
                    right - left, panelH, r, true);
        } finally {
            g.dispose();
        }
        return img;
    }

    private static void panel(Graphics2D g, Series s, List<Parity.TensorResult> t, int x, int y, int w, int h, Parity.Report r,
                              boolean labels) {
        int n = t.size();
        // decade range covering every finite positive value and limit, with a decade of room each side
        double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            for (double v : new double[] {s.values()[i], s.limits()[i]}) {
                if (v > 0 && Double.isFinite(v)) {
                    lo = Math.min(lo, v);
                    hi = Math.max(hi, v);
                }
            }
        }
        if (lo > hi) {
            lo = 1e-12;
            hi = 1;
        }
        int d0 = (int) Math.floor(Math.log10(lo)) - 1, d1 = (int) Math.ceil(Math.log10(hi)) + 1;
        if (d1 - d0 < 3) d1 = d0 + 3;
        final int fd0 = d0, fd1 = d1;
        java.util.function.DoubleUnaryOperator ty = v -> y + h - h * (Math.log10(v) - fd0) / (fd1 - fd0);
        double step = (double) w / n;
        java.util.function.IntToDoubleFunction tx = i -> x + step * (i + 0.5);

        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
        g.setColor(INK);
        g.drawString(s.title(), x, y - 8);
        // decade grid and labels
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        FontMetrics fm = g.getFontMetrics();
        int every = (d1 - d0) > 8 ? 2 : 1;
        for (int d = d0; d <= d1; d++) {
            double yy = ty.applyAsDouble(Math.pow(10, d));
            g.setColor(GRID);
            g.setStroke(new BasicStroke(1f));
            g.draw(new Line2D.Double(x, yy, x + w, yy));
            if ((d - d0) % every == 0) {
                g.setColor(DIM);
                String label = "1e" + d;
                g.drawString(label, x - 8 - fm.stringWidth(label), (float) (yy + 4));
            }
        }
        g.setColor(new Color(0xcbd5e1));
        g.drawRect(x, y, w, h);
        // tolerance: a dashed segment over each run of tensors with the same limit
        boolean anyLimit = false;
        g.setStroke(new BasicStroke(1.6f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {7f, 5f}, 0f));
        for (int i = 0; i < n; ) {
            double lim = s.limits()[i];
            int j = i;
            while (j + 1 < n && Double.compare(s.limits()[j + 1], lim) == 0) j++;
            if (!Double.isNaN(lim) && lim > 0) {
                anyLimit = true;
                double yy = ty.applyAsDouble(lim);
                g.setColor(LIMIT);
                g.draw(new Line2D.Double(x + step * i + 2, yy, x + step * (j + 1) - 2, yy));
                g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
                g.drawString("tolerance " + shortSci(lim), (float) (x + step * i + 6), (float) (yy - 5));
            }
            i = j + 1;
        }
        if (!anyLimit) {
            g.setColor(DIM);
            g.setFont(new Font(Font.SANS_SERIF, Font.ITALIC, 11));
            String why = "no limit on this error at " + r.tolerance().precision() + " (the other panel's is checked)";
            g.drawString(why, x + w - g.getFontMetrics().stringWidth(why) - 8, y + 16);
        }
        // the points, joined in order
        g.setStroke(new BasicStroke(1.2f));
        g.setColor(LINE);
        Path2D.Double path = new Path2D.Double();
        boolean started = false;
        for (int i = 0; i < n; i++) {
            double v = s.values()[i];
            if (!(v > 0) || !Double.isFinite(v)) {
                started = false;
                continue;
            }
            double yy = ty.applyAsDouble(v);
            if (started) path.lineTo(tx.applyAsDouble(i), yy);
            else path.moveTo(tx.applyAsDouble(i), yy);
            started = true;
        }
        g.draw(path);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 11));
        for (int i = 0; i < n; i++) {
            double v = s.values()[i], lim = s.limits()[i];
            boolean ok = !Double.isNaN(v) && (Double.isNaN(lim) || v <= lim);
            double cx = tx.applyAsDouble(i);
            g.setColor(!ok ? FAIL : Double.isNaN(lim) ? UNCHECKED : PASS);
            if (Double.isNaN(v) || Double.isInfinite(v)) {
                g.drawString(Double.isNaN(v) ? "NaN" : "∞", (float) cx - 10, y + 14);
            } else if (v <= 0) {
                g.setStroke(new BasicStroke(1.6f));
                g.draw(new Ellipse2D.Double(cx - 4.5, y + h - 4.5, 9, 9));
                g.drawString("0", (float) cx + 7, y + h - 4);
            } else {
                g.fill(new Ellipse2D.Double(cx - 4.5, ty.applyAsDouble(v) - 4.5, 9, 9));
            }
        }
        // tensor names under the lower panel, rotated when they would collide
        g.setColor(INK);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        fm = g.getFontMetrics();
        int widest = t.stream().mapToInt(tr -> g.getFontMetrics().stringWidth(tr.name())).max().orElse(0);
        boolean rotate = widest + 6 > step;
        for (int i = 0; i < n; i++) {
            String name = t.get(i).name();
            double cx = tx.applyAsDouble(i);
            g.setColor(GRID);
            g.setStroke(new BasicStroke(1f));
            g.draw(new Line2D.Double(cx, y + h, cx, y + h + 4));
            if (!labels) continue;
            g.setColor(INK);
            if (rotate) {
                AffineTransform saved = g.getTransform();
                g.translate(cx + 4, y + h + 8);
                g.rotate(-Math.PI / 2);
                g.drawString(name, -fm.stringWidth(name), 0);
                g.setTransform(saved);
            } else {
                g.drawString(name, (float) (cx - fm.stringWidth(name) / 2.0), y + h + 18);
            }
        }
    }

    private static int labelHeight(Graphics2D g, List<Parity.TensorResult> t) {
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        FontMetrics fm = g.getFontMetrics();
        int widest = t.stream().mapToInt(tr -> fm.stringWidth(tr.name())).max().orElse(0);
        double step = (WIDTH - 116.0) / Math.max(1, t.size());
        return widest + 6 > step ? Math.min(widest, 200) + 14 : 24;
    }

    private static void legend(Graphics2D g, int x, int y) {
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        FontMetrics fm = g.getFontMetrics();
        Object[][] keys = {{PASS, "within tolerance"}, {FAIL, "over"}, {UNCHECKED, "no limit on this error"}};
        for (Object[] k : keys) {
            g.setColor((Color) k[0]);
            g.fill(new Ellipse2D.Double(x, y - 9, 9, 9));
            g.setColor(INK);
            g.drawString((String) k[1], x + 14, y);
            x += 14 + fm.stringWidth((String) k[1]) + 16;
        }
        g.setColor(LIMIT);
        g.setStroke(new BasicStroke(1.6f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {7f, 5f}, 0f));
        g.draw(new Line2D.Double(x, y - 4, x + 28, y - 4));
        g.setColor(INK);
        g.drawString("tolerance", x + 34, y);
    }

    /** The HTML page: the chart (a PNG data URI) next to the table {@code bertj parity} prints. */
    public static String html(Parity.Report r, String model) {
        StringBuilder h = new StringBuilder(1 << 16);
        String verdict = r.pass() ? "PASS" : "FAIL";
        h.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>bertj parity: ").append(Html.esc(r.backend()))
                .append(" vs PyTorch: ").append(verdict).append("</title>\n<style>\n").append(ExplainReport.resource("parity.css"))
                .append("</style>\n</head>\n<body>\n<header><h1>bertj parity <span class=\"verdict ").append(r.pass() ? "pass" : "fail")
                .append("\">").append(verdict).append("</span></h1>\n<p class=\"sub\">backend <b>").append(Html.esc(r.backend())).append("</b> (")
                .append(Html.esc(r.precision())).append(") against PyTorch ").append(Html.esc(r.referencePrecision())).append(", ")
                .append(Html.esc(r.tolerance().precision())).append(" tolerance</p>\n<p class=\"sub\">model <code>").append(Html.esc(model))
                .append("</code>, reference <code>").append(Html.esc(r.reference())).append("</code></p>\n</header>\n<main>\n");
        h.append("<div class=\"side\">\n<figure><img id=\"chart\" width=\"").append(WIDTH).append("\" height=\"").append(HEIGHT)
                .append("\" alt=\"error per tensor, log scale, with the tolerance\" src=\"").append(Png.dataUri(png(r)))
                .append("\"><figcaption>Error of each tensor against PyTorch, log scale. Green: within its limit; red: over it; grey: this"
                        + " error has no limit at this precision; dashed: the tolerance (docs/numerics.md).</figcaption></figure>\n");
        h.append("<div><table class=\"parity\"><thead><tr><th>tensor</th><th>shape</th><th>max_abs</th><th>rel_l2</th><th>limit</th><th></th></tr></thead><tbody>");
        for (Parity.TensorResult t : r.tensors()) {
            StringBuilder lim = new StringBuilder();
            if (!Double.isNaN(t.limitMaxAbs())) lim.append("max_abs ≤ ").append(sci(t.limitMaxAbs()));
            if (!Double.isNaN(t.limitRelL2())) lim.append(lim.isEmpty() ? "" : ", ").append("rel_l2 ≤ ").append(sci(t.limitRelL2()));
            h.append("<tr class=\"").append(t.pass() ? "ok" : "bad").append("\"><td><code>").append(Html.esc(t.name())).append("</code></td><td>")
                    .append(Arrays.toString(t.shape()).replace(" ", "")).append("</td><td class=\"num\">").append(sci(t.maxAbs()))
                    .append("</td><td class=\"num\">").append(sci(t.relL2())).append("</td><td>").append(lim).append("</td><td>")
                    .append(t.pass() ? "ok" : "FAIL").append("</td></tr>");
        }
        h.append("</tbody></table>\n");
        if (r.argmax() != null) {
            Parity.ArgmaxResult a = r.argmax();
            h.append(String.format(Locale.ROOT, "<p class=\"argmax %s\">argmax agreement: start %.4f, end %.4f (exact: %.4f, %.4f)%s</p>\n",
                    a.pass() ? "ok" : "bad", a.start(), a.end(), a.startExact(), a.endExact(),
                    Double.isNaN(a.limit()) ? "" : String.format(Locale.ROOT, ", limit %.2f: %s", a.limit(), a.pass() ? "ok" : "FAIL")));
        }
        h.append("</div>\n</div>\n</main>\n<footer>Made by <b>bertj parity --report</b>. Self-contained: this file loads nothing"
                + " from the network.</footer>\n</body>\n</html>\n");
        return h.toString();
    }

    /** As {@code bertj parity} prints numbers: %.3e. */
    static String sci(double v) {
        return String.format(Locale.ROOT, "%.3e", v);
    }

    /** 1e-05 as "1e-5", 5e-03 as "5e-3", 2.5e-4 as "2.5e-4". */
    static String shortSci(double v) {
        int e = (int) Math.floor(Math.log10(v));
        double m = v / Math.pow(10, e);
        String ms = Math.abs(m - Math.round(m)) < 1e-9 ? Long.toString(Math.round(m)) : String.format(Locale.ROOT, "%.2g", m);
        return ms + "e" + e;
    }

    private static String fileName(String path) {
        int k = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
        return path.substring(k + 1);
    }
}
