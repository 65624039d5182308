package bertj.backend.reference;

import bertj.backend.Backend;
import bertj.backend.Batch;
import bertj.model.BertWeights;
import bertj.model.GeluForm;
import bertj.readers.Tensor;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;

/**
 * The float64 oracle: every op written the way the paper states it, matrix products by EJML, no fusion, no
 * tricks. Other backends are measured against this one; it is meant to be read.
 */
public final class ReferenceBackend implements Backend {

    private record Mat(DMatrixRMaj m) implements Matrix {
        @Override
        public int rows() {
            return m.numRows;
        }

        @Override
        public int cols() {
            return m.numCols;
        }
    }

    /** W [out, in] and b [out] in float64. */
    private record Linear(DMatrixRMaj weight, double[] bias) implements Param {
    }

    private record Values(DMatrixRMaj values) implements Param {
    }

    @Override
    public String name() {
        return "reference";
    }

    @Override
    public String precision() {
        return "float64";
    }

    @Override
    public Param linear(BertWeights.Linear w) {
        return new Linear(matrix(w.weight()), w.bias().toDoubles());
    }

    @Override
    public Param vector(Tensor values) {
        double[] v = values.toDoubles();
        return new Values(DMatrixRMaj.wrap(1, v.length, v));
    }

    @Override
    public Param table(Tensor values) {
        return new Values(matrix(values));
    }

    private static DMatrixRMaj matrix(Tensor t) {
        return DMatrixRMaj.wrap(t.dim(0), t.dim(1), t.toDoubles());
    }

    @Override
    public void begin(Batch batch) {
    }

    @Override
    public void end() {
    }

    @Override
    public Matrix embed(Batch batch, Param word, Param position, Param tokenType, Param gamma, Param beta, double eps) {
        DMatrixRMaj w = ((Values) word).values(), p = ((Values) position).values(), t = ((Values) tokenType).values();
        int h = w.numCols;
        DMatrixRMaj sum = new DMatrixRMaj(batch.tokens(), h);
        for (int row = 0; row < batch.tokens(); row++) {
            int id = batch.inputIds()[row], type = batch.tokenTypeIds()[row], pos = row % batch.seqLen();
            for (int c = 0; c < h; c++) {
                sum.set(row, c, w.get(id, c) + p.get(pos, c) + t.get(type, c));
            }
        }
        return new Mat(layerNorm(sum, ((Values) gamma).values().data, ((Values) beta).values().data, eps));
    }

    @Override
    public Matrix linear(Matrix x, Param linear, Epilogue epilogue) {
        Linear l = (Linear) linear;
        DMatrixRMaj in = ((Mat) x).m();
        DMatrixRMaj y = new DMatrixRMaj(in.numRows, l.weight().numRows);
        CommonOps_DDRM.multTransB(in, l.weight(), y); // y = x Wᵀ
        for (int r = 0; r < y.numRows; r++) {
            for (int c = 0; c < y.numCols; c++) {
                double v = y.get(r, c) + l.bias()[c];
                y.set(r, c, switch (epilogue) {
                    case NONE -> v;
                    case GELU_ERF -> GeluForm.ERF.apply(v);
                    case GELU_TANH -> GeluForm.TANH.apply(v);
                });
            }
        }
        return new Mat(y);
    }

    /** Columns [part·H, (part+1)·H) of the packed [tokens, 3H] q | k | v: part 0 = q, 1 = k, 2 = v. */
    private static DMatrixRMaj part(Matrix qkv, int part) {
        DMatrixRMaj m = ((Mat) qkv).m();
        int hidden = m.numCols / 3;
        return CommonOps_DDRM.extract(m, 0, m.numRows, part * hidden, (part + 1) * hidden);
    }

