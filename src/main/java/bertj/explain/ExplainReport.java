package bertj.explain;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.zip.Deflater;

/**
 * The explain report: one self-contained HTML file (no network, no external script, style or font) showing
 * what the encoder did with one sequence.
 * <ul>
 *   <li>the word pieces;</li>
 *   <li>attention: a model view (every layer × head as a thumbnail heatmap), and for the head clicked there a
 *       heatmap (query rows × key columns, zoomable, tokens labelled, the value under the pointer read out) and a
 *       head view as bertviz draws it (tokens in two columns, a line from each query to each key it attends to,
 *       as opaque as the weight);</li>
 *   <li>the norm of each token's hidden state after the embeddings and after each layer;</li>
 *   <li>with a QA head, the start and end logits over the tokens with the chosen span marked;</li>
 *   <li>the settings and the model's {@code bertj info}.</li>
 * </ul>
 * Pictures are drawn here, in Java: every heatmap is an 8-bit indexed PNG (one pixel per cell, the cell's
 * {@link Colormap} level as its palette index) embedded as a data URI and shown enlarged with pixelated scaling;
 * the charts are inline SVG. The page's small inline script (explain.js, written for bertj) only switches heads,
 * zooms, reads values out and draws the head view's lines from the embedded values.
 *
 * <p>The values themselves travel in a JSON block ({@code <script id="bertj-data" type="application/json">}):
 * attention as twelve-bit round(p · 4095) in two byte planes, zlib-deflated, base64 (so within 1.2e-4 of the
 * encoder's value: exact values are {@code bertj trace}'s job); hidden-state norms and logits as JSON numbers
 * (exact doubles).
 */
public final class ExplainReport {
    private ExplainReport() {
    }

    /** Pixels per token along the token axis of the norm and logit charts. */
    static final int PITCH = 16;

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Writes the report to a file (through a temporary file beside it, so a failure leaves nothing half-written). */
    public static void write(Explanation e, Path out) {
        Reports.writeAtomically(out, html(e).getBytes(StandardCharsets.UTF_8));
    }

    /** What each head contributes to the file, encoded once: thumbnail, full heatmap (null when the same), values. */
    private record Encoded(String thumbnail, String heatmap, String values) {
    }

    public static String html(Explanation e) {
        Png.headless();
        Capture c = e.capture();
        // PNG and deflate work per head is independent: spread it over the cores
        Encoded[] enc = new Encoded[c.layers() * c.heads()];
        java.util.stream.IntStream.range(0, enc.length).parallel().forEach(k -> {
            double[] p = c.attention(k / c.heads(), k % c.heads());
            int n = c.seqLen();
            String full = Png.dataUri(heatmapPng(p, n));
            enc[k] = n > THUMB ? new Encoded(Png.dataUri(thumbnailPng(p, n)), full, attentionData(p)) : new Encoded(full, null, attentionData(p));
        });
        int s = c.seqLen(), layers = c.layers(), heads = c.heads();
        StringBuilder h = new StringBuilder(1 << 20);
        h.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
                .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
                .append("<title>bertj explain: ").append(Html.esc(e.title())).append("</title>\n<style>\n")
                .append(resource("explain.css")).append("</style>\n</head>\n<body>\n");

        // header
        h.append("<header>\n<h1>bertj explain <span class=\"what\">").append(Html.esc(e.title())).append("</span></h1>\n");
        h.append("<p class=\"sub\">").append(s).append(" tokens · ").append(layers).append(" layers × ").append(heads)
                .append(" heads · hidden ").append(c.hidden()).append(" · backend ").append(Html.esc(c.backend())).append(" (")
                .append(Html.esc(c.precision())).append(")</p>\n");
        if (e.answer() != null) {
            Explanation.Span a = e.answer();
            h.append("<p class=\"answer\">Answer: <mark>").append(Html.esc(a.text())).append("</mark> <span class=\"dim\">tokens ")
                    .append(a.start()).append("–").append(a.end()).append(", score ").append(Html.num(a.score()))
                    .append(", probability ").append(Html.num(a.probability())).append("</span></p>\n");
        }
        for (String note : e.notes()) h.append("<p class=\"note\">").append(Html.esc(note)).append("</p>\n");
        h.append("<nav><a href=\"#tokens\">word pieces</a><a href=\"#attention\">attention</a><a href=\"#norms\">hidden-state norms</a>");
        if (c.startLogits() != null) h.append("<a href=\"#logits\">start/end logits</a>");
        h.append("<a href=\"#settings\">settings &amp; model</a></nav>\n</header>\n<main>\n");

        tokensSection(h, e);
        attentionSection(h, e, enc);
        normsSection(h, e);
        if (c.startLogits() != null) logitsSection(h, e);
        settingsSection(h, e);

        h.append("</main>\n<footer>Made by <b>bertj explain</b>. This file is self-contained: it loads nothing from the network."
                + " Layers and heads are numbered from 0, as in <code>bertj trace</code> (layer.0 … ).</footer>\n");
        h.append("<script type=\"application/json\" id=\"bertj-data\">").append(Html.scriptJson(data(e, enc))).append("</script>\n");
        h.append("<script>\n").append(resource("explain.js")).append("</script>\n</body>\n</html>\n");
        return h.toString();
    }

