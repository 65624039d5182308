package bertj.backend.opencl;

import bertj.backend.Backend;
import bertj.backend.Backend.Epilogue;
import bertj.backend.reference.ReferenceBackend;
import bertj.model.BertWeights;
import bertj.readers.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static bertj.backend.opencl.KernelTesting.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * linear_layernorm.cl (via {@link LinearLayerNormKernel}) against {@link ReferenceBackend#linearAddLayerNorm}
 * (linear then addLayerNorm, float64, no rounding in between), on the same half inputs.
 *
 * <p>Tolerance per element: 4.9e-4·|want| + {@link AddLayerNormKernelTest#allowance} (the LayerNorm's own float
 * sums, over z = x wᵀ + b + residual) + the product's float error δ ({@link LinearKernelTest#allowance}) seen
 * through the normalisation: |γ_c|/σ·(δ_c + δmax + 2·|ẑ_c|·δmax), δmax the row's largest δ and ẑ the normalised
 * value (an error δ moves the mean by at most δmax and σ by at most 2δmax).
 */
class LinearLayerNormKernelTest {

    @Test
    void matchesLinearThenAddLayerNormAtManyShapes() {
        Random r = random("LinearLayerNormKernelTest");
        LinearLayerNormKernel kernel = new LinearLayerNormKernel(device());
        //           M, N, K: the attention-output and FFN-output shapes, narrow, odd and wide rows, K not a tile multiple
        int[][] shapes = {{1, 288, 288}, {70, 288, 288}, {33, 288, 1152}, {50, 40, 24}, {17, 100, 33}, {45, 384, 64}, {3, 1, 5},
                {5, 1000, 16}};
        for (int[] s : shapes) {
            LinearLayerNormKernel.Tiling t = kernel.tiling(s[1]);
            assertNotNull(t, "no tiling for " + s[1] + " columns");
            runCase(kernel, t, r, s[0], s[1], s[2], 0, 1);
        }
        runCase(kernel, kernel.tiling(288, 2), r, 40, 288, 288, 0, 1); // two rows per work-item
        runCase(kernel, kernel.tiling(288), r, 40, 288, 288, 30, 0.5); // a large mean against the spread
        assertNull(kernel.tiling(LinearLayerNormKernel.MAX_WIDTH + 1));
    }

    @Test
    void aDroppedResidualFailsTheCheck() {
        Random r = random("LinearLayerNormKernelTest.negative");
        int m = 20, n = 288, k = 64;
        double[] x = halves(r, m * k, 0, 1), w = halves(r, n * k, 0, Math.sqrt(1.0 / k)), b = halves(r, n, 0, 0.5);
        double[] res = halves(r, m * n, 0, 1), gamma = halves(r, n, 1, 0.1), beta = halves(r, n, 0, 0.1);
        LinearLayerNormKernel kernel = new LinearLayerNormKernel(device());
        double[] got;
        try (KernelTesting.Buffers buf = new KernelTesting.Buffers()) {
            KernelTesting.Output y = buf.output(m * n, 2);
            kernel.run(m, n, k, buf.halves(x), buf.halves(w), buf.halves(b), buf.halves(new double[m * n]), buf.halves(gamma),
                    buf.halves(beta), 1e-12f, y.mem());
            got = buf.read(y, "linear_layernorm");
        }
        AssertionError e = assertThrows(AssertionError.class, () -> check("linear_layernorm without its residual", got,
                reference(x, w, b, res, gamma, beta, 1e-12, m, n, k), HALF_ROUNDING, allowance(x, w, b, res, gamma, beta, 1e-12, m, n, k)));
        System.out.println("[kernel] negative control (residual dropped) fails as it should: " + e.getMessage());
    }

    static void runCase(LinearLayerNormKernel kernel, LinearLayerNormKernel.Tiling t, Random r, int m, int n, int k, double mean, double std) {
        double[] x = halves(r, m * k, 0, 1), w = halves(r, n * k, 0, Math.sqrt(1.0 / k)), b = halves(r, n, 0, 0.5);
        double[] res = halves(r, m * n, mean, std), gamma = halves(r, n, 1, 0.1), beta = halves(r, n, 0, 0.1);
        double eps = 1e-12;
        double[] got;
        try (KernelTesting.Buffers buf = new KernelTesting.Buffers()) {
            KernelTesting.Output y = buf.output(m * n, 2);
            kernel.run(t, m, n, k, buf.halves(x), buf.halves(w), buf.halves(b), buf.halves(res), buf.halves(gamma), buf.halves(beta),
                    (float) eps, y.mem());
            got = buf.read(y, "linear_layernorm");
        }
        check(String.format("linear_layernorm %dx%dx%d tile %s (mean %.0f)", m, n, k, t, mean), got,
                reference(x, w, b, res, gamma, beta, eps, m, n, k), HALF_ROUNDING, allowance(x, w, b, res, gamma, beta, eps, m, n, k));
    }

    /** ReferenceBackend: LayerNorm(x wᵀ + b + residual) in float64, no rounding in between. */
    static double[] reference(double[] x, double[] w, double[] b, double[] res, double[] gamma, double[] beta, double eps,
                                       int m, int n, int k) {
        try (ReferenceBackend ref = new ReferenceBackend()) {
            Backend.Param p = ref.linear(new BertWeights.Linear(Tensor.ofFloats(new int[] {n, k}, floats(w)),
                    Tensor.ofFloats(new int[] {n}, floats(b))));
            return ref.read(ref.linearAddLayerNorm(ref.upload(m, k, x), p, ref.upload(m, n, res),
                    ref.vector(Tensor.ofFloats(new int[] {n}, floats(gamma))), ref.vector(Tensor.ofFloats(new int[] {n}, floats(beta))), eps));
        }
    }

    /** The float-arithmetic allowance of a fused linear + add &amp; LayerNorm (see the class comment). */
    static double[] allowance(double[] x, double[] w, double[] b, double[] res, double[] gamma, double[] beta, double eps,
                                       int m, int n, int k) {
        double[] pre = LinearKernelTest.reference(x, w, b, m, n, k, Epilogue.NONE);
        double[] delta = LinearKernelTest.allowance(x, w, b, pre, m, n, k, Epilogue.NONE);
        double[] z = new double[m * n];
        for (int i = 0; i < z.length; i++) z[i] = pre[i] + res[i];
        double[] abs = AddLayerNormKernelTest.allowance(z, m, n, gamma, beta, eps);
        for (int row = 0; row < m; row++) {
            double mu = 0, var = 0, dmax = 0;
            for (int c = 0; c < n; c++) {
                mu += z[row * n + c];
                dmax = Math.max(dmax, delta[row * n + c]);
            }
            mu /= n;
            for (int c = 0; c < n; c++) var += (z[row * n + c] - mu) * (z[row * n + c] - mu);
            double inv = 1 / Math.sqrt(var / n + eps);
            for (int c = 0; c < n; c++) {
                double zhat = Math.abs(z[row * n + c] - mu) * inv;
                abs[row * n + c] += Math.abs(gamma[c]) * Math.min(inv, 1e6) * (delta[row * n + c] + dmax + 2 * zhat * dmax);
            }
        }
        return abs;
    }
}
