package bertj.backend.opencl;

import bertj.backend.BackendException;
import bertj.testing.PyTorch;
import org.jocl.cl_mem;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * What every kernel test shares: the device (opened once; a machine without an OpenCL platform FAILS the suite,
 * it is never skipped), fp16 random inputs, poisoned output buffers with a guard zone, and the element-wise check
 * against the float64 reference.
 *
 * <p>Inputs are drawn in double, rounded to half, and the reference computes in float64 on exactly those half
 * values, so a kernel's error is only its float arithmetic plus the final rounding to half. Output buffers are
 * filled with the bit pattern 0xFFFF (a NaN in half; 0xFFFFFFFF in float) before the kernel runs and hold
 * {@link #GUARD} extra elements past the end: a NaN left in the output means an element was never written, a
 * guard element that changed means a write out of bounds.
 */
final class KernelTesting {
    private KernelTesting() {
    }

    static final int GUARD = 64;
    static final short POISON = (short) 0xFFFF;
    /** 2^-11 (the largest relative error of rounding to half) with a little room for the float result's own error. */
    static final double HALF_ROUNDING = 4.9e-4;

    private static ClDevice device;

    static synchronized ClDevice device() {
        if (device == null) {
            int index = Integer.getInteger("bertj.opencl.device", 0);
            try {
                device = ClDevice.open(index);
            } catch (BackendException e) {
                fail("the kernel tests need an OpenCL device and could not open one: " + e.getMessage()
                        + " (on Debian: apt-get install pocl-opencl-icd ocl-icd-opencl-dev)");
            }
            DeviceInfo d = device.info;
            System.out.printf("[opencl] kernels-tests on %s: %d compute units, max work-group %d, local memory %d B, fp16 %s%n",
                    d.label(), d.computeUnits(), d.maxWorkGroupSize(), d.localMemBytes(), d.fp16() ? "yes" : "no");
        }
        return device;
    }

    private static Boolean tensorCoreAsm;

    /**
     * Whether the tensor-core kernels run with their PTX (true) or with every PTX step emulated (false):
     * -Dbertj.tc.mode=asm or emulated, else the PTX exactly where {@link TensorCores} accepts the device (an NVIDIA
     * GPU whose probe passed), emulated everywhere else (PoCL in CI).
     */
    static synchronized boolean tensorCoreAsm() {
        if (tensorCoreAsm == null) {
            String mode = System.getProperty("bertj.tc.mode", "auto");
            TensorCores.Selection auto = TensorCores.select(device(), KernelChoice.AUTO);
            tensorCoreAsm = switch (mode) {
                case "asm" -> {
                    if (!auto.tensorCores()) fail("-Dbertj.tc.mode=asm, but the tensor-core kernels cannot run here: " + auto.reason());
                    yield true;
                }
                case "emulated" -> false;
                case "auto" -> auto.tensorCores();
                default -> throw new IllegalArgumentException("-Dbertj.tc.mode must be auto, asm or emulated, not " + mode);
            };
            System.out.printf("[opencl] tensor-core kernels run %s (--kernels auto here: %s, %s)%n",
                    tensorCoreAsm ? "with their PTX" : "emulated (every PTX step in portable OpenCL C)", auto.kernels(), auto.reason());
        }
        return tensorCoreAsm;
    }

    static Random random(String what) {
        return new Random(PyTorch.seed(what));
    }

    /** n normal values of standard deviation std (plus mean), each rounded to half. */
    static double[] halves(Random r, int n, double mean, double std) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = Half.round(mean + std * r.nextGaussian());
        return v;
    }

    static float[] floats(double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) f[i] = (float) v[i];
        return f;
    }

    /** Device buffers of one test case, released by {@link #close}. */
    static final class Buffers implements AutoCloseable {
        private final ClDevice dev = device();
        private final List<cl_mem> mems = new ArrayList<>();
        private final List<Long> sizes = new ArrayList<>();

        cl_mem halves(double[] values) {
            cl_mem m = dev.alloc(2L * Math.max(values.length, 1), "a test input");
            if (values.length > 0) dev.write(m, Half.of(values), "a test input");
            return keep(m, 2L * Math.max(values.length, 1));
        }

        cl_mem ints(int[] values) {
            cl_mem m = dev.alloc(4L * Math.max(values.length, 1), "a test input");
            if (values.length > 0) dev.write(m, values, "a test input");
            return keep(m, 4L * Math.max(values.length, 1));
        }

        /** An output of {@code count} elements of {@code bytes} each, plus the guard, all poisoned. */
        Output output(int count, int bytes) {
            long size = (long) (count + GUARD) * bytes;
            cl_mem m = keep(dev.alloc(size, "a test output"), size);
            dev.fill(m, size, POISON);
            return new Output(m, count, bytes == 4);
        }

        private cl_mem keep(cl_mem m, long bytes) {
            mems.add(m);
            sizes.add(bytes);
            return m;
        }

        /** Reads a poisoned output back, failing if any guard element changed. */
        double[] read(Output o, String what) {
            double[] all;
            if (o.isFloat()) {
                float[] f = dev.readFloats(o.mem(), o.count() + GUARD, what);
                all = new double[f.length];
                for (int i = 0; i < f.length; i++) {
                    all[i] = f[i];
                    if (i >= o.count() && Float.floatToRawIntBits(f[i]) != 0xFFFFFFFF) {
                        fail(what + ": element " + i + " past the end of the output (" + o.count() + ") was overwritten");
                    }
                }
            } else {
                short[] h = dev.readHalves(o.mem(), o.count() + GUARD, what);
                for (int i = o.count(); i < h.length; i++) {
                    if (h[i] != POISON) fail(what + ": element " + i + " past the end of the output (" + o.count() + ") was overwritten");
                }
                all = Half.toDoubles(h);
            }
            return java.util.Arrays.copyOf(all, o.count());
        }

        @Override
        public void close() {
            for (int i = 0; i < mems.size(); i++) dev.free(mems.get(i), sizes.get(i));
            mems.clear();
            sizes.clear();
        }
    }

    record Output(cl_mem mem, int count, boolean isFloat) {
    }

    /** Half the spacing of half's subnormals (2^-25): rounding a result below 2^-14 may err by this much. */
    static final double HALF_SUBNORMAL = 0x1p-25;

    /**
     * Asserts |got − want| ≤ rel·|want| + abs[i] + 2^-25 for every element (NaN: never written) and prints one
     * line with the largest error, the largest error / allowance and the relative L2 error.
     */
    private static long lastCheck;

    static void check(String what, double[] got, double[] want, double rel, double[] abs) {
        double worst = worst(what, got, want, rel, abs, true);
        if (worst > 1) fail(what + ": worst error / allowed " + worst);
    }

    /**
     * Negative control: asserts that {@code wrong} — what a known wrong variant of the op computes (the other GELU
     * form, the mask dropped) — breaks the same element-wise tolerance that the kernel's result meets, i.e. that
     * the tolerance is tight enough to tell the kernel from that variant.
     */
    static void checkFails(String what, double[] got, double[] wrong, double rel, double[] abs) {
        double worst = worst(what + " [against a wrong variant]", got, wrong, rel, abs, false);
        if (!(worst > 1)) fail(what + ": the kernel's result is within the tolerance of a wrong variant too (worst error / allowed " + worst + ")");
    }

    /** The largest |got − want| / (rel·|want| + abs + 2^-25), printed; with {@code strict}, fails at the first bad element. */
    static double worst(String what, double[] got, double[] want, double rel, double[] abs, boolean strict) {
        assertEquals(want.length, got.length, what + ": length");
        double maxErr = 0, worst = 0, d2 = 0, w2 = 0;
        int worstAt = -1;
        for (int i = 0; i < want.length; i++) {
            if (Double.isNaN(got[i])) {
                fail(what + ": element " + i + " of " + want.length + " was not written (still the NaN poison)");
            }
            double err = Math.abs(got[i] - want[i]);
            double allowed = rel * Math.abs(want[i]) + abs[i] + HALF_SUBNORMAL;
            maxErr = Math.max(maxErr, err);
            if (err / allowed > worst) {
                worst = err / allowed;
                worstAt = i;
            }
            d2 += err * err;
            w2 += want[i] * want[i];
        }
        double relL2 = Math.sqrt(d2) / Math.max(Math.sqrt(w2), Double.MIN_NORMAL);
        long now = System.nanoTime();
        System.out.printf("[kernel] %-60s max|err| %.2e  rel-L2 %.2e  worst err/allowed %.3f%s [%.1f s since the last check]%n", what, maxErr,
                relL2, worst, worstAt < 0 ? "" : String.format(" (want %.6g, got %.6g)", want[worstAt], got[worstAt]),
                lastCheck == 0 ? 0 : (now - lastCheck) / 1e9);
        lastCheck = now;
        if (strict && worst > 1) {
            fail(String.format("%s: element %d is %.9g, expected %.9g (error %.3e > allowed %.3e = %.2e·|want| + %.2e + 2^-25)", what, worstAt,
                    got[worstAt], want[worstAt], Math.abs(got[worstAt] - want[worstAt]), rel * Math.abs(want[worstAt]) + abs[worstAt] + HALF_SUBNORMAL,
                    rel, abs[worstAt]));
        }
        return worst;
    }

    static double[] constant(int n, double v) {
        double[] a = new double[n];
        java.util.Arrays.fill(a, v);
        return a;
    }
}
