package bertj.backend.opencl;

import bertj.backend.Backend;
import bertj.backend.Batch;
import bertj.backend.reference.ReferenceBackend;
import bertj.testing.Qkv;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static bertj.backend.opencl.KernelTesting.*;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * tc_attention.cl (via {@link TcAttentionKernel}) against {@link ReferenceBackend#attention}, float64, on the same
 * half q, k, v — with the PTX on a GPU that takes it, with every PTX step emulated elsewhere (PoCL).
 *
 * <p>Tolerance: {@link AttentionKernelTest}'s (4.9e-4·|want| + A·(2Δs + (2S + 16)·2^-24·(1 + R)), A = Σ_j p_j|v_jc|)
 * plus 2^-11·A for the probabilities rounded to half before P·V (each p_j off by at most 2^-11 relative; the
 * normaliser sums the unrounded ones). Head sizes 8 (k8), 24 (k16 + k8: the model's) and 32 (two k16); sequences
 * 1 … 384 with padded rows; work-groups of 1, 2 and 4 warps and key tiles of 16, 32 and 64.
 */
class TensorCoreAttentionKernelTest {

    @Test
    void matchesTheFloat64ReferenceAtManyShapes() {
        Random r = random("TensorCoreAttentionKernelTest");
        TcAttentionKernel kernels = new TcAttentionKernel(device(), tensorCoreAsm());
        //           batch, seq, heads, d, q scale                       (each distinct program costs PoCL seconds to compile)
        runCase(kernels, r, 2, 33, 12, 24, 2, "random lengths");
        runCase(kernels, r, 4, 64, 12, 24, 2, "random lengths, one of length 1");
        runCase(kernels, r, 1, 128, 12, 24, 2, "full");
        runCase(kernels, r, 2, 384, 12, 24, 2, "random lengths");
        runCase(kernels, r, 2, 45, 2, 24, 6, "random lengths, peaked softmax");
        runCase(kernels, r, 3, 100, 4, 32, 2, "random lengths"); // two k16 steps, padded rows (d/8 even)
        runCase(kernels, r, 2, 40, 3, 8, 2, "random lengths");   // a k8 step alone
    }

    @Test
    void otherGroupAndKeyTileShapesCoverEveryQueryAndKey() {
        Random r = random("TensorCoreAttentionKernelTest.shapes");
        TcAttentionKernel kernels = new TcAttentionKernel(device(), tensorCoreAsm());
        //                    QW, KT
        runCase(kernels, r, new int[] {1, 16}, 1, 1, 1, 24, 2, "full");
        runCase(kernels, r, new int[] {1, 16}, 1, 7, 2, 24, 2, "full");
        runCase(kernels, r, new int[] {1, 16}, 3, 50, 2, 24, 2, "random lengths");
        runCase(kernels, r, new int[] {2, 32}, 2, 71, 3, 24, 2, "random lengths");
    }

    @Test
    void aValueFragmentLoadedWithoutTransposeFailsTheCheck() {
        Random r = random("TensorCoreAttentionKernelTest.negative");
        AssertionError e = assertThrows(AssertionError.class,
                () -> runCase(new TcAttentionKernel(device(), false, 3), r, 2, 40, 2, 24, 2, "random lengths"));
        System.out.println("[kernel] negative control (values not transposed) fails as it should: " + e.getMessage());
    }

    static void runCase(TcAttentionKernel kernels, Random r, int batch, int seq, int heads, int d, double qScale, String mode) {
        runCase(kernels, r, null, batch, seq, heads, d, qScale, mode);
    }

    static void runCase(TcAttentionKernel kernels, Random r, int[] shape, int batch, int seq, int heads, int d, double qScale, String mode) {
        int hidden = heads * d, tokens = batch * seq;
        double[] q = halves(r, tokens * hidden, 0, qScale), k = halves(r, tokens * hidden, 0, 1), v = halves(r, tokens * hidden, 0, 1);
        int[] mask = AttentionKernelTest.mask(r, batch, seq, mode);
        int[] s = shape != null ? shape : kernels.shape(seq);
        double[] got;
        try (KernelTesting.Buffers buf = new KernelTesting.Buffers()) {
            KernelTesting.Output ctx = buf.output(tokens * hidden, 2);
            kernels.run(s[0], s[1], batch, seq, heads, d, buf.halves(Qkv.pack(q, k, v, tokens, hidden)), buf.ints(mask), ctx.mem());
            got = buf.read(ctx, "tc_attention");
        }
        Batch b = new Batch(batch, seq, new int[tokens], new int[tokens], mask);
        double[] want, probs;
        try (ReferenceBackend ref = new ReferenceBackend()) {
            Backend.Matrix qkv = ref.upload(tokens, 3 * hidden, Qkv.pack(q, k, v, tokens, hidden));
            want = ref.read(ref.attention(b, qkv, heads));
            probs = ref.read(ref.attentionProbs(b, qkv, heads));
        }
        double[] abs = AttentionKernelTest.allowance(q, k, v, probs, mask, batch, seq, heads, d);
        for (int sq = 0; sq < batch; sq++) {
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < seq; i++) {
                    int pRow = ((sq * heads + h) * seq + i) * seq;
                    for (int c = 0; c < d; c++) {
                        double a = 0;
                        for (int j = 0; j < seq; j++) a += probs[pRow + j] * Math.abs(v[(sq * seq + j) * hidden + h * d + c]);
                        abs[(sq * seq + i) * hidden + h * d + c] += 0x1p-11 * a;
                    }
                }
            }
        }
        check(String.format("tc_attention batch %d seq %d heads %d d %d [QW %d, KT %d] (%s)%s", batch, seq, heads, d, s[0], s[1], mode,
                tensorCoreAsm() ? "" : " (emulated)"), got, want, HALF_ROUNDING, abs);
    }
}
