package bertj.backend.cpu;

import bertj.backend.Backend;
import bertj.backend.Batch;
import bertj.model.BertWeights;
import bertj.model.Erf;
import bertj.readers.Tensor;

/**
 * Float32 on the CPU: the same ops as the reference backend with float storage and float accumulation.
 */
public final class CpuBackend implements Backend {

    private record Mat(int rows, int cols, float[] data) implements Matrix {
    }

    /** W [out, in] row-major, so that each output is a contiguous dot product with a row of x. */
    private record Linear(int out, int in, float[] weight, float[] bias) implements Param {
    }

    private record Values(int rows, int cols, float[] data) implements Param {
    }

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public String precision() {
        return "float32";
    }

    @Override
    public Param linear(BertWeights.Linear w) {
        return new Linear(w.out(), w.in(), w.weight().toFloats(), w.bias().toFloats());
    }

    @Override
    public Param vector(Tensor values) {
        return new Values(1, (int) values.numel(), values.toFloats());
    }

    @Override
    public Param table(Tensor values) {
        return new Values(values.dim(0), values.dim(1), values.toFloats());
    }

    @Override
    public void begin(Batch batch) {
    }

    @Override
    public void end() {
    }

    @Override
    public Matrix embed(Batch batch, Param word, Param position, Param tokenType, Param gamma, Param beta, double eps) {
        Values w = (Values) word, p = (Values) position, t = (Values) tokenType;
        int h = w.cols();
        float[] sum = new float[batch.tokens() * h];
        for (int row = 0; row < batch.tokens(); row++) {
            int id = batch.inputIds()[row], type = batch.tokenTypeIds()[row], pos = row % batch.seqLen();
            for (int c = 0; c < h; c++) {
                sum[row * h + c] = w.data()[id * h + c] + p.data()[pos * h + c] + t.data()[type * h + c];
            }
        }
        layerNormInPlace(sum, h, ((Values) gamma).data(), ((Values) beta).data(), (float) eps);
        return new Mat(batch.tokens(), h, sum);
    }

    @Override
    public Matrix linear(Matrix x, Param linear, Epilogue epilogue) {
        Mat a = (Mat) x;
        Linear l = (Linear) linear;
        float[] y = new float[a.rows() * l.out()];
        for (int r = 0; r < a.rows(); r++) {
            int xo = r * l.in();
            for (int o = 0; o < l.out(); o++) {
                int wo = o * l.in();
                float acc = 0;
                for (int i = 0; i < l.in(); i++) {
                    acc += a.data()[xo + i] * l.weight()[wo + i];
                }
                y[r * l.out() + o] = gelu(acc + l.bias()[o], epilogue);
            }
        }
        return new Mat(a.rows(), l.out(), y);
    }

    private static final float SQRT_2_OVER_PI = (float) Math.sqrt(2.0 / Math.PI);
    private static final float INV_SQRT_2 = (float) (1.0 / Math.sqrt(2.0));

    static float gelu(float v, Epilogue e) {
        return switch (e) {
            case NONE -> v;
            case GELU_ERF -> 0.5f * v * (1f + (float) Erf.erf(v * INV_SQRT_2));
            case GELU_TANH -> 0.5f * v * (1f + (float) Math.tanh(SQRT_2_OVER_PI * (v + 0.044715f * v * v * v)));
        };
    }

    @Override
    public Matrix attention(Batch batch, Matrix q, Matrix k, Matrix v, int heads) {
        Mat probs = (Mat) attentionProbs(batch, q, k, heads);
        Mat vm = (Mat) v;
        int s = batch.seqLen(), hidden = vm.cols(), d = hidden / heads;
        float[] ctx = new float[batch.tokens() * hidden];
        for (int b = 0; b < batch.size(); b++) {
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < s; i++) {
                    int pr = ((b * heads + h) * s + i) * s;
                    int out = (b * s + i) * hidden + h * d;
                    for (int j = 0; j < s; j++) {
                        float p = probs.data()[pr + j];
                        int vo = (b * s + j) * hidden + h * d;
                        for (int c = 0; c < d; c++) {
                            ctx[out + c] += p * vm.data()[vo + c];
                        }
                    }
                }
            }
        }
        return new Mat(batch.tokens(), hidden, ctx);
    }

    @Override
    public Matrix attentionProbs(Batch batch, Matrix q, Matrix k, int heads) {
        Mat qm = (Mat) q, km = (Mat) k;
        int s = batch.seqLen(), hidden = qm.cols(), d = hidden / heads;
        float scale = (float) (1.0 / Math.sqrt(d));
        float[] probs = new float[batch.size() * heads * s * s];
        for (int b = 0; b < batch.size(); b++) {
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < s; i++) {
                    int row = ((b * heads + h) * s + i) * s;
                    int qo = (b * s + i) * hidden + h * d;
                    float max = Float.NEGATIVE_INFINITY;
                    for (int j = 0; j < s; j++) {
                        int ko = (b * s + j) * hidden + h * d;
                        float dot = 0;
                        for (int c = 0; c < d; c++) dot += qm.data()[qo + c] * km.data()[ko + c];
                        float score = dot * scale + (batch.masked(b, j) ? -10000f : 0f);
                        probs[row + j] = score;
                        max = Math.max(max, score);
                    }
                    float total = 0;
                    for (int j = 0; j < s; j++) {
                        float e = (float) Math.exp(probs[row + j] - max);
                        probs[row + j] = e;
                        total += e;
                    }
                    float inv = 1f / total;
                    for (int j = 0; j < s; j++) probs[row + j] *= inv;
                }
            }
        }
        return new Mat(batch.size() * heads * s, s, probs);
    }

    @Override
    public Matrix addLayerNorm(Matrix x, Matrix residual, Param gamma, Param beta, double eps) {
        Mat a = (Mat) x, r = (Mat) residual;
        float[] sum = new float[a.data().length];
        for (int i = 0; i < sum.length; i++) sum[i] = a.data()[i] + r.data()[i];
        layerNormInPlace(sum, a.cols(), ((Values) gamma).data(), ((Values) beta).data(), (float) eps);
        return new Mat(a.rows(), a.cols(), sum);
    }

    private static void layerNormInPlace(float[] z, int n, float[] gamma, float[] beta, float eps) {
        for (int off = 0; off < z.length; off += n) {
            float mean = 0;
            for (int c = 0; c < n; c++) mean += z[off + c];
            mean /= n;
            float var = 0;
            for (int c = 0; c < n; c++) {
                float dev = z[off + c] - mean;
                var += dev * dev;
            }
            var /= n;
            float inv = (float) (1.0 / Math.sqrt(var + eps));
            for (int c = 0; c < n; c++) z[off + c] = (z[off + c] - mean) * inv * gamma[c] + beta[c];
        }
    }

    @Override
    public double[] read(Matrix m) {
        float[] f = ((Mat) m).data();
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }

    @Override
    public void close() {
    }
}
