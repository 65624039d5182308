package bertj.explain;

import bertj.readers.Tensor;
import bertj.testing.Chromium;
import bertj.testing.Cli;
import bertj.testing.PyTorch;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The explain report in a real browser: Debian's headless Chromium, driven over the DevTools protocol by
 * {@link Chromium}, opens the file from disk with a fresh profile and no network, and
 * <ul>
 *   <li>requests nothing but the file itself and its data: URIs;</li>
 *   <li>shows a non-blank page, whose heatmap pixels at probed cells have the colour of the attention weight
 *       {@code bertj trace} gives there (and not that of the transposed cell);</li>
 *   <li>switches to another head on a real mouse click on its thumbnail (title and pixels follow);</li>
 *   <li>reads out the weight under the pointer, and draws the head view's lines for a clicked token.</li>
 * </ul>
 * Chromium missing fails the test where it must run (scripts/test.sh, which CI runs, sets
 * BERTJ_REQUIRE_CHROMIUM=1 after scripts/setup.sh installed it; or CI is set); elsewhere it is skipped, so a
 * developer without it can run the other tests. Screenshots go to target/explain-screenshots/.
 */
class ExplainBrowserTest {
    @TempDir
    static Path dir;

    static boolean required() {
        return "1".equals(System.getenv("BERTJ_REQUIRE_CHROMIUM")) || (System.getenv("CI") != null && !System.getenv("CI").isBlank());
    }

    /** Chromium, or a failure (where it is required) or a skip saying how to get it. */
    static Path chromium() {
        var exe = Chromium.find();
        if (exe.isEmpty()) {
            String why = "Debian's chromium is not installed (scripts/setup.sh installs it: apt-get install chromium; or set BERTJ_CHROMIUM)";
            if (required()) fail(why);
            Assumptions.abort(why);
        }
        return exe.get();
    }

