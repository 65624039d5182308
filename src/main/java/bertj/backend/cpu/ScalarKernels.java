package bertj.backend.cpu;

import bertj.backend.Backend.Epilogue;
import bertj.model.Erf;

/**
 * {@link Kernels} in plain Java, for JVMs started without {@code --add-modules jdk.incubator.vector}: the same
 * layouts, tasks and float32 arithmetic as {@link VectorKernels}, with ordinary loops (the JIT vectorises some
 * of them) and exp, tanh and erf from the JDK / {@link Erf} in double, rounded to float. As accurate as the
 * vector path and about 40 times slower (8.4 seq/s at 1 × 128 against 335): a correct answer where the module
 * is missing, not a fast one.
 */
final class ScalarKernels implements Kernels {
    private static final int NR = 16;
    private static final int QB = 32;

    @Override
    public String description() {
        return "scalar (start the JVM with --add-modules jdk.incubator.vector for the vector path)";
    }

    @Override
    public int panelWidth() {
        return NR;
    }

    @Override
    public int rowBlock() {
        return 1;
    }

    @Override
    public int queryBlock() {
        return QB;
    }

    @Override
    public int linearScratch() {
        return NR;
    }

    @Override
    public void linear(float[] x, int kdim, float[] w, float[] bias, float[] y, int n, int row0, int row1, int panel0, int panel1,
                       Epilogue epilogue, float[] acc) {
        for (int r = row0; r < row1; r++) {
            for (int p = panel0; p < panel1; p++) {
                int n0 = p * NR, cols = Math.min(NR, n - n0);
                System.arraycopy(bias, n0, acc, 0, NR);
                for (int k = 0, wo = p * kdim * NR; k < kdim; k++, wo += NR) {
                    float a = x[r * kdim + k];
                    for (int j = 0; j < NR; j++) acc[j] += a * w[wo + j];
                }
                for (int j = 0; j < cols; j++) y[r * n + n0 + j] = gelu(acc[j], epilogue);
            }
        }
    }

    private static final double SQRT_2_OVER_PI = Math.sqrt(2.0 / Math.PI);
    private static final double INV_SQRT_2 = 1.0 / Math.sqrt(2.0);

    static float gelu(float v, Epilogue e) {
        return switch (e) {
            case NONE -> v;
            case GELU_ERF -> 0.5f * v * (1f + (float) Erf.erf(v * INV_SQRT_2));
            case GELU_TANH -> 0.5f * v * (1f + (float) Math.tanh(SQRT_2_OVER_PI * (v + 0.044715f * v * v * v)));
        };
    }

    @Override
    public void attentionKeys(float[] qkv, int hidden, int d, int rowBase, int col0, int keys, float[] scratch) {
        // reads k and v where they are
    }

    @Override
    public void attention(float[] qkv, float[] ctx, int hidden, int d, int seqLen, int rowBase, int col0,
                          int keys, float[] mask, int i0, float scale, float[] s) {
        int end = Math.min(i0 + QB, seqLen), ld = 3 * hidden;
        for (int i = i0; i < end; i++) {
            int qo = (rowBase + i) * ld + col0;
            float max = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < keys; j++) {
                int ko = (rowBase + j) * ld + hidden + col0;
                float dot = 0;
                for (int c = 0; c < d; c++) dot += (qkv[qo + c] * scale) * qkv[ko + c];
                s[j] = dot + mask[rowBase + j];
                max = Math.max(max, s[j]);
            }
            float total = 0;
            for (int j = 0; j < keys; j++) {
                s[j] = (float) Math.exp(s[j] - max);
                total += s[j];
            }
            float inv = 1f / total;
            int co = (rowBase + i) * hidden + col0;
            for (int c = 0; c < d; c++) {
                float acc = 0;
                for (int j = 0; j < keys; j++) acc += s[j] * qkv[(rowBase + j) * ld + 2 * hidden + col0 + c];
                ctx[co + c] = acc * inv;
            }
        }
    }

    @Override
    public void addLayerNorm(float[] x, float[] r, float[] y, int cols, int row0, int row1, float[] gamma, float[] beta, float eps) {
        for (int row = row0; row < row1; row++) {
            int o = row * cols;
            float mean = 0;
            for (int c = 0; c < cols; c++) {
                float z = r != null ? x[o + c] + r[o + c] : x[o + c];
                y[o + c] = z;
                mean += z;
            }
            mean /= cols;
            float var = 0;
            for (int c = 0; c < cols; c++) {
                float dev = y[o + c] - mean;
                var += dev * dev;
            }
            var /= cols;
            float inv = (float) (1.0 / Math.sqrt(var + eps));
            for (int c = 0; c < cols; c++) y[o + c] = (y[o + c] - mean) * inv * gamma[c] + beta[c];
        }
    }
}
