package bertj.backend.opencl;

import bertj.backend.Backend.Epilogue;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static bertj.backend.opencl.KernelTesting.*;

/**
 * qa_head.cl (via {@link QaHeadKernel}) against {@link bertj.backend.reference.ReferenceBackend#linear}, float64,
 * on the same half inputs. The logits are float, so there is no half rounding in the tolerance:
 * |got − want| ≤ 1.2·(K + 16)·2^-24·(Σ_k |x_k w_k| + |b|), the worst case of the float sums.
 */
class QaHeadKernelTest {
    private static final double U = Math.pow(2, -24);

    @Test
    void matchesTheFloat64ReferenceAtManyShapes() {
        Random r = random("QaHeadKernelTest");
        QaHeadKernel kernel = new QaHeadKernel(device());
        int[][] shapes = {{1, 2, 288}, {7, 2, 288}, {8192, 2, 288}, {384, 1, 1}, {33, 3, 1000}, {5, 8, 17}, {100, 2, 1152}};
        for (int[] s : shapes) {
            int m = s[0], n = s[1], k = s[2];
            double[] x = halves(r, m * k, 0, 1), w = halves(r, n * k, 0, Math.sqrt(1.0 / k)), b = halves(r, n, 0, 0.5);
            double[] got;
            try (KernelTesting.Buffers buf = new KernelTesting.Buffers()) {
                KernelTesting.Output y = buf.output(m * n, 4);
                kernel.run(m, n, k, buf.halves(x), buf.halves(w), buf.halves(b), y.mem());
                got = buf.read(y, "qa_head");
            }
            double[] want = LinearKernelTest.reference(x, w, b, m, n, k, Epilogue.NONE);
            double[] abs = new double[m * n];
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double sum = Math.abs(b[j]);
                    for (int q = 0; q < k; q++) sum += Math.abs(x[i * k + q] * w[j * k + q]);
                    abs[i * n + j] = 1.2 * (k + 16) * U * sum;
                }
            }
            check(String.format("qa_head %dx%dx%d", m, n, k), got, want, 0, abs);
        }
    }
}
