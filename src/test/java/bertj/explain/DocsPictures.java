package bertj.explain;

import bertj.testing.Chromium;
import bertj.testing.Cli;
import bertj.testing.MiniLm;
import bertj.testing.PyTorch;
import com.fasterxml.jackson.databind.JsonNode;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * Makes the pictures of docs/explain.md with bertj's own Chromium driver, and prints the report sizes the doc
 * quotes. Not a test: run by scripts/explain-docs.sh ({@code main(DIR)} writes DIR/explain-*.png).
 */
public final class DocsPictures {
    private DocsPictures() {
    }

    static final String SENTENCE = "The animal didn't cross the street because it was too tired.";

    /** Over 384 word pieces of plain prose, none repeated (repeated text makes heads look up the copies). */
    static final String LONG_TEXT = """
            The river town of Alder Ford grew up where an old road crossed shallow water, and for a long time it was             little more than an inn, a smithy and a ferry that ran when the river was too high to wade. In the spring             of 1822 a miller named Ruth Calloway bought the land beside the falls, dug a race for the water and built             a wooden mill with two pairs of stones. Farmers came from three valleys to have their grain ground, and             while they waited they traded, argued and married, so that within twenty years the crossing had a church,             a school, a weekly market and a newspaper that appeared whenever its printer was sober. The railway came             late, in 1871, after a long quarrel between the county and a company that wanted the line to run along             the northern ridge instead of through the valley. When it finally opened, the station brought coal,             machines and visitors, and the mill was rebuilt in brick with a steam engine for the dry months. Not             everyone welcomed the change: an angry letter in the newspaper complained that the whistle frightened             the cows and that strangers no longer greeted anyone in the street. The great flood of 1903 swept away             the footbridge, drowned the lower town in mud and left a line on the church wall that visitors still             photograph. Afterwards the council built a stone embankment and moved the market to higher ground. In             the middle of the century the factories closed one after another, the railway cut its service to two             trains a day and many young people left for the cities. The town survived on tourism, on a small college             that trains nurses and teachers, and on the stubbornness of people who liked living where their             grandparents had lived. Today the brick mill is a museum; on the first Saturday of every month its old             stones turn again, grinding flour that is sold in paper bags to children who have never seen a field             of wheat. The river, meanwhile, keeps its own calendar: it floods a little every March, freezes at the \
            edges in a hard January, and in late summer runs so low that boys can cross it on the stones where the \
            first ferry used to wait.""";

    public static void main(String[] args) throws Exception {
        Path out = Files.createDirectories(Path.of(args.length > 0 ? args[0] : "docs").toAbsolutePath());
        Path work = Files.createTempDirectory("bertj-docs-");
        Path exe = Chromium.find().orElseThrow(() -> new IllegalStateException("chromium is not installed (scripts/setup.sh)"));

        // 1. minilm on a sentence whose "it" is a classic of attention pictures
        Path minilm = explain(work, "minilm.html", "--model", "minilm", "--text", SENTENCE);
        ReportData d = ReportData.read(minilm);
        List<String> tokens = d.tokens();
        int it = tokens.indexOf("it"), animal = tokens.indexOf("animal");
        int bestL = 0, bestH = 0;
        double best = -1;
        for (int l = 0; l < d.layers; l++) {
            for (int h = 0; h < d.heads; h++) {
                double p = d.attention(l, h)[it * d.seq + animal];
                if (p > best) {
                    best = p;
                    bestL = l;
                    bestH = h;
                }
            }
        }
        System.out.printf(Locale.ROOT, "minilm: \"it\" attends most to \"animal\" in layer %d head %d (p = %.3f)%n", bestL, bestH, best);

        // 2. a random NVIDIA-format 4L-288D checkpoint with a QA head (no trained one can be had here)
        Path nvidia = PyTorch.checkpoint(work, "nvidia-random.pt", 7);
        Path vocab = MiniLm.tokenizerJson(work);
        Path qa = explain(work, "qa.html", "--model", nvidia.toString(), "--vocab", vocab.toString(),
                "--question", "Who restored the second mill?", "--context", Fixtures.CONTEXT);

        // 3. 384 tokens, for the long-input pictures and sizes
        String longText = LONG_TEXT;
        Path long384 = explain(work, "minilm-384.html", "--model", "minilm", "--text", longText, "--max-seq-length", "384");
        Path long128 = explain(work, "minilm-128.html", "--model", "minilm", "--text", longText, "--max-seq-length", "128");
        Path nv384 = explain(work, "nvidia-384.html", "--model", nvidia.toString(), "--vocab", vocab.toString(), "--text", longText,
                "--max-seq-length", "384");
        Path nv128 = explain(work, "nvidia-128.html", "--model", nvidia.toString(), "--vocab", vocab.toString(), "--text", longText,
                "--max-seq-length", "128");
        int[] peaked = mostPeaked(ReportData.read(long384));
        System.out.printf(Locale.ROOT, "minilm, 384 tokens: the most peaked head is layer %d head %d%n", peaked[0], peaked[1]);
        for (Path p : List.of(long128, long384, nv128, nv384)) {
            System.out.printf(Locale.ROOT, "size %-18s %,12d bytes%n", p.getFileName(), Files.size(p));
        }

        // 4. parity against PyTorch on the same checkpoint
        Path ref = PyTorch.reference(nvidia, work.resolve("ref32.safetensors"), "float32", 8);
        Path parity = work.resolve("parity.html");
        Cli.Result pr = Cli.run("parity", "--model", nvidia.toString(), "--reference", ref.toString(), "--report", parity.toString(),
                "--plot", out.resolve("parity-plot.png").toString());
        if (pr.code() != 0) throw new IllegalStateException("parity failed: " + pr.out() + pr.err());

        try (Chromium c = Chromium.launch(exe, work, 1280, 900)) {
            open(c, minilm);
            shoot(c, "header", "#attention", out.resolve("explain-overview.png"), 0, 1300);
            ExplainBrowserTest.clickOn(c, ".thumb[data-l='" + bestL + "'][data-h='" + bestH + "']");
            c.waitUntil("document.body.dataset.shown === '" + bestL + "-" + bestH + "'", Duration.ofSeconds(10));
            ExplainBrowserTest.clickOn(c, ".hv-left span[data-l='" + it + "']");
            double[] xy = cell(c, d.seq, it, animal);
            c.move(xy[0], xy[1]);
            shoot(c, "#head-title", ".panels", out.resolve("explain-head.png"), 0, 900);
            shoot(c, "#norms", "#norms", out.resolve("explain-norms.png"), 0, 700);

            open(c, qa);
            shoot(c, "#logits", "#logits", out.resolve("explain-qa-logits.png"), 0, 700);

            open(c, long384);
            ExplainBrowserTest.clickOn(c, ".thumb[data-l='" + peaked[0] + "'][data-h='" + peaked[1] + "']");
            c.waitUntil("document.body.dataset.shown === '" + peaked[0] + "-" + peaked[1] + "'", Duration.ofSeconds(10));
            ExplainBrowserTest.clickOn(c, ".zoom button[data-cell='12']");
            // a query in the middle and the key it attends to most, scrolled into view
            ReportData d384 = ReportData.read(long384);
            int n = d384.seq;
            double[] pk = d384.attention(peaked[0], peaked[1]);
            int qi = 112, kj = 0;
            for (int j = 1; j < n; j++) if (pk[qi * n + j] > pk[qi * n + kj]) kj = j;
            c.eval("(() => { const s = document.querySelector('#hm-scroll'); s.scrollTop = " + (qi - 12) * 12 + "; s.scrollLeft = "
                    + Math.max(0, (kj - 16) * 12) + "; return true; })()");
            xy = cell(c, n, qi, kj);
            c.move(xy[0], xy[1]);
            shoot(c, "#head-title", ".panels", out.resolve("explain-384.png"), 0, 900);

            open(c, parity);
            shoot(c, "header", "main", out.resolve("parity-report.png"), 0, 900);
        }
        System.out.println("pictures written to " + out);
    }

