package bertj.backend.opencl;

import org.jocl.cl_kernel;

/** Work-group size arithmetic shared by the kernels' host sides. */
final class Sizes {
    private Sizes() {
    }

    /** The largest one-dimensional work-group this compiled kernel may use on this device. */
    static int groupLimit(ClDevice dev, cl_kernel kernel) {
        long limit = Math.min(dev.maxWorkGroupSize(kernel), Math.min(dev.info.maxWorkGroupSize(), dev.info.maxWorkItemSizes()[0]));
        return (int) Math.max(1, Math.min(limit, 1 << 20));
    }

    static int powerOfTwoAtMost(int n) {
        return Integer.highestOneBit(Math.max(1, n));
    }

    static int powerOfTwoAtLeast(int n) {
        return n <= 1 ? 1 : Integer.highestOneBit(n - 1) << 1;
    }
}
