package bertj.backend.opencl;

import bertj.backend.Backend;
import bertj.backend.Batch;
import bertj.backend.reference.ReferenceBackend;
import bertj.testing.Qkv;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static bertj.backend.opencl.KernelTesting.*;

/**
 * attention.cl (via {@link AttentionKernels#attention}) against {@link ReferenceBackend#attention}, float64, on
 * the same half q, k, v, at sequence lengths 1 … 512, batches 1 … 16, head sizes 8 … 64 and padded rows.
 *
 * <p>Tolerance per element (b, i, h, c): |got − want| ≤ 4.9e-4·|want| + A·(2Δs + (2S + 16)·2^-24·(1 + R)), where
 * A = Σ_j p_j |v_jc| (the size of what is summed), Δs = (d + 2)·2^-24·max_j Σ_c |q_ic k_jc| / √d bounds the float
 * error of a score and R is the range of the row's scores: a score error Δs changes a probability by a factor
 * e^{±2Δs}; float exp, the running rescaling and the S-term sums add a few ulps per key.
 */
class AttentionKernelTest {
    private static final double U = Math.pow(2, -24);

    @Test
    void matchesTheFloat64ReferenceAtManyShapes() {
        Random r = random("AttentionKernelTest");
        AttentionKernels kernels = new AttentionKernels(device());
        //           batch, seq, heads, d, q scale
        runCase(kernels, r, 1, 1, 1, 24, 2, "full");
        runCase(kernels, r, 1, 7, 2, 24, 2, "full");
        runCase(kernels, r, 2, 33, 12, 24, 2, "random lengths");
        runCase(kernels, r, 16, 64, 12, 24, 2, "random lengths, one of length 1");
        runCase(kernels, r, 1, 128, 12, 24, 2, "full");
        runCase(kernels, r, 1, 512, 12, 24, 2, "full");
        runCase(kernels, r, 2, 384, 12, 24, 2, "random lengths");
        runCase(kernels, r, 3, 100, 4, 32, 2, "random lengths");
        runCase(kernels, r, 2, 77, 2, 64, 2, "random lengths");
        runCase(kernels, r, 2, 40, 3, 8, 2, "random lengths");
        runCase(kernels, r, 2, 45, 2, 24, 6, "random lengths, peaked softmax");
    }

    @Test
    void smallWorkGroupsCoverEveryQueryRow() {
        Random r = random("AttentionKernelTest.groups");
        AttentionKernels kernels = new AttentionKernels(device(), 16); // at most 16 queries per group: several groups per head
        runCase(kernels, r, 3, 50, 2, 24, 2, "random lengths");
        runCase(kernels, r, 1, 17, 12, 24, 2, "full");
    }

    /**
     * Negative control: with padded rows, the result held to the attention computed without the mask (every key
     * attended, padding included) breaks the tolerance.
     */
    @Test
    void aDroppedMaskBreaksTheTolerance() {
        Random r = random("AttentionKernelTest.mask");
        AttentionKernels kernels = new AttentionKernels(device());
        int batch = 3, seq = 40, heads = 4, d = 24, hidden = heads * d, tokens = batch * seq;
        double[] q = halves(r, tokens * hidden, 0, 2), k = halves(r, tokens * hidden, 0, 1), v = halves(r, tokens * hidden, 0, 1);
        int[] mask = mask(r, batch, seq, "random lengths");
        double[] got;
        try (KernelTesting.Buffers buf = new KernelTesting.Buffers()) {
            KernelTesting.Output ctx = buf.output(tokens * hidden, 2);
            kernels.attention(batch, seq, heads, d, buf.halves(Qkv.pack(q, k, v, tokens, hidden)), buf.ints(mask), ctx.mem());
            got = buf.read(ctx, "attention");
        }
        int[] none = new int[tokens];
        java.util.Arrays.fill(none, 1);
        Batch unmasked = new Batch(batch, seq, new int[tokens], new int[tokens], none);
        double[] wrong, probs;
        try (ReferenceBackend ref = new ReferenceBackend()) {
            Backend.Matrix qkv = ref.upload(tokens, 3 * hidden, Qkv.pack(q, k, v, tokens, hidden));
            wrong = ref.read(ref.attention(unmasked, qkv, heads));
            probs = ref.read(ref.attentionProbs(unmasked, qkv, heads));
        }
        checkFails("attention batch 3 seq 40 heads 4 d 24 held to the unmasked attention", got, wrong, HALF_ROUNDING,
                allowance(q, k, v, probs, none, batch, seq, heads, d));
    }

