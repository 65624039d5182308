package bertj.backend.cpu;

import bertj.backend.Backend.Epilogue;
import bertj.backend.Batch;
import bertj.encoder.BertEncoder;
import bertj.model.LoadedModel;
import bertj.model.ModelLoader;
import bertj.testing.PyTorch;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The cold start's twin ({@link VectorKernels#twin()}, plain Java) against the vector kernels, bit for bit, op by op
 * at shapes that reach every tail of theirs; and a whole pass of a real model with the cold start on and off.
 * (The test JVMs run with -Dbertj.cpu.coldFlops=0, so that every other test exercises the vector kernels.)
 */
class ColdStartTest {
    private final VectorKernels vector = new VectorKernels();
    private final Kernels twin = vector.twin();

    /**
     * The op checks below for the vector length this JVM's {@code -Dbertj.cpu.vectorBits} gives (AVX-512's 16
     * floats, or 4, on a machine without them: the Vector API then computes in Java, as its specification
     * says, so the results are the same as the hardware's), at the smaller shapes; prints the vector length.
     */
    public static void main(String[] args) {
        VectorKernels v = new VectorKernels();
        linear(v, v.twin(), true);
        layerNorm(v, v.twin());
        attention(v, v.twin(), true);
        System.out.println("vector length " + VectorKernels.VL + ", panels of " + VectorKernels.NR
                + " columns: the twin's bits are the vector kernels'");
    }

