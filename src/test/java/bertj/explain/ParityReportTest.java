package bertj.explain;

import bertj.backend.Backends;
import bertj.backend.Batch;
import bertj.encoder.BertEncoder;
import bertj.model.ModelLoader;
import bertj.readers.SafeTensors;
import bertj.readers.Tensor;
import bertj.testing.Cli;
import bertj.testing.PyTorch;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code bertj parity --report/--plot}: the page is valid and self-contained, its table holds the numbers
 * {@code parity --json} prints, its chart is the PNG {@code --plot} writes, and a failing run still writes both
 * with the failures drawn red. The reference is the float64 oracle's output (no PyTorch needed here; the
 * PyTorch comparison itself is PyTorchParityTest's), perturbed for the failing run.
 */
class ParityReportTest {
    @TempDir
    static Path dir;
    static Path model, good, bad;

    @BeforeAll
    static void setUp() throws Exception {
        long seed = PyTorch.seed("parity report model and inputs");
        model = Fixtures.qaModel(dir, seed);
        Random r = new Random(seed + 1);
        int b = 2, s = 12;
        int[] ids = new int[b * s], types = new int[b * s], mask = new int[b * s];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = 1000 + r.nextInt(20000);
            types[i] = (i % s) >= s / 2 ? 1 : 0;
            mask[i] = (i % s) < s - 2 || i < s ? 1 : 0;
        }
        Map<String, Tensor> expected = new LinkedHashMap<>();
        long[][] in = new long[3][ids.length];
        for (int i = 0; i < ids.length; i++) {
            in[0][i] = ids[i];
            in[1][i] = types[i];
            in[2][i] = mask[i];
        }
        expected.put("input_ids", Tensor.ofLongs(new int[] {b, s}, in[0]));
        expected.put("token_type_ids", Tensor.ofLongs(new int[] {b, s}, in[1]));
        expected.put("attention_mask", Tensor.ofLongs(new int[] {b, s}, in[2]));
        try (BertEncoder e = new BertEncoder(ModelLoader.load(model).weights(), Backends.create("reference"))) {
            e.forward(new Batch(b, s, ids, types, mask), false, new BertEncoder.Tap() {
                @Override
                public boolean wants(String name) {
                    return name.equals("embeddings") || name.matches("layer\\.\\d+") || name.endsWith("_logits");
                }

                @Override
                public void take(String name, int[] shape, double[] values) {
                    expected.put(name, Tensor.ofDoubles(shape, values));
                }
            });
        }
        good = dir.resolve("good.safetensors");
        SafeTensors.write(good, expected, Map.of());
        double[] l1 = expected.get("layer.1").toDoubles();
        for (int i = 0; i < l1.length; i++) l1[i] += 1e-3 * (i % 7 - 3);
        expected.put("layer.1", Tensor.ofDoubles(expected.get("layer.1").shape(), l1));
        bad = dir.resolve("bad.safetensors");
        SafeTensors.write(bad, expected, Map.of());
    }

    private static final int FAIL_RGB = 0xdc2626;

    @Test
    void passingRunWritesTheChartNextToTheTable() throws Exception {
        Path html = dir.resolve("parity.html"), png = dir.resolve("parity.png");
        Cli.Result r = Cli.run("parity", "--model", model.toString(), "--reference", good.toString(), "--backend", "cpu",
                "--report", html.toString(), "--plot", png.toString(), "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode json = new ObjectMapper().readTree(r.out());
        assertTrue(json.get("pass").asBoolean(), "stdout is still the JSON report");
        String page = Files.readString(html, StandardCharsets.UTF_8);
        assertEquals(List.of(), HtmlCheck.problems(page));
        assertEquals(List.of(), HtmlCheck.externalReferences(page));
        assertTrue(!HtmlCheck.withoutPayloads(page).toLowerCase(Locale.ROOT).contains("http"), "no http anywhere but in base64");
        assertTrue(page.contains("class=\"verdict pass\">PASS<"));
        // the table: one row per tensor, the numbers parity prints
        for (JsonNode t : json.get("tensors")) {
            String row = "<tr class=\"ok\"><td><code>" + t.get("name").asText() + "</code></td>";
            int at = page.indexOf(row);
            assertTrue(at >= 0, "row for " + t.get("name").asText());
            String rest = page.substring(at, page.indexOf("</tr>", at));
            assertTrue(rest.contains(String.format(Locale.ROOT, "%.3e", t.get("max_abs").asDouble())), rest);
            assertTrue(rest.contains(String.format(Locale.ROOT, "%.3e", t.get("rel_l2").asDouble())), rest);
        }
        assertEquals(6, json.get("tensors").size(), "embeddings, 3 layers, start and end logits");
        // the chart in the page is the PNG --plot wrote
        byte[] plotted = Files.readAllBytes(png);
        assertArrayEquals(plotted, embeddedChart(page), "the page embeds the same chart");
        BufferedImage img = ImageIO.read(png.toFile());
        assertEquals(ParityReport.WIDTH * ParityReport.SCALE, img.getWidth());
        assertEquals(ParityReport.HEIGHT * ParityReport.SCALE, img.getHeight());
        assertEquals(0, count(img, FAIL_RGB), "nothing drawn as failing");
        assertTrue(count(img, 0x16a34a) > 500, "passing points drawn green");
    }

    @Test
    void failingRunStillWritesBothWithTheFailuresInRed() throws Exception {
        Path html = dir.resolve("fail.html"), png = dir.resolve("fail.png");
        Cli.Result r = Cli.run("parity", "--model", model.toString(), "--reference", bad.toString(), "--backend", "cpu",
                "--report", html.toString(), "--plot", png.toString());
        assertEquals(1, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("layer.1") && r.out().trim().endsWith("FAIL"), "the table is still printed");
        String page = Files.readString(html, StandardCharsets.UTF_8);
        assertEquals(List.of(), HtmlCheck.problems(page));
        assertTrue(page.contains("class=\"verdict fail\">FAIL<"));
        assertTrue(page.contains("<tr class=\"bad\"><td><code>layer.1</code>"), "the failing row is marked");
        assertTrue(page.contains("<tr class=\"ok\"><td><code>layer.0</code>"), "the rows before it pass");
        BufferedImage img = ImageIO.read(png.toFile());
        assertTrue(count(img, FAIL_RGB) > 200, "the failing points are drawn red");
        assertArrayEquals(Files.readAllBytes(png), embeddedChart(page));
    }

    @Test
    void aMissingFolderIsAnErrorBeforeAnythingIsWritten() {
        Cli.Result r = Cli.run("parity", "--model", model.toString(), "--reference", good.toString(),
                "--plot", dir.resolve("nowhere/p.png").toString());
        assertEquals(1, r.code());
        assertEquals(1, r.errLines().length, r.err());
        assertTrue(r.err().contains("does not exist"), r.err());
    }

    private static byte[] embeddedChart(String page) {
        Matcher m = Pattern.compile("<img id=\"chart\"[^>]*src=\"data:image/png;base64,([^\"]+)\"").matcher(page);
        assertTrue(m.find(), "the page embeds the chart");
        return Base64.getDecoder().decode(m.group(1));
    }

    /** Pixels of exactly this colour in the panels (below the legend, which shows every colour once). */
    private static int count(BufferedImage img, int rgb) {
        int n = 0;
        for (int y = 80 * ParityReport.SCALE; y < img.getHeight(); y++) for (int x = 0; x < img.getWidth(); x++) if ((img.getRGB(x, y) & 0xffffff) == rgb) n++;
        return n;
    }
}
