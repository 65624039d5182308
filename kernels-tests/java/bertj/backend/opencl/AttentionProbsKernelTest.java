package bertj.backend.opencl;

import bertj.backend.Backend;
import bertj.backend.Batch;
import bertj.backend.reference.ReferenceBackend;
import bertj.testing.Qkv;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static bertj.backend.opencl.KernelTesting.*;

/**
 * attention_probs.cl (via {@link AttentionKernels#probs}) against {@link ReferenceBackend#attentionProbs}, float64,
 * on the same half q, k. Tolerance per probability: 4.9e-4·p + p·(2Δs + (2S + 16)·2^-24·(1 + R)), Δs and R as in
 * {@link AttentionKernelTest}.
 */
class AttentionProbsKernelTest {
    @Test
    void matchesTheFloat64ReferenceAtSeveralShapes() {
        Random r = random("AttentionProbsKernelTest");
        AttentionKernels kernels = new AttentionKernels(device());
        int[][] shapes = {{1, 1, 1, 24}, {2, 33, 12, 24}, {4, 64, 3, 32}, {1, 200, 2, 24}};
        for (int[] s : shapes) {
            int batch = s[0], seq = s[1], heads = s[2], d = s[3], hidden = heads * d, tokens = batch * seq;
            double[] q = halves(r, tokens * hidden, 0, 2), k = halves(r, tokens * hidden, 0, 1);
            int[] mask = AttentionKernelTest.mask(r, batch, seq, "random lengths");
            double[] got;
            try (KernelTesting.Buffers buf = new KernelTesting.Buffers()) {
                KernelTesting.Output p = buf.output(batch * heads * seq * seq, 2);
                kernels.probs(batch, seq, heads, d, buf.halves(Qkv.pack(q, k, null, tokens, hidden)), buf.ints(mask), p.mem());
                got = buf.read(p, "attention_probs");
            }
            double[] want;
            try (ReferenceBackend ref = new ReferenceBackend()) {
                Backend.Matrix qkv = ref.upload(tokens, 3 * hidden, Qkv.pack(q, k, null, tokens, hidden));
                want = ref.read(ref.attentionProbs(new Batch(batch, seq, new int[tokens], new int[tokens], mask), qkv, heads));
            }
            double[] abs = AttentionKernelTest.allowance(q, k, null, want, mask, batch, seq, heads, d);
            check(String.format("attention_probs batch %d seq %d heads %d d %d", batch, seq, heads, d), got, want, HALF_ROUNDING, abs);
        }
    }
}
