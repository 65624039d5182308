package bertj.backend.opencl;

import org.jocl.cl_kernel;
import org.jocl.cl_mem;

/**
 * Host side of qa_head.cl: logits = x wᵀ + b for N ≤ {@link #MAX_OUT} outputs, x [M, K] half, logits [M, N]
 * float. Reference op: {@link bertj.backend.reference.ReferenceBackend#linear}; test: kernels-tests QaHeadKernelTest.
 */
final class QaHeadKernel {
    static final int MAX_OUT = 8;

    private final ClDevice dev;
    private cl_kernel kernel;
    private int group;

    QaHeadKernel(ClDevice dev) {
        this.dev = dev;
    }

    void run(int m, int n, int k, cl_mem x, cl_mem w, cl_mem bias, cl_mem logits) {
        if (n > MAX_OUT) throw new IllegalArgumentException("qa_head handles at most " + MAX_OUT + " outputs, not " + n);
        if (m == 0) return;
        if (kernel == null) {
            kernel = dev.kernel(dev.build("-D MAX_OUT=" + MAX_OUT, "common.clh", "qa_head.cl"), "qa_head");
            group = Sizes.powerOfTwoAtMost(Math.min(64, Sizes.groupLimit(dev, kernel)));
        }
        int g = Math.min(group, Sizes.powerOfTwoAtLeast(k));
        dev.run("qa_head", kernel, new long[] {(long) m * g}, new long[] {g}, k, n, x, w, bias, logits,
                new ClDevice.Local(4L * g));
    }
}