    // ---- sections ----

    private static void tokensSection(StringBuilder h, Explanation e) {
        h.append("<section id=\"tokens\">\n<h2>Word pieces</h2>\n<p class=\"help\">The sequence the model read: WordPiece tokens"
                + " (<code>##</code> continues the previous word), numbered from 0. Colour shows the token type (segment)");
        if (e.passage() != null) h.append("; the answer's tokens are outlined");
        h.append(". Click a token to show where it attends in the head view.</p>\n<div class=\"chips\">");
        for (int i = 0; i < e.tokens().size(); i++) {
            boolean special = isSpecial(e.tokens().get(i));
            boolean inAnswer = e.answer() != null && i >= e.answer().start() && i <= e.answer().end();
            h.append("<span class=\"tok t").append(Math.min(e.types()[i], 1)).append(special ? " sp" : "").append(inAnswer ? " ans" : "")
                    .append("\" data-i=\"").append(i).append("\" title=\"#").append(i).append(", id ").append(e.ids()[i])
                    .append(", type ").append(e.types()[i]).append("\"><sub>").append(i).append("</sub>")
                    .append(Html.esc(e.tokens().get(i))).append("</span>");
        }
        h.append("</div>\n</section>\n");
    }

    private static void attentionSection(StringBuilder h, Explanation e, Encoded[] enc) {
        Capture c = e.capture();
        int s = c.seqLen();
        h.append("<section id=\"attention\">\n<h2>Attention</h2>\n<p class=\"help\">Each head of each layer turns every token"
                + " (a <em>query</em>) into a weighted average over all tokens (the <em>keys</em>): softmax(q·kᵀ/√d) per row,"
                + " so each row's weights sum to 1. Click a head in the model view to see it below as a heatmap (row = query,"
                + " column = key) and as a head view.")
                .append(s > THUMB ? " With " + s + " tokens each thumbnail shows the largest weight of each block of "
                        + (s + THUMB - 1) / THUMB + " × " + (s + THUMB - 1) / THUMB + " cells; the heatmap below shows every cell." : "")
                .append("</p>\n");
        h.append("<div class=\"legend\">").append(attentionLegend()).append("</div>\n");
        h.append("<h3>Model view: every layer × head</h3>\n<div class=\"mv").append(s < 64 ? " px" : "").append("\" style=\"--heads:")
                .append(c.heads()).append("\">");
        h.append("<div class=\"mv-corner\"></div>");
        for (int hd = 0; hd < c.heads(); hd++) h.append("<div class=\"mv-col\">head ").append(hd).append("</div>");
        for (int l = 0; l < c.layers(); l++) {
            h.append("<div class=\"mv-row\">layer ").append(l).append("</div>");
            for (int hd = 0; hd < c.heads(); hd++) {
                h.append("<button class=\"thumb\" data-l=\"").append(l).append("\" data-h=\"").append(hd)
                        .append("\" title=\"layer ").append(l).append(", head ").append(hd).append("\"><img alt=\"layer ").append(l)
                        .append(" head ").append(hd).append("\" src=\"").append(enc[l * c.heads() + hd].thumbnail()).append("\"></button>");
            }
        }
        h.append("</div>\n");
        h.append("<h3 id=\"head-title\">Layer 0, head 0</h3>\n<div class=\"panels\">\n");
        // heatmap
        h.append("<div class=\"panel\"><h4>Heatmap</h4><div class=\"zoom\">cell size: ");
        for (String z : new String[] {"fit", "4", "8", "12", "16"}) {
            h.append("<button data-cell=\"").append(z).append("\">").append(z.equals("fit") ? "fit" : z + " px").append("</button>");
        }
        h.append("</div>\n<div class=\"readout\" id=\"readout\">Point at a cell to read its weight.</div>\n");
        h.append("<div class=\"hm-scroll\" id=\"hm-scroll\"><div class=\"hm\" id=\"hm\" style=\"--n:").append(s).append("\">");
        h.append("<div class=\"hm-corner\"><span>query ↓ key →</span></div><div class=\"hm-keys\">");
        labels(h, e, "k");
        h.append("</div><div class=\"hm-queries\">");
        labels(h, e, "q");
        h.append("</div><img id=\"heat\" alt=\"attention heatmap of the selected head\"></div></div></div>\n");
        // head view
        h.append("<div class=\"panel\"><h4>Head view</h4><p class=\"help small\">Lines join each query (left) to the keys (right)"
                + " it attends to, as opaque as the weight (weights under 0.02 are not drawn). Click a token on the left to"
                + " see only its attention, with the keys shaded by weight; click it again to see all.</p>\n");
        h.append("<div class=\"hv-scroll\" id=\"hv-scroll\"><div class=\"hv\" style=\"--n:").append(s).append("\"><div class=\"hv-col hv-left\">");
        labels(h, e, "l");
        h.append("</div><svg id=\"hv-lines\" class=\"hv-lines\" width=\"170\" height=\"")
                .append(s * 18).append("\"></svg><div class=\"hv-col hv-right\">");
        labels(h, e, "r");
        h.append("</div></div></div></div>\n</div>\n</section>\n");
    }