    @Override
    public Matrix attention(Batch batch, Matrix qkv, int heads) {
        DMatrixRMaj probs = ((Mat) attentionProbs(batch, qkv, heads)).m();
        DMatrixRMaj vm = part(qkv, 2);
        int s = batch.seqLen(), hidden = vm.numCols, d = hidden / heads;
        DMatrixRMaj context = new DMatrixRMaj(batch.tokens(), hidden);
        for (int b = 0; b < batch.size(); b++) {
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < s; i++) {
                    int probRow = (b * heads + h) * s + i;
                    for (int c = 0; c < d; c++) {
                        double acc = 0; // context[i] = Σ_j p[i][j] · v[j]
                        for (int j = 0; j < s; j++) {
                            acc += probs.get(probRow, j) * vm.get(b * s + j, h * d + c);
                        }
                        context.set(b * s + i, h * d + c, acc);
                    }
                }
            }
        }
        return new Mat(context);
    }

    @Override
    public Matrix attentionProbs(Batch batch, Matrix qkv, int heads) {
        DMatrixRMaj qm = part(qkv, 0), km = part(qkv, 1);
        int s = batch.seqLen(), d = qm.numCols / heads;
        double scale = 1.0 / Math.sqrt(d);
        DMatrixRMaj probs = new DMatrixRMaj(batch.size() * heads * s, s);
        double[] scores = new double[s];
        for (int b = 0; b < batch.size(); b++) {
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < s; i++) {
                    // scores[j] = q_i · k_j / √d − 10000 · [key j is padding]
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < s; j++) {
                        double dot = 0;
                        for (int c = 0; c < d; c++) {
                            dot += qm.get(b * s + i, h * d + c) * km.get(b * s + j, h * d + c);
                        }
                        scores[j] = dot * scale + (batch.masked(b, j) ? -10000.0 : 0.0);
                        max = Math.max(max, scores[j]);
                    }
                    // softmax, shifted by the row maximum so exp never overflows
                    double total = 0;
                    for (int j = 0; j < s; j++) {
                        scores[j] = Math.exp(scores[j] - max);
                        total += scores[j];
                    }
                    int row = (b * heads + h) * s + i;
                    for (int j = 0; j < s; j++) {
                        probs.set(row, j, scores[j] / total);
                    }
                }
            }
        }
        return new Mat(probs);
    }

    @Override
    public Matrix addLayerNorm(Matrix x, Matrix residual, Param gamma, Param beta, double eps) {
        DMatrixRMaj sum = new DMatrixRMaj(x.rows(), x.cols());
        CommonOps_DDRM.add(((Mat) x).m(), ((Mat) residual).m(), sum);
        return new Mat(layerNorm(sum, ((Values) gamma).values().data, ((Values) beta).values().data, eps));
    }

    /** Row-wise (z − mean) / √(var + eps) · γ + β with the biased variance, as torch.nn.LayerNorm. */
    private static DMatrixRMaj layerNorm(DMatrixRMaj z, double[] gamma, double[] beta, double eps) {
        int n = z.numCols;
        DMatrixRMaj out = new DMatrixRMaj(z.numRows, n);
        for (int r = 0; r < z.numRows; r++) {
            double mean = 0;
            for (int c = 0; c < n; c++) mean += z.get(r, c);
            mean /= n;
            double var = 0;
            for (int c = 0; c < n; c++) {
                double dev = z.get(r, c) - mean;
                var += dev * dev;
            }
            var /= n;
            double inv = 1.0 / Math.sqrt(var + eps);
            for (int c = 0; c < n; c++) {
                out.set(r, c, (z.get(r, c) - mean) * inv * gamma[c] + beta[c]);
            }
        }
        return out;
    }

    @Override
    public Matrix upload(int rows, int cols, double[] rowMajor) {
        if (rowMajor.length != rows * cols) throw new IllegalArgumentException("expected " + rows * cols + " values");
        return new Mat(new DMatrixRMaj(rows, cols, true, rowMajor));
    }

    @Override
    public double[] read(Matrix m) {
        return ((Mat) m).m().data.clone();
    }

    @Override
    public void close() {
    }
}
