package bertj.backend.opencl;

import bertj.backend.Backend.Epilogue;
import bertj.backend.BackendException;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Host side of tc_linear.cl, the tensor-core variant of linear.cl and linear_layernorm.cl: y = act(x wᵀ + b) and
 * y = LayerNorm(x wᵀ + b + residual), x [M, K], w [N, K], all half. Reference op:
 * {@link bertj.backend.reference.ReferenceBackend#linear} (then #addLayerNorm); test: kernels-tests
 * TensorCoreLinearKernelTest.
 *
 * <p>Tiles: {@link #LINEAR} lists the BM × BN tiles of the plain products, largest first (each warp 32 × 48
 * or 16 × 32 outputs; BN = 96 divides the model's 288, 864 and 1152); a call takes the largest that still
 * gives every compute unit a work-group, else the smallest. The LayerNorm epilogue needs whole rows: BN = N
 * rounded up to 32, four warps across it, 16 or 32 rows ({@link #layerNormConfig}), k staged 16 at a time so
 * that two buffers of a 288-wide tile fit 32 KiB. -Dbertj.tc.linearTile=BMxBNxBK/WMxWN forces one tile for
 * the plain products (for tuning on a GPU). Each (tile, epilogue, alignment) is compiled once, on first use.
 */
final class TcLinearKernel {

    /** A BM × BN tile computed by warpsM × warpsN warps, k staged BK at a time. */
    record Config(int bm, int bn, int bk, int warpsM, int warpsN) {
        Config {
            if (bm % (16 * warpsM) != 0 || bn % (8 * warpsN) != 0 || (bk != 16 && bk != 32)) {
                throw new IllegalArgumentException("tensor-core tile " + bm + "x" + bn + "x" + bk + "/" + warpsM + "x" + warpsN
                        + " is not made of 16x8 fragments per warp with k steps of 16 or 32");
            }
        }

        int threads() {
            return 32 * warpsM * warpsN;
        }

        long localBytes(boolean layerNorm, boolean emulated) {
            return 4L * 2 * (bm + bn) * (bk / 2 + 4) + (layerNorm ? 4L * bm * warpsN : 0)
                    + (emulated ? 4L * 256 * warpsM * warpsN : 0);
        }

        static Config parse(String s) {
            String[] p = s.split("[x/]");
            if (p.length != 5) throw new IllegalArgumentException("tensor-core tile '" + s + "' is not BMxBNxBK/WMxWN");
            return new Config(Integer.parseInt(p[0]), Integer.parseInt(p[1]), Integer.parseInt(p[2]), Integer.parseInt(p[3]), Integer.parseInt(p[4]));
        }

        @Override
        public String toString() {
            return bm + "x" + bn + "x" + bk + "/" + warpsM + "x" + warpsN;
        }
    }

    static final List<Config> LINEAR = List.of(new Config(128, 96, 32, 4, 2), new Config(64, 96, 32, 2, 2), new Config(32, 64, 32, 2, 2));
    /** The widest row the LayerNorm epilogue takes in registers (16 fragments of 8 per warp). */
    static final int MAX_LAYER_NORM_WIDTH = 512;

    private final ClDevice dev;
    private final boolean asm;
    private final int fault;
    private final Config forced;
    private final Map<String, cl_kernel> compiled = new HashMap<>();

    TcLinearKernel(ClDevice dev, boolean asm) {
        this(dev, asm, 0);
    }

    /** {@code fault} > 0 plants one of tensor_core.clh's test faults (kernels-tests' negative controls). */
    TcLinearKernel(ClDevice dev, boolean asm, int fault) {
        this.dev = dev;
        this.asm = asm;
        this.fault = fault;
        String f = System.getProperty("bertj.tc.linearTile");
        this.forced = f == null || f.isBlank() ? null : Config.parse(f.trim());
    }

    /** The tile a plain product of these sizes uses. */
    Config choose(int m, int n) {
        if (forced != null) return forced;
        for (Config c : LINEAR) {
            long groups = (long) ceilDiv(m, c.bm()) * ceilDiv(n, c.bn());
            if (groups >= dev.info.computeUnits() && c.localBytes(false, !asm) <= dev.info.localMemBytes()) return c;
        }
        return LINEAR.get(LINEAR.size() - 1);
    }

    /** The whole-row tile of the LayerNorm epilogue for N columns, or null when N is too wide or it does not fit. */
    Config layerNormConfig(int m, int n) {
        if (n > MAX_LAYER_NORM_WIDTH) return null;
        int bn = ceilDiv(n, 32) * 32;
        Config big = new Config(32, bn, 16, 2, 4), small = new Config(16, bn, 16, 1, 4);
        Config c = (long) ceilDiv(m, 32) >= dev.info.computeUnits() ? big : small;
        if (c.localBytes(true, !asm) > dev.info.localMemBytes()) c = small;
        return c.localBytes(true, !asm) <= dev.info.localMemBytes() ? c : null;
    }

    void run(int m, int n, int k, cl_mem x, cl_mem w, cl_mem bias, cl_mem y, Epilogue epilogue) {
        run(choose(m, n), m, n, k, x, w, bias, y, epilogue);
    }

    void run(Config c, int m, int n, int k, cl_mem x, cl_mem w, cl_mem bias, cl_mem y, Epilogue epilogue) {
        int code = switch (epilogue) {
            case NONE -> 0;
            case GELU_ERF -> 1;
            case GELU_TANH -> 2;
        };
        launch(c, code, m, n, k, x, w, bias, bias, bias, bias, 0f, y,
                "tc_linear " + n + "x" + k + (code == 0 ? "" : " " + epilogue.name().toLowerCase()));
    }

    /** y = LayerNorm(x wᵀ + b + residual) with the given whole-row tile ({@link #layerNormConfig}). */
    void runAddLayerNorm(Config c, int m, int n, int k, cl_mem x, cl_mem w, cl_mem bias, cl_mem residual, cl_mem gamma,
                         cl_mem beta, float eps, cl_mem y) {
        if (c.bn() < n) throw new IllegalArgumentException("the LayerNorm epilogue needs the whole row of " + n + " in one tile, not " + c.bn());
        launch(c, 3, m, n, k, x, w, bias, residual, gamma, beta, eps, y, "tc_linear " + n + "x" + k + " + add_layernorm");
    }

    private void launch(Config c, int epilogue, int m, int n, int k, cl_mem x, cl_mem w, cl_mem bias, cl_mem residual,
                        cl_mem gamma, cl_mem beta, float eps, cl_mem y, String name) {
        if (m == 0 || n == 0) return;
        boolean aligned = k % 8 == 0;
        cl_kernel kernel = kernel(c, epilogue, aligned);
        long groups = (long) ceilDiv(m, c.bm()) * ceilDiv(n, c.bn());
        dev.run(name + " [" + c + "]", kernel, new long[] {groups * c.threads()}, new long[] {c.threads()},
                m, n, k, x, w, bias, residual, gamma, beta, eps, y);
    }

    private cl_kernel kernel(Config c, int epilogue, boolean aligned) {
        String options = "-D TC_ASM=" + (asm ? 1 : 0) + " -D TC_FAULT=" + fault + " -D BM=" + c.bm() + " -D BN=" + c.bn() + " -D BK=" + c.bk()
                + " -D WARPS_M=" + c.warpsM() + " -D WARPS_N=" + c.warpsN() + " -D EPILOGUE=" + epilogue + " -D ALIGNED=" + (aligned ? 1 : 0);
        cl_kernel k = compiled.get(options);
        if (k == null) {
            if (c.localBytes(epilogue == 3, !asm) > dev.info.localMemBytes()) {
                throw new BackendException(dev.info.label() + ": tensor-core tile " + c + " needs " + c.localBytes(epilogue == 3, !asm)
                        + " B of local memory, the device has " + dev.info.localMemBytes());
            }
            k = dev.kernel(dev.build(options, "common.clh", "tensor_core.clh", "tc_linear.cl"), "tc_linear");
            long max = dev.maxWorkGroupSize(k);
            if (max < c.threads()) {
                throw new BackendException(dev.info.label() + ": the compiled tensor-core matrix multiply allows work-groups of "
                        + max + " but tile " + c + " needs " + c.threads());
            }
            compiled.put(options, k);
        }
        return k;
    }

    static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }
}