    private static void labels(StringBuilder h, Explanation e, String side) {
        for (int i = 0; i < e.tokens().size(); i++) {
            h.append("<span data-").append(side).append("=\"").append(i).append("\" style=\"--i:").append(i).append("\" title=\"#").append(i)
                    .append(" ").append(Html.esc(e.tokens().get(i))).append("\">").append(Html.esc(e.tokens().get(i))).append("</span>");
        }
    }

    private static void normsSection(StringBuilder h, Explanation e) {
        Capture c = e.capture();
        double[][] norms = c.hiddenNorms();
        double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
        for (double[] row : norms) for (double v : row) {
            lo = Math.min(lo, v);
            hi = Math.max(hi, v);
        }
        int rowH = 22, top = 8, s = c.seqLen(), rows = norms.length, labelsH = labelsHeight(e);
        int width = s * PITCH + 8, height = top + rows * rowH + labelsH;
        h.append("<section id=\"norms\">\n<h2>Hidden-state norms</h2>\n<p class=\"help\">‖h‖₂, the length of the vector each"
                + " token carries, after the embeddings (the input to layer 0) and after each layer. Point at a cell for its value."
                + " A LayerNorm ends the embeddings and every layer, so each norm is near √").append(c.hidden())
                .append(" × the root mean square of that LayerNorm's weights (γ, with its bias β); tokens the model treats"
                + " specially often stand out.</p>\n");
        h.append("<div class=\"legend\">").append(linearLegend(lo, hi, "‖h‖₂")).append("</div>\n");
        h.append("<div class=\"chart\"><svg class=\"axis\" width=\"96\" height=\"").append(height).append("\">");
        for (int r = 0; r < rows; r++) {
            h.append(Svg.text(90, top + r * rowH + rowH / 2.0 + 4, "rl", r == 0 ? "embeddings" : "layer " + (r - 1)));
        }
        h.append("</svg><div class=\"hscroll\"><svg id=\"norms-svg\" width=\"").append(width)
                .append("\" height=\"").append(height).append("\">");
        for (int r = 0; r < rows; r++) {
            for (int t = 0; t < s; t++) {
                double v = norms[r][t], f = hi > lo ? (v - lo) / (hi - lo) : 0.5;
                h.append("<rect x=\"").append(t * PITCH).append("\" y=\"").append(top + r * rowH).append("\" width=\"").append(PITCH - 1)
                        .append("\" height=\"").append(rowH - 1).append("\" fill=\"").append(Colormap.css(f)).append("\"><title>#").append(t)
                        .append(" ").append(Html.esc(e.tokens().get(t))).append(", ").append(r == 0 ? "embeddings" : "layer " + (r - 1))
                        .append(": ‖h‖ = ").append(Html.num(v)).append("</title></rect>");
            }
        }
        tokenAxis(h, e, top + rows * rowH + 6);
        h.append("</svg></div></div>\n</section>\n");
    }