    @Test
    void reportWorksInHeadlessChromium() throws Exception {
        Path exe = chromium();
        long t0 = System.nanoTime();
        Path report = dir.resolve("report.html");
        Cli.Result r = Cli.run("explain", "--model", "minilm", "--text", Fixtures.TEXT, "--out", report.toString());
        assertEquals(0, r.code(), r.err());
        ReportData d = ReportData.read(report);
        int s = d.seq;
        Map<String, Tensor> trace = Fixtures.trace(dir, "minilm", d.ints("ids"), d.ints("types"));
        long t1 = System.nanoTime();
        Path shots = PyTorch.projectDir().resolve("target/explain-screenshots");
        Files.createDirectories(shots);

        try (Chromium c = Chromium.launch(exe, dir, 1280, 900)) {
            long started = System.nanoTime();
            c.send("Network.enable", Chromium.obj());
            c.navigate(report.toUri().toString());
            c.waitUntil("document.body.dataset.ready === '1'", Duration.ofSeconds(60));

            for (JsonNode e : c.events("Network.requestWillBeSent")) {
                String url = e.get("request").get("url").asText();
                assertTrue(url.startsWith("file:") || url.startsWith("data:"), "the page requested " + url);
            }
            // (less the head view's lines, which the script has drawn by now)
            int parsed = c.eval("document.getElementsByTagName('*').length - document.querySelectorAll('#hv-lines line').length").asInt();
            assertEquals(HtmlCheck.elements(Files.readString(report)), parsed, "Chromium's parser made the elements the tags say");
            BufferedImage first = c.screenshot();
            ImageIO.write(first, "png", shots.resolve("overview.png").toFile());
            assertNotBlank(first);

            // zoom in with a real click, then probe the heatmap of layer 0, head 0
            clickOn(c, ".zoom button[data-cell='16']");
            c.waitUntil("document.body.dataset.cell === '16'", Duration.ofSeconds(10));
            List<int[]> cells = probeCells(trace, 0, 0, s, null);
            probe(c, trace, 0, 0, s, cells);

            // a click on another head's thumbnail switches the view
            clickOn(c, ".thumb[data-l='4'][data-h='7']");
            c.waitUntil("document.body.dataset.shown === '4-7'", Duration.ofSeconds(10));
            assertEquals("Layer 4, head 7", c.eval("document.querySelector('#head-title').textContent").asText());
            assertTrue(c.eval("document.querySelector(\".thumb[data-l='4'][data-h='7']\").classList.contains('sel')"
                    + " && !document.querySelector(\".thumb[data-l='0'][data-h='0']\").classList.contains('sel')").asBoolean());
            List<int[]> switched = probeCells(trace, 4, 7, s, Fixtures.attention(trace, 0, 0, s));
            probe(c, trace, 4, 7, s, switched);

            // the read-out under the pointer
            double[] p47 = Fixtures.attention(trace, 4, 7, s);
            int[] cell = switched.get(0);
            double[] xy = cellCentre(c, s, cell[0], cell[1]);
            c.move(xy[0], xy[1]);
            String text = c.eval("document.querySelector('#readout').textContent").asText();
            Matcher m = Pattern.compile("query #(\\d+) .* key #(\\d+) .*: p = ([0-9.]+)").matcher(text);
            assertTrue(m.find(), text);
            assertEquals(cell[0], Integer.parseInt(m.group(1)), text);
            assertEquals(cell[1], Integer.parseInt(m.group(2)), text);
            assertEquals(p47[cell[0] * s + cell[1]], Double.parseDouble(m.group(3)), 0.5 / 4095 + 5e-5 + 1e-6, text);

            // the head view: a click on a query token draws exactly its lines of weight >= 0.005
            int q = cell[0];
            clickOn(c, ".hv-left span[data-l='" + q + "']");
            double[] shown = d.attention(4, 7);
            int expectedLines = 0;
            for (int j = 0; j < s; j++) if (shown[q * s + j] >= 0.005) expectedLines++;
            final int want = expectedLines;
            c.waitUntil("document.querySelectorAll('#hv-lines line').length === " + want, Duration.ofSeconds(10));
            assertTrue(c.eval("document.querySelector(\".hv-left span[data-l='" + q + "']\").classList.contains('focus')").asBoolean());
            // each line runs from the query's label to a key's label, one per key of weight >= 0.005
            JsonNode ends = c.eval("Array.from(document.querySelectorAll('#hv-lines line')).map(l => [+l.getAttribute('y1'),"
                    + " +l.getAttribute('y2')])");
            JsonNode labelTops = c.eval("Array.from(document.querySelectorAll('.hv-right span')).map(s => s.offsetTop + s.offsetHeight / 2)");
            double queryMid = c.eval("(() => { const s = document.querySelector(\".hv-left span[data-l='" + q + "']\");"
                    + " return s.offsetTop + s.offsetHeight / 2; })()").asDouble();
            Set<Integer> keysDrawn = new HashSet<>();
            for (JsonNode line : ends) {
                assertEquals(queryMid, line.get(0).asDouble(), 0.51, "a line starts at the query's label");
                int k = -1;
                for (int j = 0; j < s; j++) if (Math.abs(labelTops.get(j).asDouble() - line.get(1).asDouble()) <= 0.51) k = j;
                assertTrue(k >= 0 && shown[q * s + k] >= 0.005, "a line ends at the label of a key it attends to");
                keysDrawn.add(k);
            }
            assertEquals(want, keysDrawn.size(), "one line per key");
            int strongest = 0;
            for (int j = 1; j < s; j++) if (p47[q * s + j] > p47[q * s + strongest]) strongest = j;
            String bg = c.eval("getComputedStyle(document.querySelector(\".hv-right span[data-r='" + strongest + "']\")).backgroundColor").asText();
            int rgb = Colormap.rgb(Colormap.level(Colormap.attentionScale(p47[q * s + strongest])));
            assertEquals(String.format("rgb(%d, %d, %d)", rgb >> 16, rgb >> 8 & 255, rgb & 255), bg, "the strongest key is shaded by its weight");

            Object[] panel = rect(c, ".panels");
            ImageIO.write(c.screenshot((double) panel[0], (double) panel[1], (double) panel[2], Math.min(900, (double) panel[3])), "png",
                    shots.resolve("head.png").toFile());
            long done = System.nanoTime();
            System.out.printf("browser test: report and trace %.1f s, chromium start %.1f s, page checks %.1f s%n",
                    (t1 - t0) / 1e9, (started - t1) / 1e9, (done - started) / 1e9);
        }
    }

