package bertj.backend.opencl;

import bertj.backend.Backend;
import bertj.backend.Backend.Epilogue;
import bertj.backend.reference.ReferenceBackend;
import bertj.model.BertWeights;
import bertj.readers.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static bertj.backend.opencl.KernelTesting.*;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * linear.cl (via {@link LinearKernel}) against {@link ReferenceBackend#linear}, float64, on the same half inputs.
 *
 * <p>Tolerance per element: |got − want| ≤ 4.9e-4·|want| + 1.2·(K + 2)·2^-24·(Σ_k |x_k w_k| + |b|)
 * [+ 2.4e-7·(1 + |pre-activation|) with GELU]: the rounding of the result to half, the worst case of a K-term
 * float sum, and the float erf/tanh near their cancellation in the negative tail.
 */
class LinearKernelTest {
    private static final double U = Math.pow(2, -24);

    /** M × N × K: single elements, sizes below, at and just past the tile sizes, and the model's own shapes. */
    private static final int[][] SHAPES = {
            {1, 1, 1}, {3, 5, 7}, {8, 8, 8}, {17, 33, 65}, {64, 64, 16}, {65, 63, 17}, {2, 1152, 288},
            {100, 288, 288}, {129, 1152, 288}, {127, 288, 1152}, {300, 96, 40}};

    @Test
    void everyTilingMatchesTheFloat64ReferenceAtManyShapes() {
        ClDevice dev = device();
        Random r = random("LinearKernelTest");
        LinearKernel kernel = new LinearKernel(dev, LinearKernel.TILINGS); // every tiling, whatever the device prefers
        Epilogue[] epilogues = Epilogue.values();
        int c = 0;
        for (int[] s : SHAPES) {
            for (LinearKernel.Tiling t : kernel.candidates()) {
                runCase(dev, kernel, t, r, s[0], s[1], s[2], epilogues[c++ % epilogues.length]);
            }
        }
    }

    /**
     * Both GELU forms on the feed-forward shape; and the negative control: each form's result breaks the tolerance
     * when held against the other form (they differ by up to ~5e-4 near |x| ≈ 2 and, relative to the small
     * negative-tail values, by far more than 2^-11).
     */
    @Test
    void bothGeluFormsOnTheFeedForwardShapeWithLargePreActivations() {
        ClDevice dev = device();
        Random r = random("LinearKernelTest.gelu");
        LinearKernel kernel = new LinearKernel(dev);
        for (Epilogue e : Epilogue.values()) {
            double[][] run = runCase(dev, kernel, kernel.choose(77, 1152), r, 77, 1152, 288, e);
            if (e == Epilogue.NONE) continue;
            Epilogue other = e == Epilogue.GELU_ERF ? Epilogue.GELU_TANH : Epilogue.GELU_ERF;
            double[] x = run[1], w = run[2], b = run[3];
            double[] wrong = reference(x, w, b, 77, 1152, 288, other), pre = reference(x, w, b, 77, 1152, 288, Epilogue.NONE);
            checkFails("linear 77x1152x288 " + e + " held to " + other, run[0], wrong, HALF_ROUNDING, allowance(x, w, b, pre, 77, 1152, 288, other));
        }
    }

    @Test
    void theDeviceChoosesATilingThatFitsItsLimits() {
        ClDevice dev = device();
        LinearKernel kernel = new LinearKernel(dev);
        assertTrue(!kernel.candidates().isEmpty());
        for (LinearKernel.Tiling t : kernel.candidates()) {
            assertTrue(t.groupSize() <= dev.info.maxWorkGroupSize() && t.localBytes() <= dev.info.localMemBytes(), t.toString());
        }
        System.out.println("[kernel] linear tilings for " + dev.info.label() + ": " + kernel.candidates()
                + "; 49152x1152 uses " + kernel.choose(49152, 1152) + ", 1x288 uses " + kernel.choose(1, 288));
    }

    /** Runs one case and checks it; returns {got, x, w, b}. */
    static double[][] runCase(ClDevice dev, LinearKernel kernel, LinearKernel.Tiling t, Random r, int m, int n, int k, Epilogue e) {
        // x ~ N(0, 1), w ~ N(0, 3/K): pre-activations of standard deviation ~1.7, reaching ±6 and so the GELU's tails.
        double[] x = halves(r, m * k, 0, 1), w = halves(r, n * k, 0, Math.sqrt(3.0 / k)), b = halves(r, n, 0, 0.5);
        double[] got;
        try (KernelTesting.Buffers buf = new KernelTesting.Buffers()) {
            KernelTesting.Output y = buf.output(m * n, 2);
            kernel.run(t, m, n, k, buf.halves(x), buf.halves(w), buf.halves(b), y.mem(), e);
            got = buf.read(y, "linear");
        }
        double[] want = reference(x, w, b, m, n, k, e);
        double[] pre = e == Epilogue.NONE ? want : reference(x, w, b, m, n, k, Epilogue.NONE);
        check(String.format("linear %dx%dx%d tile %s %s", m, n, k, t, e), got, want, HALF_ROUNDING, allowance(x, w, b, pre, m, n, k, e));
        return new double[][] {got, x, w, b};
    }

    /** The float-arithmetic part of the tolerance (see the class comment); pre = the outputs before the epilogue. */
    static double[] allowance(double[] x, double[] w, double[] b, double[] pre, int m, int n, int k, Epilogue e) {
        double[] abs = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double sum = Math.abs(b[j]);
                for (int q = 0; q < k; q++) sum += Math.abs(x[i * k + q] * w[j * k + q]);
                abs[i * n + j] = 1.2 * (k + 2) * U * sum + (e == Epilogue.NONE ? 0 : 2.4e-7 * (1 + Math.abs(pre[i * n + j])));
            }
        }
        return abs;
    }

    /** ReferenceBackend#linear on the same half values, in float64. */
    static double[] reference(double[] x, double[] w, double[] b, int m, int n, int k, Epilogue e) {
        try (ReferenceBackend ref = new ReferenceBackend()) {
            Backend.Param p = ref.linear(new BertWeights.Linear(Tensor.ofFloats(new int[] {n, k}, floats(w)),
                    Tensor.ofFloats(new int[] {n}, floats(b))));
            return ref.read(ref.linear(ref.upload(m, k, x), p, e));
        }
    }
}
