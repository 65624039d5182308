package bertj.backend.opencl;

import bertj.backend.BackendException;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;

import java.util.HashMap;
import java.util.Map;

/**
 * Host sides of attention.cl (fused softmax(q kᵀ/√d + mask) v; reference
 * {@link bertj.backend.reference.ReferenceBackend#attention}, test kernels-tests AttentionKernelTest) and
 * attention_probs.cl (the probabilities alone, for traces; reference
 * {@link bertj.backend.reference.ReferenceBackend#attentionProbs}, test kernels-tests AttentionProbsKernelTest).
 *
 * <p>attention.cl is compiled once per head size d (HEAD_DIM) with a key tile KT: 32 keys when the staged keys
 * and values (2·KT·d floats) take at most half of CL_DEVICE_LOCAL_MEM_SIZE, else fewer. Work-groups hold QB
 * query rows: up to 64, no more than the compiled kernel allows and no more than the sequence needs.
 */
final class AttentionKernels {
    private record Compiled(cl_kernel kernel, int keyTile, int groupLimit) {
    }

    private final ClDevice dev;
    private final Map<Integer, Compiled> byHeadDim = new HashMap<>();
    private final int maxGroup;
    private cl_kernel probs;

    AttentionKernels(ClDevice dev) {
        this(dev, 64);
    }

    /** {@code maxGroup} caps the query rows per work-group (tests use small values to cover several groups). */
    AttentionKernels(ClDevice dev, int maxGroup) {
        this.dev = dev;
        this.maxGroup = maxGroup;
    }

    private Compiled compiled(int headDim) {
        return byHeadDim.computeIfAbsent(headDim, d -> {
            int kt = 32;
            while (kt > 1 && 4L * (2L * kt * d + kt) > dev.info.localMemBytes() / 2) kt /= 2;
            if (4L * (2L * kt * d + kt) > dev.info.localMemBytes()) {
                throw new BackendException(dev.info.label() + ": attention with head size " + d + " does not fit "
                        + dev.info.localMemBytes() + " B of local memory");
            }
            cl_kernel k = dev.kernel(dev.build("-D HEAD_DIM=" + d + " -D KT=" + kt, "common.clh", "attention.cl"), "attention");
            return new Compiled(k, kt, Sizes.groupLimit(dev, k));
        });
    }

    /** Key tile used for head size d (for reports). */
    int keyTile(int headDim) {
        return compiled(headDim).keyTile();
    }

    /**
     * ctx = softmax(q kᵀ / √d − 10000·(1 − mask)) v per (sequence, head); qkv [batch·seqLen, 3·heads·d] (q | k | v
     * side by side), ctx [batch·seqLen, heads·d].
     */
    void attention(int batch, int seqLen, int heads, int headDim, cl_mem qkv, cl_mem mask, cl_mem ctx) {
        Compiled c = compiled(headDim);
        int qb = Math.min(Math.min(maxGroup, c.groupLimit()), Sizes.powerOfTwoAtLeast(seqLen));
        long rows = (long) LinearKernel.ceilDiv(seqLen, qb) * qb;
        dev.run("attention d=" + headDim + " [KT " + c.keyTile() + ", QB " + qb + "]", c.kernel(), new long[] {rows, heads, batch}, new long[] {qb, 1, 1},
                seqLen, heads * headDim, (float) (1.0 / Math.sqrt(headDim)), qkv, mask, ctx);
    }

    /** probs [batch, heads, seqLen, seqLen] = softmax(q kᵀ / √d − 10000·(1 − mask)), from the packed qkv. */
    void probs(int batch, int seqLen, int heads, int headDim, cl_mem qkv, cl_mem mask, cl_mem probsOut) {
        if (probs == null) {
            probs = dev.kernel(dev.build("", "common.clh", "attention_probs.cl"), "attention_probs");
        }
        dev.run("attention_probs", probs, new long[] {seqLen, heads, batch}, null,
                seqLen, heads * headDim, headDim, (float) (1.0 / Math.sqrt(headDim)), qkv, mask, probsOut);
    }
}