    /**
     * The head whose rows put the most weight on one key (mean over rows of the row maximum), among heads whose
     * rows do not mostly pick the same key (a column on [CLS] or [SEP] is peaked but tells little).
     */
    private static int[] mostPeaked(ReportData d) {
        int[] best = {0, 0};
        double top = -1;
        for (int l = 0; l < d.layers; l++) {
            for (int h = 0; h < d.heads; h++) {
                double[] p = d.attention(l, h);
                double sum = 0;
                int[] picks = new int[d.seq];
                for (int i = 0; i < d.seq; i++) {
                    int arg = 0;
                    for (int j = 1; j < d.seq; j++) if (p[i * d.seq + j] > p[i * d.seq + arg]) arg = j;
                    sum += p[i * d.seq + arg];
                    picks[arg]++;
                }
                if (java.util.Arrays.stream(picks).max().orElse(0) > d.seq / 4) continue;
                if (sum > top) {
                    top = sum;
                    best = new int[] {l, h};
                }
            }
        }
        return best;
    }

    private static Path explain(Path dir, String name, String... args) {
        Path out = dir.resolve(name);
        String[] all = new String[args.length + 3];
        all[0] = "explain";
        System.arraycopy(args, 0, all, 1, args.length);
        all[args.length + 1] = "--out";
        all[args.length + 2] = out.toString();
        long t0 = System.nanoTime();
        Cli.Result r = Cli.run(all);
        if (r.code() != 0) throw new IllegalStateException("explain failed: " + r.err());
        System.out.printf(Locale.ROOT, "%s (%.1f s)", r.out(), (System.nanoTime() - t0) / 1e9);
        System.out.println();
        return out;
    }

    private static void open(Chromium c, Path page) {
        c.navigate(page.toUri().toString());
        c.waitUntil("!document.getElementById('bertj-data') || document.body.dataset.ready === '1'", Duration.ofSeconds(60));
    }

    private static double[] cell(Chromium c, int s, int i, int j) {
        c.eval("document.querySelector('#hm-scroll').scrollIntoView({block: 'start'}), true");
        return ExplainBrowserTest.cellCentre(c, s, i, j);
    }

    /** A page-coordinate screenshot from the top of one element to the bottom of another, at most maxHeight tall. */
    private static void shoot(Chromium c, String from, String to, Path file, double pad, double maxHeight) throws Exception {
        JsonNode r = c.eval("(() => { const a = document.querySelector(\"" + from + "\").getBoundingClientRect(),"
                + " b = document.querySelector(\"" + to + "\").getBoundingClientRect();"
                + " return [Math.min(a.left, b.left) + scrollX, a.top + scrollY, Math.max(a.right, b.right) - Math.min(a.left, b.left),"
                + " b.bottom - a.top]; })()");
        double x = r.get(0).asDouble() - pad, y = r.get(1).asDouble() - pad;
        double w = r.get(2).asDouble() + 2 * pad, h = Math.min(maxHeight, r.get(3).asDouble() + 2 * pad);
        BufferedImage img = c.screenshot(Math.max(0, x), Math.max(0, y), w, h);
        ImageIO.write(img, "png", file.toFile());
        System.out.printf(Locale.ROOT, "%s: %d x %d%n", file.getFileName(), img.getWidth(), img.getHeight());
    }
}
