package bertj.backend.cpu;

import bertj.backend.Backend.Epilogue;

/**
 * {@link Kernels} in plain Java that give {@link VectorKernels}' results bit for bit, for a vector of {@code vl}
 * floats: the same chains of FMAs in the same order (Math.fma is the one rounding of a vector FMA), the same exp,
 * erf and GELU arithmetic, LayerNorm's sums taken over vl lanes and then lane by lane as the vector path takes
 * them, and the same panel layout (panels of the vector kernels' width).
 *
 * <p>Two uses. Where the JVM has no {@code jdk.incubator.vector} module it is the cpu backend's only path (vl = 8),
 * correct and 25–40 times slower than the vector one. Where it has the module, it runs a new JVM's first
 * small ops (see {@code CpuBackend}'s cold start): until C2 has compiled the vector kernels they run interpreted
 * or in C1 with every vector a heap object, and plain loops are then 2–3 times faster; the results are the
 * same either way, so which of the two ran is never visible in an output.
 */
final class ScalarKernels implements Kernels {
    private final int vl, nr, mr;
    private final String description;

    /** The path of a JVM without the Vector API module: 8-float vectors' arithmetic, one row per task block. */
    ScalarKernels() {
        this(8, 16, 1, "scalar (start the JVM with --add-modules jdk.incubator.vector for the vector path)");
    }

    /**
     * The twin of vector kernels of {@code vl} floats whose weight panels are {@code nr} columns wide and whose
     * linear micro-kernel takes {@code mr} rows.
     */
    ScalarKernels(int vl, int nr, int mr, String description) {
        this.vl = vl;
        this.nr = nr;
        this.mr = mr;
        this.description = description;
    }

    @Override
    public String description() {
        return description;
    }

    @Override
    public int panelWidth() {
        return nr;
    }

    @Override
    public int rowBlock() {
        return mr;
    }

    @Override
    public int queryBlock() {
        return 2 * vl;
    }

    @Override
    public int linearScratch() {
        return nr;
    }

    // ---------------------------------------------------------------- linear

    @Override
    public void linear(float[] x, int kdim, float[] w, int wBase, float[] bias, float[] y, int n, int row0, int row1, int panel0, int panel1,
                       Epilogue epilogue, float[] acc, int s0) {
        for (int p = panel0; p < panel1; p++) {
            int n0 = p * nr, cols = Math.min(nr, n - n0), wOff = wBase + p * kdim * nr;
            for (int r = row0; r < row1; r++) {
                // 8 columns at a time in locals: 8 independent FMA chains (nr is a multiple of 8; the panel's
                // zeros past N are not computed, except up to the next multiple of 8)
                for (int c0 = 0, xo = r * kdim; c0 < cols; c0 += 8) {
                    int bo = n0 + c0;
                    float a0 = bias[bo], a1 = bias[bo + 1], a2 = bias[bo + 2], a3 = bias[bo + 3];
                    float a4 = bias[bo + 4], a5 = bias[bo + 5], a6 = bias[bo + 6], a7 = bias[bo + 7];
                    for (int k = 0, wo = wOff + c0; k < kdim; k++, wo += nr) {
                        float a = x[xo + k];
                        a0 = Math.fma(a, w[wo], a0);
                        a1 = Math.fma(a, w[wo + 1], a1);
                        a2 = Math.fma(a, w[wo + 2], a2);
                        a3 = Math.fma(a, w[wo + 3], a3);
                        a4 = Math.fma(a, w[wo + 4], a4);
                        a5 = Math.fma(a, w[wo + 5], a5);
                        a6 = Math.fma(a, w[wo + 6], a6);
                        a7 = Math.fma(a, w[wo + 7], a7);
                    }
                    acc[s0 + c0] = a0;
                    acc[s0 + c0 + 1] = a1;
                    acc[s0 + c0 + 2] = a2;
                    acc[s0 + c0 + 3] = a3;
                    acc[s0 + c0 + 4] = a4;
                    acc[s0 + c0 + 5] = a5;
                    acc[s0 + c0 + 6] = a6;
                    acc[s0 + c0 + 7] = a7;
                }
                int yo = r * n + n0;
                switch (epilogue) {
                    case NONE -> System.arraycopy(acc, s0, y, yo, cols);
                    case GELU_TANH -> {
                        for (int j = 0; j < cols; j++) y[yo + j] = geluTanh(acc[s0 + j]);
                    }
                    case GELU_ERF -> {
                        for (int j = 0; j < cols; j++) y[yo + j] = geluErf(acc[s0 + j]);
                    }
                }
            }
        }
    }

