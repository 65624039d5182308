package bertj.backend.opencl;

import bertj.backend.Backend.Epilogue;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;

import java.util.ArrayList;
import java.util.List;

/**
 * Host side of linear.cl: y = act(x wᵀ + b), x [M, K], w [N, K], y [M, N], all half.
 * Reference op: {@link bertj.backend.reference.ReferenceBackend#linear}; test: kernels-tests LinearKernelTest.
 *
 * <p>The tile shape is compile-time in the kernel. The candidates are those whose work-group fits the device's
 * CL_DEVICE_MAX_WORK_GROUP_SIZE (and, once compiled, CL_KERNEL_WORK_GROUP_SIZE) and whose two staged tiles fit
 * CL_DEVICE_LOCAL_MEM_SIZE. Each call takes the largest candidate that still gives at least two work-groups
 * per compute unit (big tiles re-use each loaded value more; small ones keep a large device busy when M·N is
 * small), else the smallest.
 */
final class LinearKernel {

    /** A TM × TN output tile computed by (TN/WN) × (TM/WM) work-items, k staged TK at a time. */
    record Tiling(int tm, int tn, int tk, int wm, int wn) {
        int rx() {
            return tn / wn;
        }

        int ry() {
            return tm / wm;
        }

        int groupSize() {
            return rx() * ry();
        }

        long localBytes() {
            return 4L * tk * ((tm + 1) + (tn + 1));
        }

        String options() {
            return "-D TM=" + tm + " -D TN=" + tn + " -D TK=" + tk + " -D WM=" + wm + " -D WN=" + wn;
        }

        @Override
        public String toString() {
            return tm + "x" + tn + "x" + tk + "/" + wm + "x" + wn;
        }
    }

    /** Largest first. 256 work-items of 4×4 outputs; 64 of 4×4; 64 of 2×2; 16 of 2×2 for very small devices. */
    static final List<Tiling> TILINGS = List.of(
            new Tiling(64, 64, 16, 4, 4), new Tiling(32, 32, 16, 4, 4), new Tiling(16, 16, 16, 2, 2), new Tiling(8, 8, 8, 2, 2));

    private final ClDevice dev;
    private final List<Tiling> candidates = new ArrayList<>();
    private final List<cl_kernel> compiled = new ArrayList<>(); // parallel to candidates; null until first use

    /** Tilings chosen from the device's limits. */
    LinearKernel(ClDevice dev) {
        this(dev, fitting(dev.info));
    }

    /** Exactly these tilings (tests force each one). */
    LinearKernel(ClDevice dev, List<Tiling> tilings) {
        this.dev = dev;
        if (tilings.isEmpty()) {
            throw new bertj.backend.BackendException(dev.info.label() + ": no matrix-multiply tile fits the device's work-group size "
                    + dev.info.maxWorkGroupSize() + " and local memory " + dev.info.localMemBytes() + " B");
        }
        for (Tiling t : tilings) {
            candidates.add(t);
            compiled.add(null);
        }
    }

    static List<Tiling> fitting(DeviceInfo info) {
        List<Tiling> fit = new ArrayList<>();
        long[] items = info.maxWorkItemSizes();
        for (Tiling t : TILINGS) {
            if (t.groupSize() <= info.maxWorkGroupSize() && t.rx() <= items[0] && t.ry() <= items[1]
                    && t.localBytes() <= info.localMemBytes()) {
                fit.add(t);
            }
        }
        // 16-work-item groups waste most of a GPU's SIMD width; keep them only for devices that allow no more.
        if (fit.stream().anyMatch(t -> t.groupSize() >= 64)) fit.removeIf(t -> t.groupSize() < 64);
        return fit;
    }

    List<Tiling> candidates() {
        return List.copyOf(candidates);
    }

    /** The tiling a call with these sizes will use. */
    Tiling choose(int m, int n) {
        for (Tiling t : candidates) {
            long groups = (long) ceilDiv(m, t.tm()) * ceilDiv(n, t.tn());
            if (groups >= 2L * dev.info.computeUnits()) return t;
        }
        return candidates.get(candidates.size() - 1);
    }

    void run(int m, int n, int k, cl_mem x, cl_mem w, cl_mem bias, cl_mem y, Epilogue epilogue) {
        run(choose(m, n), m, n, k, x, w, bias, y, epilogue);
    }

    void run(Tiling t, int m, int n, int k, cl_mem x, cl_mem w, cl_mem bias, cl_mem y, Epilogue epilogue) {
        if (m == 0 || n == 0) return;
        cl_kernel kernel = kernel(t);
        int code = switch (epilogue) {
            case NONE -> 0;
            case GELU_ERF -> 1;
            case GELU_TANH -> 2;
        };
        long[] global = {(long) ceilDiv(n, t.tn()) * t.rx(), (long) ceilDiv(m, t.tm()) * t.ry()};
        dev.run("linear " + n + "x" + k + (epilogue == Epilogue.NONE ? "" : " " + epilogue.name().toLowerCase()) + " [" + t + "]", kernel, global, new long[] {t.rx(), t.ry()}, m, n, k, x, w, bias, y, code);
    }

    private cl_kernel kernel(Tiling t) {
        int i = candidates.indexOf(t);
        if (i < 0) throw new IllegalArgumentException("tiling " + t + " is not a candidate here");
        if (compiled.get(i) == null) {
            cl_kernel k = dev.kernel(dev.build(t.options(), "common.clh", "linear.cl"), "linear");
            long max = dev.maxWorkGroupSize(k);
            if (max < t.groupSize()) {
                throw new bertj.backend.BackendException(dev.info.label() + ": the compiled matrix multiply allows work-groups of "
                        + max + " but tile " + t + " needs " + t.groupSize());
            }
            compiled.set(i, k);
        }
        return compiled.get(i);
    }

    static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }
}
