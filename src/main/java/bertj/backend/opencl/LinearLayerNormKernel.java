package bertj.backend.opencl;

import org.jocl.cl_kernel;
import org.jocl.cl_mem;

import java.util.HashMap;
import java.util.Map;

/**
 * Host side of linear_layernorm.cl: y = LayerNorm(x wᵀ + b + residual) in one launch, x [M, K], w [N, K], all half.
 * Reference op: {@link bertj.backend.reference.ReferenceBackend#linear} then #addLayerNorm; test: kernels-tests
 * LinearLayerNormKernelTest.
 *
 * <p>The tile spans whole rows: RX = 32 work-items across (fewer for N &lt; 32), each owning WN = ⌈N/RX⌉ columns
 * (9 for N = 288), RY = 8 down (fewer if the device's work-groups are smaller), each owning WM = 4 rows (2 when the
 * staged tiles would not fit local memory). Rows wider than {@link #MAX_WIDTH} are not fused (the encoder's
 * default, linear then add_layernorm, runs).
 */
final class LinearLayerNormKernel {
    static final int MAX_WIDTH = 1024;

    /** TM rows × TN ≥ N columns by (TN/WN) × (TM/WM) work-items, k staged TK at a time. */
    record Tiling(int tm, int tn, int tk, int wm, int wn) {
        int rx() {
            return tn / wn;
        }

        int ry() {
            return tm / wm;
        }

        long localBytes() {
            return 4L * (tk * (tm + 1) + tk * (tn + 1) + (long) tm * rx());
        }

        String options() {
            return "-D TM=" + tm + " -D TN=" + tn + " -D TK=" + tk + " -D WM=" + wm + " -D WN=" + wn;
        }

        @Override
        public String toString() {
            return tm + "x" + tn + "x" + tk + "/" + wm + "x" + wn;
        }
    }

    private final ClDevice dev;
    private final Map<String, cl_kernel> compiled = new HashMap<>();
    private final Map<String, Long> limits = new HashMap<>();

    LinearLayerNormKernel(ClDevice dev) {
        this.dev = dev;
    }

    /** The tiling for N columns with WM rows per work-item (or null: too wide, or does not fit the device). */
    Tiling tiling(int n, int wm) {
        if (n < 1 || n > MAX_WIDTH) return null;
        int rx = Math.min(32, Sizes.powerOfTwoAtLeast(n)), wn = LinearKernel.ceilDiv(n, rx);
        long[] items = dev.info.maxWorkItemSizes();
        if (rx > items[0] || rx > dev.info.maxWorkGroupSize()) return null;
        int ry = 8;
        while (ry > 1 && ((long) rx * ry > dev.info.maxWorkGroupSize() || ry > items[1])) ry /= 2;
        Tiling t = new Tiling(ry * wm, rx * wn, 16, wm, wn);
        return t.localBytes() <= dev.info.localMemBytes() ? t : null;
    }

    /** The tiling a call uses: 4 rows per work-item, else 2; null when the row cannot be fused here. */
    Tiling tiling(int n) {
        Tiling t = tiling(n, 4);
        return t != null ? t : tiling(n, 2);
    }

    void run(int m, int n, int k, cl_mem x, cl_mem w, cl_mem bias, cl_mem residual, cl_mem gamma, cl_mem beta, float eps, cl_mem y) {
        run(tiling(n), m, n, k, x, w, bias, residual, gamma, beta, eps, y);
    }

    void run(Tiling t, int m, int n, int k, cl_mem x, cl_mem w, cl_mem bias, cl_mem residual, cl_mem gamma, cl_mem beta,
             float eps, cl_mem y) {
        if (t == null || t.tn() < n) throw new IllegalArgumentException("no whole-row tiling for " + n + " columns");
        if (m == 0) return;
        cl_kernel kernel = compiled.get(t.options());
        if (kernel == null) {
            kernel = dev.kernel(dev.build(t.options(), "common.clh", "linear_layernorm.cl"), "linear_layernorm");
            compiled.put(t.options(), kernel);
            limits.put(t.options(), dev.maxWorkGroupSize(kernel));
        }
        if (limits.get(t.options()) < (long) t.rx() * t.ry()) {
            throw new bertj.backend.BackendException(dev.info.label() + ": the compiled linear + LayerNorm kernel allows work-groups of "
                    + limits.get(t.options()) + " but tile " + t + " needs " + t.rx() * t.ry());
        }
        long[] global = {t.rx(), (long) LinearKernel.ceilDiv(m, t.tm()) * t.ry()};
        dev.run("linear " + n + "x" + k + " + add_layernorm [" + t + "]", kernel, global, new long[] {t.rx(), t.ry()},
                m, n, k, x, w, bias, residual, gamma, beta, eps, y);
    }
}
