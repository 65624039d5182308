package bertj.backend.opencl;

import bertj.backend.BackendException;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;

import java.util.HashMap;
import java.util.Map;

/**
 * Host side of tc_attention.cl, the tensor-core variant of attention.cl: ctx = softmax(q kᵀ/√d − 10000·pad) v per
 * (sequence, head) from the packed q|k|v. Reference op: {@link bertj.backend.reference.ReferenceBackend#attention};
 * test: kernels-tests TensorCoreAttentionKernelTest.
 *
 * <p>Head sizes that are multiples of 8 (d = 24: one k16 and one k8 step) up to 128; others run attention.cl.
 * A work-group is QW warps of 16 queries (QW = 4, fewer for short sequences) and stages KT = 64 keys per tile
 * (32 for sequences of at most 32). Compiled once per (d, QW, KT). -Dbertj.tc.attentionTile=QWxKT forces one
 * (for tuning on a GPU).
 */
final class TcAttentionKernel {
    private final ClDevice dev;
    private final boolean asm;
    private final int fault;
    private final int[] forced;
    private final Map<String, cl_kernel> compiled = new HashMap<>();

    TcAttentionKernel(ClDevice dev, boolean asm) {
        this(dev, asm, 0);
    }

    /** {@code fault} > 0 plants one of tensor_core.clh's test faults (kernels-tests' negative controls). */
    TcAttentionKernel(ClDevice dev, boolean asm, int fault) {
        this.dev = dev;
        this.asm = asm;
        this.fault = fault;
        String f = System.getProperty("bertj.tc.attentionTile");
        if (f == null || f.isBlank()) {
            forced = null;
        } else {
            String[] p = f.trim().split("x");
            forced = new int[] {Integer.parseInt(p[0]), Integer.parseInt(p[1])};
        }
    }

    static boolean supports(int headDim) {
        return headDim % 8 == 0 && headDim > 0 && headDim <= 128;
    }

    /** {QW, KT} for a sequence length. */
    int[] shape(int seqLen) {
        if (forced != null) return forced;
        int qw = Math.min(4, Sizes.powerOfTwoAtLeast(LinearKernel.ceilDiv(seqLen, 16)));
        return new int[] {qw, seqLen <= 32 ? 32 : 64};
    }

    void run(int batch, int seqLen, int heads, int headDim, cl_mem qkv, cl_mem mask, cl_mem ctx) {
        int[] s = shape(seqLen);
        run(s[0], s[1], batch, seqLen, heads, headDim, qkv, mask, ctx);
    }

    void run(int qw, int kt, int batch, int seqLen, int heads, int headDim, cl_mem qkv, cl_mem mask, cl_mem ctx) {
        if (!supports(headDim)) throw new IllegalArgumentException("tc_attention needs a head size that is a multiple of 8, not " + headDim);
        if (kt % 16 != 0) throw new IllegalArgumentException("tc_attention's key tile must be a multiple of 16, not " + kt);
        cl_kernel k = kernel(headDim, qw, kt);
        int threads = 32 * qw;
        long groups = LinearKernel.ceilDiv(seqLen, 16 * qw);
        dev.run("tc_attention d=" + headDim + " [QW " + qw + ", KT " + kt + "]", k, new long[] {groups * threads, heads, batch},
                new long[] {threads, 1, 1}, seqLen, heads * headDim, (float) (1.4426950408889634 / Math.sqrt(headDim)), qkv, mask, ctx);
    }

    private cl_kernel kernel(int d, int qw, int kt) {
        String options = "-D TC_ASM=" + (asm ? 1 : 0) + " -D TC_FAULT=" + fault + " -D HEAD_DIM=" + d + " -D QW=" + qw + " -D KT=" + kt;
        cl_kernel k = compiled.get(options);
        if (k == null) {
            int ldk = d / 2 + ((d / 8) % 2 == 0 ? 4 : 0);
            long local = 4L * (2 * 2 * kt * ldk + 2 * kt) + (asm ? 0 : 4L * 256 * qw);
            if (local > dev.info.localMemBytes()) {
                throw new BackendException(dev.info.label() + ": tensor-core attention with head size " + d + " needs " + local
                        + " B of local memory, the device has " + dev.info.localMemBytes());
            }
            k = dev.kernel(dev.build(options, "common.clh", "tensor_core.clh", "tc_attention.cl"), "tc_attention");
            if (dev.maxWorkGroupSize(k) < 32L * qw) {
                throw new BackendException(dev.info.label() + ": the compiled tensor-core attention allows work-groups of "
                        + dev.maxWorkGroupSize(k) + " but needs " + 32 * qw);
            }
            compiled.put(options, k);
        }
        return k;
    }
}