    /** Attention masks: 1 for the first length(b) tokens of sequence b, 0 (padding) after. */
    static int[] mask(Random r, int batch, int seq, String mode) {
        int[] m = new int[batch * seq];
        for (int b = 0; b < batch; b++) {
            int len = mode.startsWith("full") || b == 0 ? seq : (b == batch - 1 && mode.contains("length 1")) ? 1 : 1 + r.nextInt(seq);
            for (int j = 0; j < len; j++) m[b * seq + j] = 1;
        }
        return m;
    }

    static void runCase(AttentionKernels kernels, Random r, int batch, int seq, int heads, int d, double qScale, String mode) {
        int hidden = heads * d, tokens = batch * seq;
        double[] q = halves(r, tokens * hidden, 0, qScale), k = halves(r, tokens * hidden, 0, 1), v = halves(r, tokens * hidden, 0, 1);
        int[] mask = mask(r, batch, seq, mode);
        double[] got;
        try (KernelTesting.Buffers buf = new KernelTesting.Buffers()) {
            KernelTesting.Output ctx = buf.output(tokens * hidden, 2);
            kernels.attention(batch, seq, heads, d, buf.halves(Qkv.pack(q, k, v, tokens, hidden)), buf.ints(mask), ctx.mem());
            got = buf.read(ctx, "attention");
        }
        Batch b = new Batch(batch, seq, new int[tokens], new int[tokens], mask);
        double[] want, probs;
        try (ReferenceBackend ref = new ReferenceBackend()) {
            Backend.Matrix qkv = ref.upload(tokens, 3 * hidden, Qkv.pack(q, k, v, tokens, hidden));
            want = ref.read(ref.attention(b, qkv, heads));
            probs = ref.read(ref.attentionProbs(b, qkv, heads));
        }
        check(String.format("attention batch %d seq %d heads %d d %d (%s)", batch, seq, heads, d, mode), got, want, HALF_ROUNDING,
                allowance(q, k, v, probs, mask, batch, seq, heads, d));
    }

    /**
     * The float-arithmetic part of the tolerance (see the class comment) for the context (v != null) or, with
     * v == null, for the probabilities themselves.
     */
    static double[] allowance(double[] q, double[] k, double[] v, double[] probs, int[] mask, int batch, int seq, int heads, int d) {
        int hidden = heads * d;
        double[] abs = new double[v != null ? batch * seq * hidden : probs.length];
        double scale = 1 / Math.sqrt(d);
        for (int s = 0; s < batch; s++) {
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < seq; i++) {
                    int qi = (s * seq + i) * hidden + h * d;
                    double dsMax = 0, sMin = Double.POSITIVE_INFINITY, sMax = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < seq; j++) {
                        int kj = (s * seq + j) * hidden + h * d;
                        double mag = 0, dot = 0;
                        for (int c = 0; c < d; c++) {
                            mag += Math.abs(q[qi + c] * k[kj + c]);
                            dot += q[qi + c] * k[kj + c];
                        }
                        dsMax = Math.max(dsMax, (d + 2) * U * mag * scale);
                        if (mask[s * seq + j] == 1) {
                            sMin = Math.min(sMin, dot * scale);
                            sMax = Math.max(sMax, dot * scale);
                        }
                    }
                    double factor = 2 * dsMax + (2.0 * seq + 16) * U * (1 + sMax - sMin);
                    int pRow = ((s * heads + h) * seq + i) * seq;
                    if (v == null) {
                        for (int j = 0; j < seq; j++) abs[pRow + j] = probs[pRow + j] * factor;
                        continue;
                    }
                    for (int c = 0; c < d; c++) {
                        double a = 0;
                        for (int j = 0; j < seq; j++) a += probs[pRow + j] * Math.abs(v[(s * seq + j) * hidden + h * d + c]);
                        abs[qi + c] = a * factor;
                    }
                }
            }
        }
        return abs;
    }
}