    private static void logitsSection(StringBuilder h, Explanation e) {
        Capture c = e.capture();
        double[] st = c.startLogits(), en = c.endLogits();
        int s = c.seqLen();
        double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
        for (int t = 0; t < s; t++) {
            lo = Math.min(lo, Math.min(st[t], en[t]));
            hi = Math.max(hi, Math.max(st[t], en[t]));
        }
        List<Double> ticks = Svg.ticks(lo, hi, 5);
        double y0 = Math.min(lo, ticks.get(0)), y1 = Math.max(hi, ticks.get(ticks.size() - 1));
        if (!(y1 > y0)) {
            y0 -= 1;
            y1 += 1;
        }
        int top = 24, plotH = 220, labelsH = labelsHeight(e), width = s * PITCH + 8, height = top + plotH + 8 + labelsH;
        final double fy0 = y0, fy1 = y1;
        java.util.function.DoubleUnaryOperator y = v -> top + plotH * (fy1 - v) / (fy1 - fy0);
        h.append("<section id=\"logits\">\n<h2>Start and end logits</h2>\n<p class=\"help\">The QA head scores every token as the"
                + " answer's first (start) and last (end) token; an answer is the span with the highest start + end among the"
                + " passage's tokens, at most --max-answer-length long, start ≤ end, as run_squad.py decodes it.");
        if (e.passage() != null) h.append(" Grey columns are not passage tokens (question, [CLS], [SEP]): no answer can lie there.");
        if (e.answer() != null) h.append(" The chosen span is shaded green.");
        h.append("</p>\n<div class=\"legend\"><span class=\"key start\"></span> start logit <span class=\"key end\"></span> end logit</div>\n");
        h.append("<div class=\"chart\"><svg class=\"axis\" width=\"96\" height=\"").append(height).append("\">");
        for (double t : ticks) h.append(Svg.text(90, y.applyAsDouble(t) + 4, "rl", Html.num(t)));
        h.append(Svg.text(90, top - 10, "rl dim", "logit"));
        h.append("</svg><div class=\"hscroll\"><svg id=\"logits-svg\" width=\"").append(width)
                .append("\" height=\"").append(height).append("\">");
        if (e.passage() != null) {
            for (int t = 0; t < s; t++) {
                if (!e.passage()[t]) {
                    h.append("<rect class=\"nonpassage\" x=\"").append(t * PITCH).append("\" y=\"").append(top).append("\" width=\"").append(PITCH)
                            .append("\" height=\"").append(plotH).append("\"/>");
                }
            }
        }
        if (e.answer() != null) {
            Explanation.Span a = e.answer();
            h.append("<rect id=\"answer-band\" class=\"answer\" x=\"").append(a.start() * PITCH).append("\" y=\"").append(top - 20)
                    .append("\" width=\"").append((a.end() - a.start() + 1) * PITCH).append("\" height=\"").append(plotH + 20).append("\"/>");
            // the label reads from the band's left edge, or ends at its right edge when there is more room to the left
            boolean leftward = a.start() * PITCH > width - (a.end() + 1) * PITCH;
            int room = (leftward ? (a.end() + 1) * PITCH : width - a.start() * PITCH) / 7;
            String label = "answer: " + abbreviate(a.text(), Math.max(8, room - 8));
            h.append(Svg.text(leftward ? (a.end() + 1) * PITCH - 3 : a.start() * PITCH + 3, top - 7,
                    leftward ? "anslabel end" : "anslabel", label));
        }
        for (double t : ticks) {
            h.append("<line class=\"grid\" x1=\"0\" x2=\"").append(width).append("\" y1=\"").append(Html.n(y.applyAsDouble(t)))
                    .append("\" y2=\"").append(Html.n(y.applyAsDouble(t))).append("\"/>");
        }
        for (int k = 0; k < 2; k++) {
            double[] v = k == 0 ? st : en;
            String cls = k == 0 ? "start" : "end";
            h.append("<polyline class=\"").append(cls).append("\" points=\"");
            for (int t = 0; t < s; t++) {
                h.append(t == 0 ? "" : " ").append(Html.n(t * PITCH + PITCH / 2.0)).append(',').append(Html.n(y.applyAsDouble(v[t])));
            }
            h.append("\"/>");
            for (int t = 0; t < s; t++) {
                h.append("<circle class=\"").append(cls).append("\" cx=\"").append(Html.n(t * PITCH + PITCH / 2.0)).append("\" cy=\"")
                        .append(Html.n(y.applyAsDouble(v[t]))).append("\" r=\"2.5\"><title>#").append(t).append(" ")
                        .append(Html.esc(e.tokens().get(t))).append(": ").append(cls).append(" logit ").append(Html.num(v[t]))
                        .append("</title></circle>");
            }
        }
        tokenAxis(h, e, top + plotH + 8);
        h.append("</svg></div></div>\n</section>\n");
    }

