package bertj.backend.opencl;

import bertj.backend.BackendException;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;

/**
 * Host sides of the two row-LayerNorm kernels, which share common.clh's layer_norm_row: embeddings.cl
 * (gather + sum + LayerNorm; reference {@link bertj.backend.reference.ReferenceBackend#embed}, test
 * kernels-tests EmbeddingsKernelTest) and add_layernorm.cl (residual add + LayerNorm; reference
 * {@link bertj.backend.reference.ReferenceBackend#addLayerNorm}, test kernels-tests AddLayerNormKernelTest).
 *
 * <p>One work-group per row; its size is the smallest power of two covering H, capped at 128 and at the
 * device's limit for the compiled kernel. The row (H floats) and the reduction scratch live in local memory.
 */
final class LayerNormKernels {
    private final ClDevice dev;
    private cl_kernel embeddings, addLayerNorm;
    private int embeddingsLimit, addLimit;

    LayerNormKernels(ClDevice dev) {
        this.dev = dev;
    }

    private int group(int hidden, int limit) {
        int g = Math.min(Sizes.powerOfTwoAtMost(Math.min(128, limit)), Sizes.powerOfTwoAtLeast(hidden));
        if (4L * (hidden + g) > dev.info.localMemBytes()) {
            throw new BackendException(dev.info.label() + ": a LayerNorm row of " + hidden + " floats does not fit its "
                    + dev.info.localMemBytes() + " B of local memory");
        }
        return g;
    }

    /** out[t] = LayerNorm(word[ids[t]] + position[t mod seqLen] + tokenType[types[t]]) for t < tokens. */
    void embeddings(int tokens, int seqLen, int hidden, float eps, cl_mem ids, cl_mem types, cl_mem word, cl_mem position,
                    cl_mem tokenType, cl_mem gamma, cl_mem beta, cl_mem out) {
        if (embeddings == null) {
            embeddings = dev.kernel(dev.build("", "common.clh", "embeddings.cl"), "embeddings");
            embeddingsLimit = Sizes.groupLimit(dev, embeddings);
        }
        int g = group(hidden, embeddingsLimit);
        dev.run("embeddings", embeddings, new long[] {(long) tokens * g}, new long[] {g}, seqLen, hidden, eps, ids, types,
                word, position, tokenType, gamma, beta, out, new ClDevice.Local(4L * hidden), new ClDevice.Local(4L * g));
    }

    /** out = LayerNorm(x + residual) row by row, [rows, hidden]. */
    void addLayerNorm(int rows, int hidden, float eps, cl_mem x, cl_mem residual, cl_mem gamma, cl_mem beta, cl_mem out) {
        if (addLayerNorm == null) {
            addLayerNorm = dev.kernel(dev.build("", "common.clh", "add_layernorm.cl"), "add_layernorm");
            addLimit = Sizes.groupLimit(dev, addLayerNorm);
        }
        int g = group(hidden, addLimit);
        dev.run("add_layernorm", addLayerNorm, new long[] {(long) rows * g}, new long[] {g}, hidden, eps, x, residual, gamma,
                beta, out, new ClDevice.Local(4L * hidden), new ClDevice.Local(4L * g));
    }
}
