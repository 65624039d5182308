package bertj.backend.cpu;

import bertj.backend.Backend.Epilogue;
import bertj.backend.Backend.Param;
import bertj.backend.Batch;
import bertj.model.Erf;
import bertj.model.GeluForm;
import bertj.readers.Tensor;
import bertj.testing.PyTorch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The cpu backend's ops, vector and scalar kernels, against float64 arithmetic written out here, at shapes that
 * hit every edge of the tiling: rows not a multiple of the micro-kernels' 6, 12 or 4, output widths not a
 * multiple of the panel, head sizes not a multiple of 8, one-token sequences, padded and fully masked rows,
 * one and several threads. Output buffers are poisoned with NaN first.
 */
class CpuKernelsTest {

    private static Kernels kernels(String which) {
        return switch (which) {
            case "vector" -> new VectorKernels();
            case "scalar" -> new ScalarKernels();
            default -> throw new IllegalArgumentException(which);
        };
    }

    private static float[] normal(Random r, int n, double std) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (std * r.nextGaussian());
        return v;
    }

    /** Runs op once to size the workspace, poisons it, and runs it again inside a pass. */
    private static CpuBackend.Mat poisoned(CpuBackend be, Batch batch, java.util.function.Supplier<bertj.backend.Backend.Matrix> op) {
        be.begin(batch);
        op.get();
        be.end();
        be.poison();
        be.begin(batch);
        CpuBackend.Mat m = (CpuBackend.Mat) op.get();
        be.end();
        return m;
    }

    private static Batch dummyBatch(int rows) {
        return new Batch(1, rows, new int[rows], new int[rows], filled(rows, 1));
    }

    private static int[] filled(int n, int v) {
        int[] a = new int[n];
        java.util.Arrays.fill(a, v);
        return a;
    }

    @ParameterizedTest
    @ValueSource(strings = {"vector", "scalar"})
    void linearMatchesFloat64AtAwkwardShapes(String which) {
        long seed = PyTorch.seed("cpu linear " + which);
        Random rnd = new Random(seed);
        int[][] shapes = {{1, 288, 288}, {13, 288, 1152}, {37, 1152, 288}, {12, 7, 33}, {5, 288, 2}, {100, 64, 50}, {25, 1, 17}, {10, 40, 20}, {10, 1152, 70}};
        for (int threads : new int[] {1, 3}) {
            try (CpuBackend be = new CpuBackend(threads, kernels(which))) {
                for (int[] sh : shapes) {
                    int m = sh[0], k = sh[1], n = sh[2];
                    float[] x = normal(rnd, m * k, 1.0), w = normal(rnd, n * k, 1 / Math.sqrt(k)), b = normal(rnd, n, 0.1);
                    Param lin = be.pack(n, k, w, b);
                    for (Epilogue e : Epilogue.values()) {
                        CpuBackend.Mat y = poisoned(be, dummyBatch(m), () -> be.linear(CpuBackend.wrap(m, k, x), lin, e));
                        double worst = 0;
                        for (int r = 0; r < m; r++) {
                            for (int o = 0; o < n; o++) {
                                double acc = b[o], mag = Math.abs(b[o]);
                                for (int i = 0; i < k; i++) {
                                    acc += (double) x[r * k + i] * w[o * k + i];
                                    mag += Math.abs((double) x[r * k + i] * w[o * k + i]);
                                }
                                double expected = switch (e) {
                                    case NONE -> acc;
                                    case GELU_ERF -> GeluForm.ERF.apply(acc);
                                    case GELU_TANH -> GeluForm.TANH.apply(acc);
                                };
                                double err = Math.abs(y.data[r * n + o] - expected);
                                // float32 sums of k products: error below ~k·2⁻²⁴·Σ|x w|; allow 1e-6·Σ|x w| + 1e-6
                                double limit = 1e-6 * mag + 1e-6;
                                if (!(err <= limit)) {
                                    fail(which + ", " + threads + " threads, [" + m + "x" + k + "]·[" + k + "x" + n + "] " + e + " at (" + r + ", "
                                            + o + "): " + y.data[r * n + o] + " vs " + expected + ", error " + err + " > " + limit);
                                }
                                worst = Math.max(worst, err);
                            }
                        }
                        System.out.printf("linear %s T=%d %dx%dx%d %s: max abs err %.2e%n", which, threads, m, k, n, e, worst);
                    }
                }
            }
        }
    }

    /**
     * An ONNX MatMul weight comes as Wᵀ [in, out] (Tensor.transposed): packed from it directly, the panels are
     * those of W [out, in], at panel-edge widths too, for both kernel kinds; and through the backend's linear()
     * the transpose's bytes are never made. Stacking transposes (query, key, value) keeps them lazy and equal.
     */
    @ParameterizedTest
    @ValueSource(strings = {"vector", "scalar"})
    void inputMajorWeightsPackAsTheirTranspose(String which) throws Exception {
        Random rnd = new Random(PyTorch.seed("cpu pack transposed " + which));
        try (CpuBackend be = new CpuBackend(1, kernels(which))) {
            for (int[] sh : new int[][] {{288, 288}, {288, 1152}, {7, 33}, {64, 50}, {1, 17}, {288, 2}, {5, 1}}) {
                int k = sh[0], n = sh[1];
                float[] wt = normal(rnd, k * n, 1.0), b = normal(rnd, n, 0.1);
                bertj.readers.Tensor t = bertj.readers.Tensor.transposed(bertj.readers.Tensor.ofFloats(new int[] {k, n}, wt));
                CpuBackend.Linear direct = (CpuBackend.Linear) be.linear(new bertj.model.BertWeights.Linear(t,
                        bertj.readers.Tensor.ofFloats(new int[] {n}, b)));
                CpuBackend.Linear gathered = be.pack(n, k, t.toFloats(), b);
                assertEquals(gathered.panels(), direct.panels());
                assertArrayEquals(gathered.packed(), direct.packed(), 0f, k + "x" + n);
                assertArrayEquals(gathered.bias(), direct.bias(), 0f, k + "x" + n);
            }
        }
        // never made: linear() above read the matrix; a fresh transposed tensor has no bytes until asked
        bertj.readers.Tensor m = bertj.readers.Tensor.ofFloats(new int[] {2, 3}, new float[] {1, 2, 3, 4, 5, 6});
        bertj.readers.Tensor t = bertj.readers.Tensor.transposed(m);
        assertEquals("F32[3, 2]", t.toString());
        assertSame(m, t.transposeOf());
        assertSame(m, bertj.readers.Tensor.transposed(t));
        assertArrayEquals(new float[] {1, 4, 2, 5, 3, 6}, t.toFloats(), 0f);
        assertArrayEquals(new double[] {1, 4, 2, 5, 3, 6}, t.toDoubles(), 0);
        // stacked transposes: equal to stacking the made ones, and still lazy
        bertj.readers.Tensor m2 = bertj.readers.Tensor.ofFloats(new int[] {2, 1}, new float[] {7, 8});
        bertj.model.BertWeights.Linear s = bertj.model.BertWeights.Linear.stacked(
                new bertj.model.BertWeights.Linear(t, bertj.readers.Tensor.ofFloats(new int[] {3}, new float[3])),
                new bertj.model.BertWeights.Linear(bertj.readers.Tensor.transposed(m2), bertj.readers.Tensor.ofFloats(new int[] {1}, new float[1])));
        assertNotNull(s.weight().transposeOf());
        assertArrayEquals(new int[] {4, 2}, s.weight().shape());
        assertArrayEquals(new float[] {1, 4, 2, 5, 3, 6, 7, 8}, s.weight().toFloats(), 0f);
    }

    /** Float64 attention for one sequence and head: softmax(q kᵀ/√d + mask) v. */
    private static double[] attention64(float[] q, float[] k, float[] v, int hidden, int d, int s, int base, int col, int[] mask, int i) {
        double[] p = new double[s];
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < s; j++) {
            double dot = 0;
            for (int c = 0; c < d; c++) dot += (double) q[(base + i) * hidden + col + c] * k[(base + j) * hidden + col + c];
            p[j] = dot / Math.sqrt(d) + (mask[base + j] == 0 ? -10000.0 : 0.0);
            max = Math.max(max, p[j]);
        }
        double total = 0;
        for (int j = 0; j < s; j++) {
            p[j] = Math.exp(p[j] - max);
            total += p[j];
        }
        double[] out = new double[d];
        for (int c = 0; c < d; c++) {
            double acc = 0;
            for (int j = 0; j < s; j++) acc += p[j] * v[(base + j) * hidden + col + c];
            out[c] = acc / total;
        }
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"vector", "scalar"})
    void attentionMatchesFloat64(String which) {
        long seed = PyTorch.seed("cpu attention " + which);
        Random rnd = new Random(seed);
        // {batch, seq, heads, head size}
        int[][] shapes = {{1, 1, 12, 24}, {3, 37, 12, 24}, {2, 70, 4, 32}, {2, 33, 2, 13}, {4, 5, 3, 5}, {1, 129, 1, 64}};
        for (int threads : new int[] {1, 2}) {
            try (CpuBackend be = new CpuBackend(threads, kernels(which))) {
                for (int[] sh : shapes) {
                    int bsz = sh[0], s = sh[1], heads = sh[2], d = sh[3], hidden = heads * d, tokens = bsz * s;
                    // sequence 0 full, the last one fully masked (when there are 3+), others padded at random
                    // lengths, with one interior masked key where there is room
                    int[] mask = new int[tokens];
                    for (int b = 0; b < bsz; b++) {
                        int len = b == 0 ? s : (b == bsz - 1 && bsz > 2 ? 0 : 1 + rnd.nextInt(s));
                        for (int j = 0; j < len; j++) mask[b * s + j] = 1;
                        if (len > 3) mask[b * s + 1] = 0;
                    }
                    Batch batch = new Batch(bsz, s, new int[tokens], new int[tokens], mask);
                    float[] q = normal(rnd, tokens * hidden, 1.5), k = normal(rnd, tokens * hidden, 1.5), v = normal(rnd, tokens * hidden, 1.0);
                    float[] qkv = bertj.testing.Qkv.pack(q, k, v, tokens, hidden);
                    CpuBackend.Mat ctx = poisoned(be, batch, () -> be.attention(batch, CpuBackend.wrap(tokens, 3 * hidden, qkv), heads));
                    double worst = 0, worstMasked = 0;
                    for (int b = 0; b < bsz; b++) {
                        boolean allMasked = true;
                        for (int j = 0; j < s; j++) allMasked &= mask[b * s + j] == 0;
                        for (int h = 0; h < heads; h++) {
                            for (int i = 0; i < s; i++) {
                                double[] e = attention64(q, k, v, hidden, d, s, b * s, h * d, mask, i);
                                for (int c = 0; c < d; c++) {
                                    double err = Math.abs(ctx.data[(b * s + i) * hidden + h * d + c] - e[c]);
                                    if (Double.isNaN(err)) err = Double.POSITIVE_INFINITY;
                                    if (allMasked) worstMasked = Math.max(worstMasked, err);
                                    else worst = Math.max(worst, err);
                                }
                            }
                        }
                    }
                    System.out.printf("attention %s T=%d b=%d s=%d heads=%d d=%d: max abs err %.2e (fully masked rows %.2e)%n",
                            which, threads, bsz, s, heads, d, worst, worstMasked);
                    // values are O(1) weighted means of v; float32 scores of d products, softmax and sums over
                    // up to 129 keys lose some tens of ulps (measured up to 3.3e-6 at d = 64)
                    assertTrue(worst <= 1e-5, which + " attention b=" + bsz + " s=" + s + " d=" + d + ": max abs error " + worst);
                    // A sequence with no real token scores every key at about −10000, where a float32 ulp is
                    // 9.8e-4: the scores themselves are that coarse (in PyTorch's float32 too), so its softmax
                    // can only be compared that loosely.
                    assertTrue(worstMasked <= 5e-3, which + " attention, fully masked sequence: max abs error " + worstMasked);
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"vector", "scalar"})
    void addLayerNormMatchesFloat64(String which) {
        long seed = PyTorch.seed("cpu layernorm " + which);
        Random rnd = new Random(seed);
        for (int[] sh : new int[][] {{1, 288}, {77, 288}, {40, 37}, {3, 5}}) {
            int rows = sh[0], cols = sh[1];
            try (CpuBackend be = new CpuBackend(2, kernels(which))) {
                float[] x = normal(rnd, rows * cols, 2.0), r = normal(rnd, rows * cols, 1.0);
                for (int i = 0; i < x.length; i++) x[i] += 3f; // a mean far from 0, as residual streams have
                float[] g = normal(rnd, cols, 0.1), bt = normal(rnd, cols, 0.1);
                for (int i = 0; i < cols; i++) g[i] += 1f;
                Param gamma = be.vector(Tensor.ofFloats(new int[] {cols}, g)), beta = be.vector(Tensor.ofFloats(new int[] {cols}, bt));
                CpuBackend.Mat y = poisoned(be, dummyBatch(rows), () -> be.addLayerNorm(CpuBackend.wrap(rows, cols, x),
                        CpuBackend.wrap(rows, cols, r), gamma, beta, 1e-12));
                double worst = 0;
                for (int row = 0; row < rows; row++) {
                    double mean = 0, var = 0;
                    for (int c = 0; c < cols; c++) mean += (double) x[row * cols + c] + r[row * cols + c];
                    mean /= cols;
                    for (int c = 0; c < cols; c++) {
                        double dev = (double) x[row * cols + c] + r[row * cols + c] - mean;
                        var += dev * dev;
                    }
                    var /= cols;
                    for (int c = 0; c < cols; c++) {
                        double e = ((double) x[row * cols + c] + r[row * cols + c] - mean) / Math.sqrt(var + 1e-12) * g[c] + bt[c];
                        double err = Math.abs(y.data[row * cols + c] - e);
                        worst = Double.isNaN(err) ? Double.NaN : Math.max(worst, err);
                    }
                }
                System.out.printf("layernorm %s %dx%d: max abs err %.2e%n", which, rows, cols, worst);
                // outputs are O(1); the float32 mean and variance of 288 values around 3 carry a few 1e-6 of
                // rounding (the scalar path sums left to right: measured up to 2.7e-6)
                assertTrue(worst <= 1e-5, which + " LayerNorm " + rows + "x" + cols + ": max abs error " + worst);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"vector", "scalar"})
    void fusedLinearAddLayerNormMatchesFloat64AndTheTwoOpsBitForBit(String which) {
        long seed = PyTorch.seed("cpu linear add layernorm " + which);
        Random rnd = new Random(seed);
        // {rows, in, out}: one row, rows not a multiple of 12 or 4, an output width that is not a whole panel
        int[][] shapes = {{1, 288, 288}, {37, 1152, 288}, {13, 64, 50}, {130, 288, 288}};
        for (int threads : new int[] {1, 2, 3}) {
            try (CpuBackend be = new CpuBackend(threads, kernels(which))) {
                for (int[] sh : shapes) {
                    int m = sh[0], k = sh[1], n = sh[2];
                    float[] x = normal(rnd, m * k, 1.0), w = normal(rnd, n * k, 1 / Math.sqrt(k)), b = normal(rnd, n, 0.1);
                    float[] res = normal(rnd, m * n, 1.0), g = normal(rnd, n, 0.1), bt = normal(rnd, n, 0.1);
                    for (int i = 0; i < n; i++) g[i] += 1f;
                    for (int i = 0; i < res.length; i++) res[i] += 3f; // a mean far from 0, as residual streams have
                    Param lin = be.pack(n, k, w, b);
                    Param gamma = be.vector(Tensor.ofFloats(new int[] {n}, g)), beta = be.vector(Tensor.ofFloats(new int[] {n}, bt));
                    CpuBackend.Mat fused = poisoned(be, dummyBatch(m), () -> be.linearAddLayerNorm(CpuBackend.wrap(m, k, x), lin,
                            CpuBackend.wrap(m, n, res), gamma, beta, 1e-12));
                    float[] got = java.util.Arrays.copyOf(fused.data, m * n);
                    CpuBackend.Mat y = (CpuBackend.Mat) be.linear(CpuBackend.wrap(m, k, x), lin, Epilogue.NONE);
                    CpuBackend.Mat twoOps = (CpuBackend.Mat) be.addLayerNorm(y, CpuBackend.wrap(m, n, res), gamma, beta, 1e-12);
                    double worst = 0;
                    for (int r = 0; r < m; r++) {
                        double[] z = new double[n];
                        double mean = 0, var = 0;
                        for (int o = 0; o < n; o++) {
                            double acc = b[o];
                            for (int i = 0; i < k; i++) acc += (double) x[r * k + i] * w[o * k + i];
                            z[o] = acc + res[r * n + o];
                            mean += z[o];
                        }
                        mean /= n;
                        for (int o = 0; o < n; o++) var += (z[o] - mean) * (z[o] - mean);
                        var /= n;
                        for (int o = 0; o < n; o++) {
                            double e = (z[o] - mean) / Math.sqrt(var + 1e-12) * g[o] + bt[o];
                            double err = Math.abs(got[r * n + o] - e);
                            worst = Double.isNaN(err) ? Double.POSITIVE_INFINITY : Math.max(worst, err);
                            assertEquals(twoOps.data[r * n + o], got[r * n + o], 0f,
                                    which + " " + threads + " threads " + m + "x" + k + "x" + n + ": fused and unfused differ at (" + r + ", " + o + ")");
                        }
                    }
                    System.out.printf("linear+add+LayerNorm %s T=%d %dx%dx%d: max abs err %.2e%n", which, threads, m, k, n, worst);
                    // outputs O(1): the product's float32 rounding (~1e-6) plus LayerNorm's (a few 1e-6)
                    assertTrue(worst <= 1e-5, which + " linear+add+LayerNorm " + m + "x" + k + "x" + n + ": max abs error " + worst);
                }
            }
        }
    }

    /** Applies an in-place array op of VectorKernels to a copy of x (padded to whole vectors). */
    private static float[] apply(java.util.function.BiConsumer<float[], Integer> op, float[] x) {
        int vl = 2 * VectorKernels.VL, n = (x.length + vl - 1) / vl * vl;
        float[] a = java.util.Arrays.copyOf(x, n + 3 * vl);
        float[] poison = new float[3 * vl];
        java.util.Arrays.fill(poison, Float.NaN);
        System.arraycopy(poison, 0, a, n, poison.length); // the op must not touch past n
        op.accept(a, n);
        for (int i = n; i < a.length; i++) assertTrue(Float.isNaN(a[i]), "wrote past the end");
        return java.util.Arrays.copyOf(a, x.length);
    }

    private static float[] vexp(float[] x) {
        return apply((a, n) -> VectorKernels.exp(a, 0, n / (2 * VectorKernels.VL), new float[2 * VectorKernels.VL], 0, null, 0), x);
    }

    private static float[] grid(float lo, float hi, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = lo + (hi - lo) * i / (n - 1);
        return x;
    }

    /**
     * Packed weights share the backend's store, each matrix at a line boundary (Aligned.SKEW mod 16) with no overlap;
     * under G1, this JVM's collector, the alignment must be on (were the flags it reads renamed, it would silently
     * go off and only speed would show it).
     */
    @Test
    void packedWeightsLieOnLineBoundariesOfOneStore() {
        boolean g1 = java.lang.management.ManagementFactory.getGarbageCollectorMXBeans().stream().anyMatch(b -> b.getName().startsWith("G1"));
        if (g1) {
            assertTrue(Aligned.on(), "G1 in use, yet array alignment is off");
            assertEquals(12, Aligned.SKEW, "a 16-byte array header puts the first line boundary at index 12");
        }
        try (CpuBackend be = new CpuBackend(1)) {
            CpuBackend.Linear a = be.pack(288, 288, new float[288 * 288], new float[288]);
            CpuBackend.Linear b = be.pack(70, 33, new float[70 * 33], new float[70]);
            CpuBackend.Linear c = be.pack(5, 7, new float[35], new float[5]);
            for (CpuBackend.Linear l : new CpuBackend.Linear[] {a, b, c}) {
                assertEquals(0, Math.floorMod(l.offset() - Aligned.SKEW, Aligned.LINE), "slot at " + l.offset());
            }
            if (Aligned.on()) {
                assertSame(a.weight(), b.weight());
                assertSame(b.weight(), c.weight());
                assertTrue(b.offset() >= a.offset() + a.packed().length && c.offset() >= b.offset() + b.packed().length);
                assertTrue(a.weight().length * 4L > 1 << 19, "a store array no larger than half G1's smallest region: not humongous");
            }
        }
    }

    @Test
    void vectorExpIsWithinThreeUlps() {
        float[] x = grid(-87f, 88f, 400_001);
        float[] y = vexp(x);
        double worst = 0;
        for (int i = 0; i < x.length; i++) {
            double e = Math.exp(x[i]);
            worst = Math.max(worst, Math.abs(y[i] - e) / e);
        }
        System.out.printf("vector exp on [-87, 88]: max relative error %.2e (float ulp 1.19e-7)%n", worst);
        assertTrue(worst <= 3 * 1.19e-7, "exp relative error " + worst);
        // below the clamp: a tiny normal number, never NaN, infinity or a negative
        float[] low = vexp(new float[] {-88f, -100f, -10000f, Float.NEGATIVE_INFINITY});
        for (float v : low) assertTrue(v >= 0 && v < 2e-38, "exp of a very negative number gave " + v);
        assertEquals(1f, vexp(new float[] {0f})[0], 0f);
    }

    @Test
    void vectorExpShiftsEachLaneAndSumsColumnsAsSoftmaxNeeds() {
        long seed = PyTorch.seed("vector exp shift and sums");
        Random rnd = new Random(seed);
        int w = 2 * VectorKernels.VL, rows = 37;
        float[] a = normal(rnd, rows * w + w, 3.0), shift = normal(rnd, 3 * w, 2.0), sums = new float[3 * w];
        java.util.Arrays.fill(a, rows * w, a.length, Float.NaN); // past the rows: must stay untouched
        java.util.Arrays.fill(sums, Float.NaN);
        float[] orig = a.clone();
        VectorKernels.exp(a, 0, rows, shift, w, sums, w);
        for (int l = 0; l < w; l++) {
            double total = 0;
            for (int r = 0; r < rows; r++) {
                double e = Math.exp(orig[r * w + l] - shift[w + l]); // the difference rounded to float, as the op computes it
                assertEquals(e, a[r * w + l], 3 * 1.19e-7 * e, "row " + r + " lane " + l);
                total += a[r * w + l];
            }
            assertEquals(total, sums[w + l], 1e-6 * total, "sum of lane " + l);
            assertTrue(Float.isNaN(sums[l]) && Float.isNaN(sums[2 * w + l]), "sums written outside their place");
        }
        for (int i = rows * w; i < a.length; i++) assertTrue(Float.isNaN(a[i]), "wrote past the rows");
    }

    @Test
    void vectorErfAgreesWithFloat64Erf() {
        float[] x = grid(-6f, 6f, 600_001);
        float[] y = apply((a, n) -> VectorKernels.erf(a, 0, n), x);
        double worst = 0;
        for (int i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(y[i] - Erf.erf(x[i])));
        System.out.printf("vector erf on [-6, 6]: max abs error %.2e against bertj.model.Erf%n", worst);
        // ~6 float ulps of 1; in GELU it moves ½ x (1 + erf) by under 2e-7 · |x|
        assertTrue(worst <= 5e-7, "erf absolute error " + worst);
    }

    @Test
    void vectorGeluAgreesWithFloat64() {
        float[] x = grid(-12f, 12f, 240_001);
        for (GeluForm form : GeluForm.values()) {
            Epilogue e = Epilogue.gelu(form);
            float[] y = apply((a, n) -> VectorKernels.gelu(a, 0, 2 * VectorKernels.VL, n / (2 * VectorKernels.VL), e, new float[n], 0), x);
            double worst = 0;
            for (int i = 0; i < x.length; i++) {
                double expected = form.apply(x[i]);
                worst = Math.max(worst, Math.abs(y[i] - expected) / Math.max(1.0, Math.abs(expected)));
            }
            System.out.printf("vector GELU %s on [-12, 12]: max error %.2e (relative above 1, absolute below)%n", form.label(), worst);
            // tanh: a few float ulps. erf: ½ x (1 + erf(x/√2)) inherits erf's ~3.3e-7 absolute error times ½|x|,
            // largest near x = −5 where 1 + erf cancels (PyTorch's float erf has ~1e-7 there).
            assertTrue(worst <= (form == GeluForm.TANH ? 4e-7 : 1e-6), "GELU " + form + " error " + worst);
        }
    }
}