    private static void settingsSection(StringBuilder h, Explanation e) {
        h.append("<section id=\"settings\">\n<h2>Settings and model</h2>\n<table class=\"settings\"><tbody>");
        for (Explanation.Setting s : e.settings()) {
            h.append("<tr><th>").append(Html.esc(s.name())).append("</th><td>").append(Html.esc(s.value())).append("</td></tr>");
        }
        h.append("</tbody></table>\n<details open><summary><code>bertj info</code></summary><pre>").append(Html.esc(e.modelInfo()))
                .append("</pre></details>\n</section>\n");
    }

    /** Room for the rotated token labels: the longest (cut at 14 characters) at about 7 pixels a character. */
    private static int labelsHeight(Explanation e) {
        int longest = 1;
        for (String t : e.tokens()) longest = Math.max(longest, Math.min(14, t.codePointCount(0, t.length())));
        return longest * 7 + 14;
    }

    /** Token labels under a chart, rotated to read upwards, one per {@link #PITCH} pixels. */
    private static void tokenAxis(StringBuilder h, Explanation e, double y) {
        for (int t = 0; t < e.tokens().size(); t++) {
            double x = t * PITCH + PITCH / 2.0 + 4;
            h.append("<text class=\"tick\" transform=\"translate(").append(Html.n(x)).append(',').append(Html.n(y))
                    .append(") rotate(-90)\">").append(Html.esc(abbreviate(e.tokens().get(t), 14))).append("</text>");
        }
    }

    // ---- legends ----

