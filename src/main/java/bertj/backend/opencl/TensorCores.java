package bertj.backend.opencl;

import bertj.backend.BackendException;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;
import org.jocl.cl_program;

/**
 * Decides whether the tensor-core kernels (tc_linear.cl, tc_attention.cl on tensor_core.clh) run on a device:
 * only NVIDIA devices that report compute capability 8.0 or later (cl_nv_device_attribute_query) are asked, and
 * only after tc_probe.cl, compiled with the real PTX, gives the one right answer on the device — every fragment
 * layout, shared address, lane number, shuffle and rounding the kernels rely on, checked bit for bit. Anything
 * else (another vendor, an older GPU, a compiler that rejects the PTX, a wrong answer) leaves the portable
 * kernels in charge and says why; {@link KernelChoice#TENSOR_CORE} turns that into a one-line error instead.
 */
public final class TensorCores {
    private TensorCores() {
    }

    /** What a backend runs: tensor-core kernels or not, with the PTX (true) or emulated, and why. */
    record Selection(boolean tensorCores, boolean asm, String reason, String ptx) {
        String kernels() {
            return !tensorCores ? "portable" : asm ? "tensor-core" : "tensor-core-emulated";
        }
    }

    /** What {@code bertj devices} prints per device: the kernels --kernels auto would run, why, the PTX header. */
    public record Report(String kernels, String reason, String ptx) {
    }

    public static Report report(int deviceIndex) {
        try (ClDevice dev = ClDevice.open(deviceIndex)) {
            Selection s = select(dev, KernelChoice.AUTO);
            return new Report(s.kernels(), s.reason(), s.ptx());
        }
    }

    static Selection select(ClDevice dev, KernelChoice choice) {
        switch (choice) {
            case PORTABLE:
                return new Selection(false, false, "--kernels portable", null);
            case EMULATED:
                return new Selection(true, false, "the tensor-core kernels with every PTX step emulated in portable OpenCL C"
                        + " (tests and diagnostics; slow)", null);
            default:
                break;
        }
        String cc = dev.info.computeCapability();
        String why = null, ptx = null;
        if (cc == null) {
            why = "not an NVIDIA GPU (the device does not report a compute capability through cl_nv_device_attribute_query)";
        } else if (dev.info.computeCapabilityMajor() < 8) {
            why = "compute capability " + cc + " (the tensor-core kernels need 8.0 or later for mma.sync m16n8k16)";
        } else if (dev.info.localMemBytes() < 32 << 10) {
            why = "only " + dev.info.localMemBytes() + " B of local memory (the tensor-core kernels need 32 KiB)";
        } else {
            try {
                Probe p = probe(dev, true, 0);
                ptx = p.ptx();
                if (p.mismatch() != null) why = "the tensor-core probe gave a wrong answer: " + p.mismatch();
            } catch (BackendException e) {
                why = "the tensor-core probe failed: " + e.getMessage();
            }
        }
        if (why == null) {
            return new Selection(true, true, "compute capability " + cc + ", probe passed (" + PROBE_CHECKS + " values match)", ptx);
        }
        if (choice == KernelChoice.TENSOR_CORE) {
            throw new BackendException(dev.info.label() + ": --kernels tensor-core cannot run here: " + why
                    + " (use --kernels auto or portable)");
        }
        return new Selection(false, false, why, ptx);
    }

    // ---- the probe (tc_probe.cl) ----------------------------------------------------------------------------

    private static final int IN = 16 * 16 + 8 * 16 + 16 * 8 + 8 * 8 + 16 * 8; // halves per warp (PROBE_IN)
    private static final int OFF_B = 256, OFF_A8 = 384, OFF_B8 = 512, OFF_V = 576;
    static final int PROBE_CHECKS = 2 * 3 * 128 + 64 * 2 + 64 * 2 + 64; // d, lanes, quad, packs

    /** The probe's outcome: the first value that differs from the known answer (null: all match), the PTX header. */
    record Probe(String mismatch, String ptx) {
    }

    /** Integers in [-4, 4] without short periods (a periodic pattern could hide a swapped fragment). */
    static double input(int warp, int i) {
        return (int) ((((i + 1) * 0x9E3779B97F4A7C15L + warp * 0xBF58476D1CE4E5B9L) >>> 59) % 9) - 4;
    }

    static double accumulator(int warp, int i) {
        return (int) ((((i + 7) * 0xD6E8FEB86659FD93L + warp * 0x94D049BB133111EBL) >>> 59) % 7) - 3;
    }

