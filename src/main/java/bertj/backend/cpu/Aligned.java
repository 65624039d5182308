package bertj.backend.cpu;

import com.sun.management.HotSpotDiagnosticMXBean;

import java.lang.management.ManagementFactory;

/**
 * Float arrays whose element {@link #SKEW} starts a 64-byte cache line, so that the 512-bit loads of a packed weight
 * panel (and of attention's score blocks) each read one line instead of straddling two. Measured on one core of a
 * 2-core Intel Xeon with AVX-512 ({@code AlignmentProbe}, docs/performance.md): 4L-288D's products take 1.09–1.10×
 * as long with their panels 16 bytes off a line, attention 1.05×.
 *
 * <p>Java does not say where an array lies, but HotSpot's G1 collector places an array larger than half a heap
 * region ("humongous") at the start of a region of its own (regions are 1 MiB or more, aligned to their size)
 * and keeps it at a region start; element i then lies base + 4·i bytes past that boundary, base being the array
 * header (16 bytes, 12 with compact object headers). {@link #floats} therefore allocates at least that much.
 * What this assumes is read from the JVM's flags once (G1 in use, its region size, the header layout); where any of
 * it is unknown or differs (another collector, another JVM), arrays are allocated as they were and {@link #SKEW} is
 * 0. Only speed depends on any of this: the same arithmetic runs on the same values wherever they lie.
 * {@code -Dbertj.cpu.align=false} turns it off, for A/B runs.
 */
final class Aligned {
    /** Floats per 64-byte line. */
    static final int LINE = 16;
    /** Index of the first element on a line boundary in an array from {@link #floats}; 0 when alignment is off. */
    static final int SKEW;
    /** Bytes per G1 heap region; 0 when alignment is off. */
    private static final long REGION;
    /** Bytes of a float array's header. */
    private static final int BASE;

    static {
        int base = 0;
        long region = 0;
        if (!"false".equals(System.getProperty("bertj.cpu.align"))) {
            try {
                HotSpotDiagnosticMXBean hs = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
                if (hs != null && flag(hs, "UseG1GC")) {
                    base = flag(hs, "UseCompactObjectHeaders") ? 12 : flag(hs, "UseCompressedClassPointers") ? 16 : 0;
                    region = Long.parseLong(hs.getVMOption("G1HeapRegionSize").getValue());
                }
            } catch (RuntimeException | LinkageError e) {
                base = 0; // not HotSpot, or no jdk.management: alignment stays off
            }
        }
        boolean on = base > 0 && region >= 1 << 20 && region <= 1L << 30;
        BASE = on ? base : 0;
        REGION = on ? region : 0;
        SKEW = on ? (64 - base) % 64 / 4 : 0;
    }

    private Aligned() {
    }

    private static boolean flag(HotSpotDiagnosticMXBean hs, String name) {
        try {
            return Boolean.parseBoolean(hs.getVMOption(name).getValue());
        } catch (IllegalArgumentException e) {
            return false; // a flag this JVM does not have (UseCompactObjectHeaders before JDK 24)
        }
    }

    /** Whether arrays from {@link #floats} have {@link #SKEW} on a line boundary. */
    static boolean on() {
        return REGION > 0;
    }

    /**
     * A zeroed array of at least {@code n} floats past {@link #SKEW}: when alignment is on, enough to be humongous,
     * rounded up to fill its last region (the rest of a humongous object's last region is never used for anything
     * else), so element {@link #SKEW} starts a line.
     */
    static float[] floats(int n) {
        if (REGION == 0) return new float[n];
        long bytes = BASE + 4L * (n + SKEW);
        long regions = Math.max(1, (bytes + REGION - 1) / REGION);
        long len = (regions * REGION - BASE) / 4;
        if (len > Integer.MAX_VALUE - 8) return new float[n + SKEW];
        return new float[(int) len];
    }

    /** {@code array} from index {@code at}: a slot of a {@link Store}. */
    record Slot(float[] array, int at) {
    }

    /**
     * Slots of line-aligned floats in a few arrays from {@link #floats} (each a whole heap region or more where
     * alignment is on; one per slot where it is off), each slot in the first array with room for it, so that small
     * matrices fill the gaps large ones leave. Safe for concurrent callers.
     */
    static final class Store {
        private final java.util.List<float[]> arrays = new java.util.ArrayList<>();
        private final java.util.List<int[]> used = new java.util.ArrayList<>();

        /** A zeroed slot of {@code n} floats starting on a line boundary (where alignment is on). */
        synchronized Slot take(int n) {
            for (int i = 0; i < arrays.size(); i++) {
                int[] u = used.get(i);
                if (u[0] + (long) n <= arrays.get(i).length) {
                    int at = u[0];
                    u[0] += lines(n);
                    return new Slot(arrays.get(i), at);
                }
            }
            float[] a = floats(n);
            arrays.add(a);
            used.add(new int[] {SKEW + lines(n)});
            return new Slot(a, SKEW);
        }
    }

    /** n rounded up to whole lines. */
    static int lines(int n) {
        return (n + LINE - 1) / LINE * LINE;
    }
}
