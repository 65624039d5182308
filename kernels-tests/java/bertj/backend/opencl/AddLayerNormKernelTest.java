package bertj.backend.opencl;

import bertj.backend.reference.ReferenceBackend;
import bertj.readers.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static bertj.backend.opencl.KernelTesting.*;

/**
 * add_layernorm.cl (via {@link LayerNormKernels#addLayerNorm}) against {@link ReferenceBackend#addLayerNorm},
 * float64, on the same half inputs.
 *
 * <p>Tolerance per element: |got − want| ≤ 4.9e-4·|want| + {@link #allowance}: 4·(H + 8)·2^-24·(|γ_c|·(mean|z| +
 * |z_c − mean|) / std + |β_c|), the worst case of float sums over the H columns for the mean and the variance,
 * seen through the normalisation (rows whose mean is large against their spread lose digits to cancellation,
 * in any float implementation).
 */
class AddLayerNormKernelTest {
    static final double U = Math.pow(2, -24);

    @Test
    void matchesTheFloat64ReferenceAtManyShapes() {
        Random r = random("AddLayerNormKernelTest");
        LayerNormKernels kernels = new LayerNormKernels(device());
        int[][] shapes = {{1, 288}, {3, 7}, {300, 288}, {8192, 288}, {33, 384}, {5, 1000}, {64, 1152}, {2, 1}, {17, 129}};
        for (int[] s : shapes) runCase(kernels, r, s[0], s[1], 0, 1);
        runCase(kernels, r, 40, 288, 30, 0.5); // mean 60 against a spread of ~0.7: the two-pass variance matters
    }

    static void runCase(LayerNormKernels kernels, Random r, int rows, int hidden, double mean, double std) {
        double[] x = halves(r, rows * hidden, mean, std), res = halves(r, rows * hidden, mean, std);
        double[] gamma = halves(r, hidden, 1, 0.1), beta = halves(r, hidden, 0, 0.1);
        double eps = 1e-12;
        double[] got;
        try (KernelTesting.Buffers buf = new KernelTesting.Buffers()) {
            KernelTesting.Output out = buf.output(rows * hidden, 2);
            kernels.addLayerNorm(rows, hidden, (float) eps, buf.halves(x), buf.halves(res), buf.halves(gamma), buf.halves(beta), out.mem());
            got = buf.read(out, "add_layernorm");
        }
        double[] want;
        try (ReferenceBackend ref = new ReferenceBackend()) {
            want = ref.read(ref.addLayerNorm(ref.upload(rows, hidden, x), ref.upload(rows, hidden, res),
                    ref.vector(Tensor.ofFloats(new int[] {hidden}, floats(gamma))), ref.vector(Tensor.ofFloats(new int[] {hidden}, floats(beta))), eps));
        }
        double[] z = new double[x.length];
        for (int i = 0; i < z.length; i++) z[i] = x[i] + res[i];
        check(String.format("add_layernorm %dx%d (mean %.0f)", rows, hidden, 2 * mean), got, want, HALF_ROUNDING,
                allowance(z, rows, hidden, gamma, beta, eps));
    }

    /** The float-arithmetic part of the tolerance of a LayerNorm over rows of z (see the class comment). */
    static double[] allowance(double[] z, int rows, int hidden, double[] gamma, double[] beta, double eps) {
        double[] abs = new double[z.length];
        for (int row = 0; row < rows; row++) {
            double mean = 0, meanAbs = 0, var = 0;
            for (int c = 0; c < hidden; c++) {
                mean += z[row * hidden + c];
                meanAbs += Math.abs(z[row * hidden + c]);
            }
            mean /= hidden;
            meanAbs /= hidden;
            for (int c = 0; c < hidden; c++) var += (z[row * hidden + c] - mean) * (z[row * hidden + c] - mean);
            double inv = 1 / Math.sqrt(var / hidden + eps);
            for (int c = 0; c < hidden; c++) {
                double dev = Math.abs(z[row * hidden + c] - mean);
                abs[row * hidden + c] = 4 * (hidden + 8) * U * (Math.abs(gamma[c]) * (meanAbs + dev) * Math.min(inv, 1 / U) + Math.abs(beta[c]));
            }
        }
        return abs;
    }
}