    /**
     * Builds tc_probe.cl (with the PTX when {@code asm}, else emulated; {@code fault} > 0 plants one of
     * tensor_core.clh's test faults), runs it and compares every output with the answer computed here.
     */
    static Probe probe(ClDevice dev, boolean asm, int fault) {
        cl_program program = dev.build("-D TC_ASM=" + (asm ? 1 : 0) + " -D TC_FAULT=" + fault,
                "common.clh", "tensor_core.clh", "tc_probe.cl");
        String ptx = asm ? dev.ptxHeader(program) : null;
        cl_kernel kernel = dev.kernel(program, "tc_probe");
        short[] in = new short[2 * IN];
        float[] c = new float[2 * 128];
        for (int w = 0; w < 2; w++) {
            for (int i = 0; i < IN; i++) in[w * IN + i] = Float.floatToFloat16((float) input(w, i));
            for (int i = 0; i < 128; i++) c[w * 128 + i] = (float) accumulator(w, i);
        }
        long[] sizes = {2L * in.length, 4L * c.length, 4L * 2 * 3 * 128, 4L * 128, 4L * 128, 4L * 64};
        cl_mem[] m = new cl_mem[sizes.length];
        try {
            for (int i = 0; i < sizes.length; i++) m[i] = dev.alloc(sizes[i], "the tensor-core probe's buffers");
            dev.write(m[0], in, "the probe's input");
            dev.write(m[1], c, "the probe's input");
            dev.run("tc_probe", kernel, new long[] {64}, new long[] {64}, m[0], m[1], m[2], m[3], m[4], m[5]);
            float[] d = dev.readFloats(m[2], 2 * 3 * 128, "the probe's output");
            int[] lanes = dev.readInts(m[3], 128, "the probe's output");
            float[] quad = dev.readFloats(m[4], 128, "the probe's output");
            int[] packs = dev.readInts(m[5], 64, "the probe's output");
            return new Probe(compare(d, lanes, quad, packs), ptx);
        } finally {
            for (int i = 0; i < m.length; i++) if (m[i] != null) dev.free(m[i], sizes[i]);
        }
    }

    private static String compare(float[] d, int[] lanes, float[] quad, int[] packs) {
        String[] what = {"mma m16n8k16 (ldmatrix x4, x2)", "mma m16n8k8 (ldmatrix x2, x1)", "mma m16n8k16 (ldmatrix x2.trans)"};
        for (int w = 0; w < 2; w++) {
            for (int m = 0; m < 3; m++) {
                for (int r = 0; r < 16; r++) {
                    for (int col = 0; col < 8; col++) {
                        double want = accumulator(w, r * 8 + col);
                        for (int k = 0; k < (m == 1 ? 8 : 16); k++) {
                            double a = m == 1 ? input(w, OFF_A8 + r * 8 + k) : input(w, r * 16 + k);
                            double b = m == 0 ? input(w, OFF_B + col * 16 + k) : m == 1 ? input(w, OFF_B8 + col * 8 + k)
                                    : input(w, OFF_V + k * 8 + col);
                            want += a * b;
                        }
                        float got = d[(w * 3 + m) * 128 + r * 8 + col];
                        if (got != (float) want) {
                            return String.format("%s of warp %d, D[%d][%d] = %s, expected %s", what[m], w, r, col, got, (float) want);
                        }
                    }
                }
            }
        }
        for (int lid = 0; lid < 64; lid++) {
            if (lanes[2 * lid] != lid % 32 || lanes[2 * lid + 1] != lid % 32) {
                return "work-item " + lid + " has lane " + lanes[2 * lid] + " (%laneid), expected " + lid % 32
                        + " (warps must be consecutive local ids)";
            }
            int q = lid & ~3;
            float max = Float.NEGATIVE_INFINITY, sum = 0;
            for (int i = q; i < q + 4; i++) {
                float x = ((i * 7) % 13) - 6;
                max = Math.max(max, x);
                sum += x;
            }
            if (quad[2 * lid] != max || quad[2 * lid + 1] != sum) {
                return "shuffles: work-item " + lid + " got max " + quad[2 * lid] + ", sum " + quad[2 * lid + 1]
                        + " over its quad, expected " + max + ", " + sum;
            }
            int want = (Float.floatToFloat16(0.5f * lid - 3.0f) & 0xFFFF) | (Float.floatToFloat16(1.0f + lid * 0x1p-13f) << 16);
            if (packs[lid] != want) {
                return String.format("cvt.rn.f16x2.f32: work-item %d got 0x%08x, expected 0x%08x", lid, packs[lid], want);
            }
        }
        return null;
    }
}