    /** Cells to probe: the strongest weights and a spread of others, each unlike its transposed cell (and unlike `other`). */
    static List<int[]> probeCells(Map<String, Tensor> trace, int l, int h, int s, double[] other) {
        double[] p = Fixtures.attention(trace, l, h, s);
        List<int[]> out = new ArrayList<>();
        Set<Integer> taken = new HashSet<>();
        Integer[] order = new Integer[s * s];
        for (int k = 0; k < order.length; k++) order[k] = k;
        java.util.Arrays.sort(order, (a, b) -> Double.compare(p[b], p[a]));
        for (int rank = 0; rank < order.length && out.size() < 6; rank += out.size() < 3 ? 1 : Math.max(1, s / 3)) {
            int k = order[rank], i = k / s, j = k % s;
            int lv = level(p[k]);
            if (Math.abs(lv - level(p[j * s + i])) < 24) continue;
            if (other != null && Math.abs(lv - level(other[k])) < 24) continue;
            if (taken.add(k)) out.add(new int[] {i, j});
        }
        assertTrue(out.size() >= 3, "found cells to probe in layer " + l + " head " + h);
        return out;
    }

    /** Screenshot pixels at the centres of the cells have the colour of the trace's weight there, not the transposed one's. */
    static void probe(Chromium c, Map<String, Tensor> trace, int l, int h, int s, List<int[]> cells) {
        c.eval("document.querySelector('#hm-scroll').scrollIntoView({block: 'start'}), true");
        double[] p = Fixtures.attention(trace, l, h, s);
        BufferedImage shot = c.screenshot();
        for (int[] cell : cells) {
            double[] xy = cellCentre(c, s, cell[0], cell[1]);
            int got = shot.getRGB((int) Math.floor(xy[0]), (int) Math.floor(xy[1])) & 0xffffff;
            int want = Colormap.rgb(level(p[cell[0] * s + cell[1]])), transposed = Colormap.rgb(level(p[cell[1] * s + cell[0]]));
            String where = "layer " + l + " head " + h + " cell (" + cell[0] + ", " + cell[1] + ") p = " + p[cell[0] * s + cell[1]];
            assertTrue(distance(got, want) <= 6, where + ": pixel " + hex(got) + ", expected " + hex(want));
            assertTrue(distance(got, transposed) > 12, where + ": the probe would not tell the transposed cell " + hex(transposed));
        }
    }

    static double[] cellCentre(Chromium c, int s, int i, int j) {
        JsonNode r = c.eval("(() => { const r = document.querySelector('#heat').getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; })()");
        double cw = r.get(2).asDouble() / s, ch = r.get(3).asDouble() / s;
        return new double[] {r.get(0).asDouble() + (j + 0.5) * cw, r.get(1).asDouble() + (i + 0.5) * ch};
    }

    static void clickOn(Chromium c, String selector) {
        JsonNode r = c.eval("(() => { const e = document.querySelector(\"" + selector + "\"); e.scrollIntoView({block: 'center'});"
                + " const r = e.getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; })()");
        c.click(r.get(0).asDouble(), r.get(1).asDouble());
    }

    /** {x, y, width, height} of an element in page coordinates. */
    static Object[] rect(Chromium c, String selector) {
        JsonNode r = c.eval("(() => { const r = document.querySelector(\"" + selector + "\").getBoundingClientRect();"
                + " return [r.left + scrollX, r.top + scrollY, r.width, r.height]; })()");
        return new Object[] {r.get(0).asDouble(), r.get(1).asDouble(), r.get(2).asDouble(), r.get(3).asDouble()};
    }

    static void assertNotBlank(BufferedImage img) {
        Set<Integer> colours = new HashSet<>();
        long nonWhite = 0;
        for (int y = 0; y < img.getHeight(); y += 2) {
            for (int x = 0; x < img.getWidth(); x += 2) {
                int c = img.getRGB(x, y) & 0xffffff;
                colours.add(c);
                if (distance(c, 0xffffff) > 24) nonWhite++;
            }
        }
        double frac = nonWhite / (img.getWidth() * img.getHeight() / 4.0);
        assertTrue(colours.size() > 200 && frac > 0.05, "the page looks blank: " + colours.size() + " colours, " + frac + " non-white");
    }

    static int level(double p) {
        return Colormap.level(Colormap.attentionScale(p));
    }

    static int distance(int a, int b) {
        return Math.max(Math.abs((a >> 16 & 255) - (b >> 16 & 255)), Math.max(Math.abs((a >> 8 & 255) - (b >> 8 & 255)), Math.abs((a & 255) - (b & 255))));
    }

    static String hex(int rgb) {
        return String.format("#%06x", rgb);
    }
}
