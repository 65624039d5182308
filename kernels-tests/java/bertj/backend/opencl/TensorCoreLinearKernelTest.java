package bertj.backend.opencl;

import bertj.backend.Backend.Epilogue;
import bertj.backend.reference.ReferenceBackend;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static bertj.backend.opencl.KernelTesting.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * tc_linear.cl (via {@link TcLinearKernel}) against {@link ReferenceBackend#linear} (and #addLayerNorm), float64,
 * on the same half inputs — with the PTX on a GPU that takes it, with every PTX step emulated elsewhere (PoCL:
 * the tiling, staging, fragment indexing and epilogues are all that differs from the GPU run).
 *
 * <p>Tolerances: the product as in {@link LinearKernelTest} (4.9e-4·|want| + 1.2·(K + 2)·2^-24·(Σ|x w| + |b|)
 * [+ GELU term]), which also covers the tensor cores' accumulation (exact products, a float sum per k16 step).
 * With the LayerNorm epilogue: {@link LinearLayerNormKernelTest#allowance}, as for the portable fused kernel.
 */
class TensorCoreLinearKernelTest {

    /**
     * M × N × K: single elements, K that is not a multiple of 8 (half-by-half staging) or of the k step, edges in
     * M and N, and the model's shapes.
     */
    private static final int[][] SHAPES = {
            {1, 1, 1}, {3, 5, 7}, {17, 33, 65}, {65, 97, 40}, {130, 96, 48}, {2, 1152, 288}, {100, 288, 288}, {127, 288, 1152},
            {40, 864, 288}};

    /**
     * Every tile at every shape without epilogue (the tiles differ only in indexing), the GELU epilogues on one
     * tile (their code does not depend on the tile): each compiled program costs PoCL seconds.
     */
    @Test
    void everyTileMatchesTheFloat64ReferenceAtAwkwardShapes() {
        ClDevice dev = device();
        Random r = random("TensorCoreLinearKernelTest");
        TcLinearKernel kernel = new TcLinearKernel(dev, tensorCoreAsm());
        for (int[] s : SHAPES) {
            for (TcLinearKernel.Config t : TcLinearKernel.LINEAR) runCase(kernel, t, r, s[0], s[1], s[2], Epilogue.NONE);
        }
        for (Epilogue e : new Epilogue[] {Epilogue.GELU_ERF, Epilogue.GELU_TANH}) {
            runCase(kernel, TcLinearKernel.LINEAR.get(1), r, 77, 1152, 288, e);
            runCase(kernel, TcLinearKernel.LINEAR.get(1), r, 9, 100, 40, e);
        }
        // The tile the model's largest product uses at 128 x 384 tokens.
        runCase(kernel, kernel.choose(49152, 1152), r, 200, 1152, 288, Epilogue.NONE);
        assertEquals("32x32x16/2x1", TcLinearKernel.Config.parse("32x32x16/2x1").toString());
        assertThrows(IllegalArgumentException.class, () -> TcLinearKernel.Config.parse("24x32x16/2x1"));
    }

    @Test
    void theLayerNormEpilogueMatchesLinearThenAddLayerNorm() {
        ClDevice dev = device();
        Random r = random("TensorCoreLinearKernelTest.layerNorm");
        TcLinearKernel kernel = new TcLinearKernel(dev, tensorCoreAsm());
        // The attention-output and FFN-output shapes with both row heights; narrow and odd rows, K not a multiple of 8.
        for (int[] s : new int[][] {{1, 288, 288}, {70, 288, 288}, {33, 288, 1152}}) {
            for (TcLinearKernel.Config c : new TcLinearKernel.Config[] {new TcLinearKernel.Config(32, 288, 16, 2, 4),
                    new TcLinearKernel.Config(16, 288, 16, 1, 4)}) {
                runLayerNormCase(kernel, c, r, s[0], s[1], s[2], 0, 1);
            }
        }
        for (int[] s : new int[][] {{50, 40, 24}, {17, 100, 33}, {3, 1, 5}}) {
            TcLinearKernel.Config c = kernel.layerNormConfig(s[0], s[1]);
            assertNotNull(c, "no LayerNorm tile for " + s[1] + " columns");
            runLayerNormCase(kernel, c, r, s[0], s[1], s[2], 0, 1);
        }
        runLayerNormCase(kernel, kernel.layerNormConfig(40, 288), r, 40, 288, 288, 30, 0.5); // a large mean against the spread
        assertNull(kernel.layerNormConfig(10, TcLinearKernel.MAX_LAYER_NORM_WIDTH + 1));
    }

    @Test
    void aWrongFragmentOrderFailsTheCheck() {
        Random r = random("TensorCoreLinearKernelTest.negative");
        TcLinearKernel swapped = new TcLinearKernel(device(), false, 1);
        AssertionError e = assertThrows(AssertionError.class,
                () -> runCase(swapped, TcLinearKernel.LINEAR.get(1), r, 40, 96, 64, Epilogue.NONE));
        System.out.println("[kernel] negative control (A fragments a1/a2 swapped) fails as it should: " + e.getMessage());
        TcLinearKernel column = new TcLinearKernel(device(), false, 2);
        e = assertThrows(AssertionError.class, () -> runLayerNormCase(column, column.layerNormConfig(20, 288), r, 20, 288, 64, 0, 1));
        System.out.println("[kernel] negative control (B read from the next column) fails as it should: " + e.getMessage());
    }

    static void runCase(TcLinearKernel kernel, TcLinearKernel.Config t, Random r, int m, int n, int k, Epilogue e) {
        double[] x = halves(r, m * k, 0, 1), w = halves(r, n * k, 0, Math.sqrt(3.0 / k)), b = halves(r, n, 0, 0.5);
        double[] got;
        try (KernelTesting.Buffers buf = new KernelTesting.Buffers()) {
            KernelTesting.Output y = buf.output(m * n, 2);
            kernel.run(t, m, n, k, buf.halves(x), buf.halves(w), buf.halves(b), y.mem(), e);
            got = buf.read(y, "tc_linear");
        }
        double[] want = LinearKernelTest.reference(x, w, b, m, n, k, e);
        double[] pre = e == Epilogue.NONE ? want : LinearKernelTest.reference(x, w, b, m, n, k, Epilogue.NONE);
        check(String.format("tc_linear %dx%dx%d tile %s %s%s", m, n, k, t, e, tensorCoreAsm() ? "" : " (emulated)"), got, want,
                HALF_ROUNDING, LinearKernelTest.allowance(x, w, b, pre, m, n, k, e));
    }

    static void runLayerNormCase(TcLinearKernel kernel, TcLinearKernel.Config t, Random r, int m, int n, int k, double mean, double std) {
        double[] x = halves(r, m * k, 0, 1), w = halves(r, n * k, 0, Math.sqrt(1.0 / k)), b = halves(r, n, 0, 0.5);
        double[] res = halves(r, m * n, mean, std), gamma = halves(r, n, 1, 0.1), beta = halves(r, n, 0, 0.1);
        double eps = 1e-12;
        double[] got;
        try (KernelTesting.Buffers buf = new KernelTesting.Buffers()) {
            KernelTesting.Output y = buf.output(m * n, 2);
            kernel.runAddLayerNorm(t, m, n, k, buf.halves(x), buf.halves(w), buf.halves(b), buf.halves(res), buf.halves(gamma),
                    buf.halves(beta), (float) eps, y.mem());
            got = buf.read(y, "tc_linear + add_layernorm");
        }
        check(String.format("tc_linear %dx%dx%d + add_layernorm tile %s (mean %.0f)%s", m, n, k, t, mean, tensorCoreAsm() ? "" : " (emulated)"),
                got, LinearLayerNormKernelTest.reference(x, w, b, res, gamma, beta, eps, m, n, k), HALF_ROUNDING,
                LinearLayerNormKernelTest.allowance(x, w, b, res, gamma, beta, eps, m, n, k));
    }
}