    @Test
    void theTwinIsBitForBitTheVectorKernelsOfOtherMachinesToo() throws Exception {
        // AVX-512 with both of its panel widths (4 vectors, the default, and 2), and 128-bit vectors
        for (int[] run : new int[][] {{512, 2}, {512, 4}, {128, 2}}) {
            int bits = run[0], panelVectors = run[1];
            Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--add-modules", "jdk.incubator.vector", "-Dbertj.cpu.vectorBits=" + bits,
                    "-Dbertj.cpu.panelVectors=" + panelVectors,
                    "-cp", System.getProperty("java.class.path"), ColdStartTest.class.getName())
                    .redirectErrorStream(true).start();
            assertTrue(p.waitFor(300, java.util.concurrent.TimeUnit.SECONDS), "the child JVM did not finish");
            String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            assertEquals(0, p.exitValue(), out);
            assertTrue(out.contains("vector length " + bits / 32 + ", panels of " + panelVectors * bits / 32
                    + " columns: the twin's bits"), out);
        }
    }

    private static float[] normal(Random r, int n, double std) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (std * r.nextGaussian());
        return v;
    }

    private static int[] bits(float[] a) {
        int[] b = new int[a.length];
        for (int i = 0; i < a.length; i++) b[i] = Float.floatToRawIntBits(a[i]);
        return b;
    }

    @Test
    void theTwinsLinearLayersAreTheVectorKernelsBitForBit() {
        linear(vector, twin, false);
    }

    private static void linear(VectorKernels vector, Kernels twin, boolean quick) {
        Random rnd = new Random(PyTorch.seed("cold start linear"));
        // rows past the micro-kernel's tile and its tails, widths past a panel's edge, K of 1
        int[][] shapes = quick ? new int[][] {{13, 40, 70}, {10, 40, 70}, {12, 7, 33}, {5, 64, 2}, {25, 1, 17}}
                : new int[][] {{1, 288, 288}, {13, 288, 1152}, {37, 1152, 288}, {12, 7, 33}, {5, 288, 2}, {25, 1, 17}, {7, 64, 50}};
        try (CpuBackend be = new CpuBackend(1, vector)) {
            for (int[] sh : shapes) {
                int m = sh[0], k = sh[1], n = sh[2];
                // std 6 reaches GELU's clamps (exp's at |2u| > 87, erf's at |x| > 4√2) as well as its middle
                for (double std : new double[] {1.0, 6.0}) {
                    float[] x = normal(rnd, m * k, std), w = normal(rnd, n * k, 1 / Math.sqrt(k)), b = normal(rnd, n, 0.1);
                    CpuBackend.Linear l = be.pack(n, k, w, b);
                    for (Epilogue e : Epilogue.values()) {
                        float[] yv = new float[m * n], yt = new float[m * n];
                        float[] sv = slot(vector.linearScratch()), st = slot(twin.linearScratch());
                        vector.linear(x, k, l.weight(), l.offset(), l.bias(), yv, n, 0, m, 0, l.panels(), e, sv, S0);
                        twin.linear(x, k, l.weight(), l.offset(), l.bias(), yt, n, 0, m, 0, l.panels(), e, st, S0);
                        assertArrayEquals(bits(yv), bits(yt), m + "×" + k + "→" + n + " " + e + " std " + std);
                        outsideUntouched(sv, vector.linearScratch());
                        outsideUntouched(st, twin.linearScratch());
                    }
                }
            }
        }
    }

    /**
     * Where scratch slots start in these tests: not 0, as the backend's workers' slots in a shared array do not
     * (CpuBackend.scratch), and not on a line boundary.
     */
    private static final int S0 = 21;

    /** A scratch slot of {@code size} floats from {@link #S0}, in an array of NaNs with room past its end. */
    private static float[] slot(int size) {
        float[] s = new float[S0 + size + 40];
        java.util.Arrays.fill(s, Float.NaN);
        return s;
    }

    /** The kernels kept to their slot: nothing before S0 or past S0 + size was written. */
    private static void outsideUntouched(float[] s, int size) {
        for (int i = 0; i < s.length; i++) {
            if (i < S0 || i >= S0 + size) assertTrue(Float.isNaN(s[i]), "scratch index " + i + " outside the slot [" + S0 + ", " + (S0 + size) + ") was written");
        }
    }

    @Test
    void theTwinsLayerNormIsTheVectorKernelsBitForBit() {
        layerNorm(vector, twin);
    }

    private static void layerNorm(VectorKernels vector, Kernels twin) {
        Random rnd = new Random(PyTorch.seed("cold start layernorm"));
        for (int cols : new int[] {1, 7, 8, 17, 31, 288, 384}) {
            int rows = 5;
            float[] x = normal(rnd, rows * cols, 3.0), r = normal(rnd, rows * cols, 1.0);
            float[] g = normal(rnd, cols, 1.0), b = normal(rnd, cols, 0.5);
            for (boolean residual : new boolean[] {false, true}) {
                float[] yv = new float[rows * cols], yt = new float[rows * cols];
                vector.addLayerNorm(x, residual ? r : null, yv, cols, 0, rows, g, b, 1e-12f);
                twin.addLayerNorm(x, residual ? r : null, yt, cols, 0, rows, g, b, 1e-12f);
                assertArrayEquals(bits(yv), bits(yt), cols + " columns, residual " + residual);
            }
        }
    }

    @Test
    void theTwinsAttentionIsTheVectorKernelsBitForBit() {
        attention(vector, twin, false);
    }

    private static void attention(VectorKernels vector, Kernels twin, boolean quick) {
        Random rnd = new Random(PyTorch.seed("cold start attention"));
        int qb = vector.queryBlock();
        assertEquals(qb, twin.queryBlock());
        // head sizes with and without column tails; sequences shorter than a block, of a block and a tail; keys
        // cut short by trailing padding; a padded key inside the sequence; scores large enough to need the shift
        int[][] shapes = quick ? new int[][] {{24, 1, 1}, {27, 21, 19}, {32, qb + 3, qb + 2}}
                : new int[][] {{24, 1, 1}, {24, 37, 37}, {27, 40, 33}, {32, 2 * qb + 3, 2 * qb}, {24, 16, 16}};
        for (int[] sh : shapes) {
            int d = sh[0], seq = sh[1], keys = sh[2], heads = 2, hidden = heads * d;
            for (double std : new double[] {1.0, 8.0}) {
                float[] qkv = normal(rnd, seq * 3 * hidden, std);
                float[] mask = new float[seq];
                if (seq > 4) mask[seq / 2] = -10000f;
                for (int j = keys; j < seq; j++) mask[j] = -10000f;
                float scale = (float) (1 / Math.sqrt(d));
                float[] cv = new float[seq * hidden], ct = new float[seq * hidden];
                float[] sv = slot(vector.attentionScratch(d, seq)), st = slot(twin.attentionScratch(d, seq));
                for (int h = 0; h < heads; h++) {
                    vector.attentionKeys(qkv, hidden, d, 0, h * d, keys, sv, S0);
                    twin.attentionKeys(qkv, hidden, d, 0, h * d, keys, st, S0);
                    for (int i0 = 0; i0 < seq; i0 += qb) {
                        vector.attention(qkv, cv, hidden, d, seq, 0, h * d, keys, mask, i0, scale, sv, S0);
                        twin.attention(qkv, ct, hidden, d, seq, 0, h * d, keys, mask, i0, scale, st, S0);
                    }
                }
                assertArrayEquals(bits(cv), bits(ct), "d " + d + ", " + seq + " tokens, " + keys + " keys, std " + std);
                outsideUntouched(sv, vector.attentionScratch(d, seq));
                outsideUntouched(st, twin.attentionScratch(d, seq));
            }
        }
    }

    @Test
    void aPassOnTheTwinGivesTheVectorPassesBits() {
        LoadedModel m = ModelLoader.load(Path.of("minilm"));
        int seq = 29;
        int[] ids = new int[2 * seq], types = new int[2 * seq], mask = new int[2 * seq];
        Random rnd = new Random(PyTorch.seed("cold start pass"));
        for (int i = 0; i < ids.length; i++) {
            ids[i] = 1000 + rnd.nextInt(20000);
            mask[i] = i < seq + 17 ? 1 : 0; // the second sequence is padded after 17 tokens
        }
        Batch batch = new Batch(2, seq, ids, types, mask);
        try (BertEncoder enc = new BertEncoder(m.weights(), new CpuBackend(2))) {
            CpuBackend.coldStart(0);
            double[] warm = enc.forward(batch, true, null).lastHidden();
            long flops = 1_000_000_000_000L;
            CpuBackend.coldStart(flops);
            double[] cold = enc.forward(batch, true, null).lastHidden();
            long used = flops - CpuBackend.coldStart(0);
            // 6 layers of 29 + 29 tokens, each op on the twin
            assertTrue(used > 6 * 2 * seq * 2L * 384 * 1536, "the pass ran on the twin: " + used + " flops counted");
            assertEquals(warm.length, cold.length);
            for (int i = 0; i < warm.length; i++) {
                if (Double.doubleToRawLongBits(warm[i]) != Double.doubleToRawLongBits(cold[i])) {
                    throw new AssertionError("element " + i + ": " + warm[i] + " on the vector kernels, " + cold[i] + " on the twin");
                }
            }
        }
    }
}