    // VectorKernels' constants, written as they are written there.
    private static final float SQRT_2_OVER_PI = (float) Math.sqrt(2.0 / Math.PI);
    private static final float INV_SQRT_2 = (float) (1.0 / Math.sqrt(2.0));
    private static final float TANH_A = -2f * SQRT_2_OVER_PI * 0.044715f, TANH_B = -2f * SQRT_2_OVER_PI;

    /** x / (1 + e^(−2u)), u = √(2/π) (x + 0.044715 x³), as VectorKernels.gelu computes it. */
    static float geluTanh(float x) {
        return x / (exp(Math.fma(x * x, TANH_A, TANH_B) * x - 0f) + 1f);
    }

    /** ½ x (1 + erf(x / √2)), as VectorKernels.gelu computes it. */
    static float geluErf(float x) {
        return x * 0.5f * (erf(x * INV_SQRT_2) + 1f);
    }

    private static final float LOG2E = 1.44269504f, ROUND = 12582912f, LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f;
    private static final float C2 = 1f / 2, C3 = 1f / 6, C4 = 1f / 24, C5 = 1f / 120, C6 = 1f / 720, C7 = 1f / 5040;

    /** VectorKernels.exp of one value (already shifted): the clamp to [−87, 88], 2ⁿ · e^t, e^t by Taylor to t⁷. */
    static float exp(float x) {
        if (x < -87f) x = -87f;
        if (88f < x) x = 88f;
        float t = Math.fma(x, LOG2E, ROUND);
        float n = t - ROUND;
        float r = Math.fma(n, -LN2_LO, Math.fma(n, -LN2_HI, x));
        float p = Math.fma(r, C7, C6);
        p = Math.fma(p, r, C5);
        p = Math.fma(p, r, C4);
        p = Math.fma(p, r, C3);
        p = Math.fma(p, r, C2);
        p = Math.fma(p, r, 1f);
        p = Math.fma(p, r, 1f);
        return p * Float.intBitsToFloat((Float.floatToRawIntBits(t) - (0x4B400000 - 127)) << 23);
    }

    private static final float P0 = 1.1283786774044480f, P1 = 2.1395205222048985e-01f, P2 = 5.2434462759924756e-02f,
            P3 = 4.2933623712779843e-03f, P4 = 1.5554380060933269e-04f, P5 = -1.9903368150241130e-06f,
            P6 = 1.9216846613989702e-08f;
    private static final float Q1 = 0.5229377261798972f, Q2 = 0.12080267757184321f, Q3 = 0.01555172632035783f,
            Q4 = 0.00109811149970287f;

    /** VectorKernels.erf of one value: z · P(z²) / Q(z²) on z clamped to [−4, 4]. */
    static float erf(float z) {
        if (z < -4f) z = -4f;
        if (4f < z) z = 4f;
        float t = z * z;
        float p = Math.fma(t, P6, P5);
        p = Math.fma(p, t, P4);
        p = Math.fma(p, t, P3);
        p = Math.fma(p, t, P2);
        p = Math.fma(p, t, P1);
        p = Math.fma(p, t, P0);
        float q = Math.fma(t, Q4, Q3);
        q = Math.fma(q, t, Q2);
        q = Math.fma(q, t, Q1);
        q = Math.fma(q, t, 1f);
        return z * p / q;
    }

    // ---------------------------------------------------------------- attention

    @Override
    public void attentionKeys(float[] qkv, int hidden, int d, int rowBase, int col0, int keys, float[] scratch, int s0) {
        // reads k and v where they are
    }

    @Override
    public int attentionScratch(int d, int keys) {
        return d + keys;
    }