    /** The attention colour bar: t = √p along it, labelled with p. */
    private static String attentionLegend() {
        int w = 320;
        StringBuilder b = new StringBuilder("<svg width=\"").append(w + 280)
                .append("\" height=\"34\" class=\"colourbar\">");
        colourStripes(b, w);
        for (double p : new double[] {0, 0.01, 0.05, 0.25, 0.5, 1}) {
            double x = 10 + w * Colormap.attentionScale(p);
            b.append("<line x1=\"").append(Html.n(x)).append("\" x2=\"").append(Html.n(x)).append("\" y1=\"14\" y2=\"18\" stroke=\"#444\"/>");
            b.append(Svg.text(x, 30, "mid", Html.num(p)));
        }
        b.append(Svg.text(w + 18, 12, null, "attention weight p (colour ∝ √p)"));
        return b.append("</svg>").toString();
    }

    private static String linearLegend(double lo, double hi, String what) {
        int w = 320;
        StringBuilder b = new StringBuilder("<svg width=\"").append(w + 280)
                .append("\" height=\"34\" class=\"colourbar\">");
        colourStripes(b, w);
        List<Double> ticks = Svg.ticks(lo, hi, 4);
        for (double v : ticks) {
            if (v < lo || v > hi || !(hi > lo)) continue;
            double x = 10 + w * (v - lo) / (hi - lo);
            b.append("<line x1=\"").append(Html.n(x)).append("\" x2=\"").append(Html.n(x)).append("\" y1=\"14\" y2=\"18\" stroke=\"#444\"/>");
            b.append(Svg.text(x, 30, "mid", Html.num(v)));
        }
        b.append(Svg.text(w + 18, 12, null, what + ": " + Html.num(lo) + " … " + Html.num(hi)));
        return b.append("</svg>").toString();
    }

    private static void colourStripes(StringBuilder b, int w) {
        int n = 64;
        for (int k = 0; k < n; k++) {
            b.append("<rect x=\"").append(Html.n(10 + w * k / (double) n)).append("\" y=\"2\" width=\"").append(Html.n(w / (double) n + 0.6))
                    .append("\" height=\"12\" fill=\"").append(Colormap.css(k / (n - 1.0))).append("\"/>");
        }
        b.append("<rect x=\"10\" y=\"2\" width=\"").append(w).append("\" height=\"12\" fill=\"none\" stroke=\"#999\"/>");
    }

    // ---- data ----

    /** Longest side of a model-view thumbnail, in cells: longer inputs get a thumbnail of their own. */
    static final int THUMB = 96;

    /**
     * A model-view thumbnail of a long input: blocks of b × b cells (b = ⌈S / 96⌉) shown as the largest weight
     * in the block, so a sharp pattern (a diagonal, a column on [SEP]) stays visible at 70 pixels, where an
     * average would fade it.
     */
    static byte[] thumbnailPng(double[] probs, int s) {
        int b = (s + THUMB - 1) / THUMB, t = (s + b - 1) / b;
        byte[] levels = new byte[t * t];
        for (int i = 0; i < s; i++) {
            for (int j = 0; j < s; j++) {
                int k = (i / b) * t + j / b, lv = Colormap.level(Colormap.attentionScale(probs[i * s + j]));
                if (lv > (levels[k] & 0xff)) levels[k] = (byte) lv;
            }
        }
        return Png.indexed(t, t, levels);
    }

    /** The heatmap of one head: S × S pixels, pixel (j, i) = level of √p(query i → key j). */
    static byte[] heatmapPng(double[] probs, int s) {
        byte[] levels = new byte[s * s];
        for (int k = 0; k < levels.length; k++) levels[k] = (byte) Colormap.level(Colormap.attentionScale(probs[k]));
        return Png.indexed(s, s, levels);
    }

    /** Attention values travel as q = round(p · {@value #QUANT}): within 1.2e-4 of the encoder's p, 4 decimals. */
    static final int QUANT = 4095;