    @Override
    public void attention(float[] qkv, float[] ctx, int hidden, int d, int seqLen, int rowBase, int col0,
                          int keys, float[] mask, int i0, float scale, float[] s, int s0) {
        // s from s0: q·scale [d] | scores, then e [keys]
        final int end = Math.min(i0 + 2 * vl, seqLen), ld = 3 * hidden, q0 = s0, e = s0 + d;
        for (int i = i0; i < end; i++) {
            int qo = (rowBase + i) * ld + col0;
            for (int c = 0; c < d; c++) s[q0 + c] = qkv[qo + c] * scale;
            int j = 0;
            for (int ko = rowBase * ld + hidden + col0; j + 4 <= keys; j += 4, ko += 4 * ld) { // 4 chains at a time
                float d0 = 0f, d1 = 0f, d2 = 0f, d3 = 0f;
                for (int c = 0; c < d; c++) {
                    float q = s[q0 + c];
                    d0 = Math.fma(qkv[ko + c], q, d0);
                    d1 = Math.fma(qkv[ko + ld + c], q, d1);
                    d2 = Math.fma(qkv[ko + 2 * ld + c], q, d2);
                    d3 = Math.fma(qkv[ko + 3 * ld + c], q, d3);
                }
                s[e + j] = d0 + mask[rowBase + j];
                s[e + j + 1] = d1 + mask[rowBase + j + 1];
                s[e + j + 2] = d2 + mask[rowBase + j + 2];
                s[e + j + 3] = d3 + mask[rowBase + j + 3];
            }
            for (; j < keys; j++) {
                int ko = (rowBase + j) * ld + hidden + col0;
                float dot = 0f;
                for (int c = 0; c < d; c++) dot = Math.fma(qkv[ko + c], s[q0 + c], dot);
                s[e + j] = dot + mask[rowBase + j];
            }
            float max = Float.NEGATIVE_INFINITY;
            for (j = 0; j < keys; j++) {
                if (max < s[e + j]) max = s[e + j]; // in key order, as the vector kernels take it
            }
            float sum = 0f;
            for (j = 0; j < keys; j++) {
                float ej = exp(s[e + j] - max);
                s[e + j] = ej;
                sum += ej;
            }
            float inv = 1f / sum;
            int co = (rowBase + i) * hidden + col0, vo = rowBase * ld + 2 * hidden + col0, c = 0;
            for (; c + 4 <= d; c += 4) { // 4 head columns, 4 chains, at a time
                float o0 = 0f, o1 = 0f, o2 = 0f, o3 = 0f;
                for (j = 0; j < keys; j++) {
                    float ej = s[e + j];
                    int v = vo + j * ld + c;
                    o0 = Math.fma(qkv[v], ej, o0);
                    o1 = Math.fma(qkv[v + 1], ej, o1);
                    o2 = Math.fma(qkv[v + 2], ej, o2);
                    o3 = Math.fma(qkv[v + 3], ej, o3);
                }
                ctx[co + c] = o0 * inv;
                ctx[co + c + 1] = o1 * inv;
                ctx[co + c + 2] = o2 * inv;
                ctx[co + c + 3] = o3 * inv;
            }
            for (; c < d; c++) {
                float o = 0f;
                for (j = 0; j < keys; j++) o = Math.fma(qkv[vo + j * ld + c], s[e + j], o);
                ctx[co + c] = o * inv;
            }
        }
    }

    // ---------------------------------------------------------------- LayerNorm

    @Override
    public void addLayerNorm(float[] x, float[] r, float[] y, int cols, int row0, int row1, float[] gamma, float[] beta, float eps) {
        final int vecEnd = cols - cols % vl;
        float[] acc = new float[vl];
        for (int row = row0; row < row1; row++) {
            int o = row * cols;
            java.util.Arrays.fill(acc, 0f);
            float tail = 0f;
            int c = 0;
            for (; c < vecEnd; c += vl) {
                for (int l = 0; l < vl; l++) {
                    float z = r != null ? x[o + c + l] + r[o + c + l] : x[o + c + l];
                    y[o + c + l] = z;
                    acc[l] = acc[l] + z;
                }
            }
            for (; c < cols; c++) {
                float z = r != null ? x[o + c] + r[o + c] : x[o + c];
                y[o + c] = z;
                tail += z;
            }
            float mean = (lanes(acc) + tail) / cols;
            java.util.Arrays.fill(acc, 0f);
            tail = 0f;
            for (c = 0; c < vecEnd; c += vl) {
                for (int l = 0; l < vl; l++) {
                    float dev = y[o + c + l] - mean;
                    acc[l] = Math.fma(dev, dev, acc[l]);
                }
            }
            for (; c < cols; c++) {
                float dev = y[o + c] - mean;
                tail += dev * dev;
            }
            float var = (lanes(acc) + tail) / cols;
            float inv = (float) (1.0 / Math.sqrt(var + eps));
            for (c = 0; c < vecEnd; c++) y[o + c] = Math.fma((y[o + c] - mean) * inv, gamma[c], beta[c]);
            for (; c < cols; c++) y[o + c] = (y[o + c] - mean) * inv * gamma[c] + beta[c];
        }
    }

    /** Σ lanes, left to right, from 0 (VectorKernels.sum). */
    private static float lanes(float[] acc) {
        float s = 0;
        for (float a : acc) s += a;
        return s;
    }
}