    /**
     * base64(zlib(q as two byte planes: the n high bytes, then the n low bytes)), q = round(p · 4095), row-major
     * [query][key]: the values the page reads out and draws the head view from. Twelve bits keep a 384-token
     * report near half the size of sixteen (most weights of a long row are tiny, their low bits noise); the
     * planes compress better than interleaved bytes because the high plane is nearly all zeros.
     */
    static String attentionData(double[] probs) {
        int n = probs.length;
        byte[] raw = new byte[n * 2];
        for (int k = 0; k < n; k++) {
            int q = quantise(probs[k]);
            raw[k] = (byte) (q >>> 8);
            raw[n + k] = (byte) q;
        }
        // Level 6 with the FILTERED strategy: within 4% of level 9's size on these planes, at a tenth of its time.
        Deflater d = new Deflater(6);
        d.setStrategy(Deflater.FILTERED);
        d.setInput(raw);
        d.finish();
        ByteArrayOutputStream out = new ByteArrayOutputStream(raw.length / 3);
        byte[] buf = new byte[1 << 16];
        while (!d.finished()) out.write(buf, 0, d.deflate(buf));
        d.end();
        return Base64.getEncoder().encodeToString(out.toByteArray());
    }

    static int quantise(double p) {
        return (int) Math.round(Math.max(0, Math.min(1, p)) * QUANT);
    }

    private static String data(Explanation e, Encoded[] enc) {
        Capture c = e.capture();
        ObjectNode root = JSON.createObjectNode();
        root.put("format", "bertj-explain-1");
        ArrayNode tokens = root.putArray("tokens");
        e.tokens().forEach(tokens::add);
        ArrayNode ids = root.putArray("ids"), types = root.putArray("types");
        for (int i = 0; i < e.ids().length; i++) {
            ids.add(e.ids()[i]);
            types.add(e.types()[i]);
        }
        root.put("layers", c.layers());
        root.put("heads", c.heads());
        root.put("seq", c.seqLen());
        root.put("attention_encoding", "attention[layer * heads + head]: base64 of zlib-deflated q = round(p * "
                + QUANT + ") as two byte planes (the n high bytes, then the n low bytes), row-major [query][key]");
        root.put("attention_scale", QUANT);
        ArrayNode att = root.putArray("attention");
        for (Encoded x : enc) att.add(x.values());
        // The full heatmaps, where the thumbnails are smaller (else the page shows the thumbnail's own image).
        ArrayNode maps = root.putArray("heatmaps");
        for (Encoded x : enc) {
            if (x.heatmap() != null) maps.add(x.heatmap());
            else maps.addNull();
        }
        ArrayNode norms = root.putArray("hidden_norms");
        for (double[] row : c.hiddenNorms()) {
            ArrayNode r = norms.addArray();
            for (double v : row) r.add(v);
        }
        if (c.startLogits() != null) {
            ArrayNode st = root.putArray("start_logits"), en = root.putArray("end_logits");
            for (int t = 0; t < c.seqLen(); t++) {
                st.add(c.startLogits()[t]);
                en.add(c.endLogits()[t]);
            }
        }
        if (e.answer() != null) {
            ObjectNode a = root.putObject("answer");
            a.put("start", e.answer().start());
            a.put("end", e.answer().end());
            a.put("text", e.answer().text());
            a.put("score", e.answer().score());
            a.put("probability", e.answer().probability());
        }
        ArrayNode pal = root.putArray("palette");
        for (int k = 0; k < Colormap.LEVELS; k++) pal.add(String.format("#%06x", Colormap.rgb(k)));
        try {
            return JSON.writeValueAsString(root);
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
    }

    // ---- helpers ----

    static boolean isSpecial(String token) {
        return token.length() > 2 && token.startsWith("[") && token.endsWith("]") && token.equals(token.toUpperCase(java.util.Locale.ROOT));
    }

    static String abbreviate(String s, int max) {
        return s.codePointCount(0, s.length()) <= max ? s : s.substring(0, s.offsetByCodePoints(0, max - 1)) + "…";
    }

    static String resource(String name) {
        try (InputStream in = ExplainReport.class.getResourceAsStream("/bertj/explain/" + name)) {
            if (in == null) throw new IllegalStateException("bertj.jar lacks /bertj/explain/" + name);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
    }
}
