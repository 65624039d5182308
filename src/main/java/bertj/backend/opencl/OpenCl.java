package bertj.backend.opencl;

import bertj.backend.BackendException;
import org.jocl.CL;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_device_id;
import org.jocl.cl_platform_id;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.jocl.CL.*;

/**
 * Entry to OpenCL through JOCL: loads the native library once (with exceptions enabled, so that every failed
 * call throws), lists platforms and devices, and turns JOCL's failures into one-line {@link BackendException}s.
 *
 * <p>JOCL's native part opens the ICD loader by the name {@code libOpenCL.so} (not .so.1): on Debian that name
 * comes with {@code ocl-icd-opencl-dev}; elsewhere a directory holding a libOpenCL.so link on LD_LIBRARY_PATH does.
 */
public final class OpenCl {
    private OpenCl() {
    }

    private static String loadFailure; // null: loaded (or not tried yet)
    private static boolean loaded;

    /** Loads JOCL and the ICD loader, or throws a BackendException saying what to install. */
    static synchronized void load() {
        if (loaded) return;
        if (loadFailure != null) throw new BackendException(loadFailure);
        try {
            CL.setExceptionsEnabled(true);
            loaded = true;
        } catch (UnsatisfiedLinkError | ExceptionInInitializerError | NoClassDefFoundError e) {
            loadFailure = "cannot load OpenCL: " + firstLine(e) + " (JOCL opens libOpenCL.so: install an OpenCL ICD loader,"
                    + " e.g. Debian's ocl-icd-opencl-dev, or put a directory with libOpenCL.so on LD_LIBRARY_PATH)";
            throw new BackendException(loadFailure, e);
        }
    }

    private static String firstLine(Throwable e) {
        Throwable t = e;
        while (t.getMessage() == null && t.getCause() != null) t = t.getCause();
        String m = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
        int nl = m.indexOf('\n');
        return (nl >= 0 ? m.substring(0, nl) : m).trim();
    }

    /** A device together with the platform it belongs to. */
    record Found(cl_platform_id platform, cl_device_id device, DeviceInfo info) {
    }

    /** Every device of every platform, numbered as --device counts them. Throws when there is no platform. */
    public static List<DeviceInfo> devices() {
        List<DeviceInfo> out = new ArrayList<>();
        for (Found f : find()) out.add(f.info());
        return out;
    }

    /** The OpenCL platforms (drivers) of this machine; throws when there is none. */
    static cl_platform_id[] platforms() {
        load();
        cl_platform_id[] platforms;
        try {
            int[] n = new int[1];
            clGetPlatformIDs(0, null, n);
            platforms = new cl_platform_id[n[0]];
            if (n[0] > 0) clGetPlatformIDs(n[0], platforms, null);
        } catch (CLException e) {
            // ocl-icd answers CL_PLATFORM_NOT_FOUND_KHR when no vendor library (.icd file) could be loaded.
            throw noPlatform();
        }
        if (platforms.length == 0) throw noPlatform();
        warnIfSignalsUnchained(platforms);
        return platforms;
    }

    static List<Found> find() {
        cl_platform_id[] platforms = platforms();
        List<Found> out = new ArrayList<>();
        for (cl_platform_id p : platforms) {
            cl_device_id[] devs;
            try {
                int[] n = new int[1];
                clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, 0, null, n);
                devs = new cl_device_id[n[0]];
                clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, n[0], devs, null);
            } catch (CLException e) {
                continue; // CL_DEVICE_NOT_FOUND: a platform without devices is skipped, as clinfo does
            }
            for (cl_device_id d : devs) {
                out.add(new Found(p, d, describe(out.size(), p, d)));
            }
        }
        if (out.isEmpty()) {
            throw new BackendException("the OpenCL platforms on this machine have no devices (check the driver with 'clinfo')");
        }
        return out;
    }

    private static boolean warnedAboutSignals;

    /**
     * PoCL's CPU driver installs LLVM's crash handlers for SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGUSR2, SIGINT and
     * SIGTERM over the JVM's when its devices are first listed ({@code java -Xcheck:jni} then reports "SIGSEGV
     * handler modified!"; the ICD loader loads every installed driver, so an NVIDIA machine with PoCL installed
     * is affected too). This runs before that, when the platforms are known. The JVM raises SIGSEGV on purpose
     * (safepoint polls, implicit null checks); LLVM's handler is installed with SA_RESETHAND, so the first such
     * fault resets it and a second one in another thread before LLVM has put the JVM's back kills the process with
     * "Segmentation fault" and no hs_err report. The JDK's cure is signal chaining: {@code libjsig.so} preloaded
     * keeps the JVM's handlers first and calls the library's for faults that are not the JVM's. {@code ./bertj} and the tests preload it; a JVM started another way is told
     * here, once, on stderr.
     */
    private static synchronized void warnIfSignalsUnchained(cl_platform_id[] platforms) {
        if (warnedAboutSignals || signalsChained()) return;
        for (cl_platform_id p : platforms) {
            if (platformString(p, CL_PLATFORM_NAME).contains("Portable Computing Language")) {
                warnedAboutSignals = true;
                System.err.println("bertj: warning: PoCL replaces the JVM's signal handlers, which can end this JVM with a bare"
                        + " \"Segmentation fault\"; start java with LD_PRELOAD=" + Path.of(System.getProperty("java.home"), "lib", "libjsig.so")
                        + " (./bertj does)");
                return;
            }
        }
    }

    /**
     * Whether the JDK's signal-chaining library is loaded in this process (Linux: read from /proc/self/maps, once:
     * a preloaded library is there from the start or never); true where that cannot be read, as there is then
     * nothing to advise.
     */
    public static boolean signalsChained() {
        return SignalChaining.LOADED;
    }

    private static final class SignalChaining {
        static final boolean LOADED = read();

        private static boolean read() {
            Path maps = Path.of("/proc/self/maps");
            if (!Files.isReadable(maps)) return true;
            try (var lines = Files.lines(maps)) {
                return lines.anyMatch(l -> l.endsWith("/libjsig.so"));
            } catch (IOException | UncheckedIOException e) {
                return true;
            }
        }
    }

    /** The device numbered {@code index}, or a BackendException naming the devices there are. */
    static Found device(int index) {
        List<Found> all = find();
        if (index < 0 || index >= all.size()) {
            throw new BackendException("OpenCL device " + index + " does not exist: this machine has " + all.size()
                    + (all.size() == 1 ? " device (number 0)" : " devices (0.." + (all.size() - 1) + ")") + "; see 'bertj devices'");
        }
        return all.get(index);
    }

    private static BackendException noPlatform() {
        String vendors = System.getenv("OCL_ICD_VENDORS");
        return new BackendException("no OpenCL platform found: install an OpenCL driver (on the CPU: Debian's pocl-opencl-icd;"
                + " on NVIDIA GPUs the driver's libnvidia-opencl.so.1 with an .icd file in "
                + (vendors != null ? "OCL_ICD_VENDORS=" + vendors : "/etc/OpenCL/vendors") + ")");
    }

    private static DeviceInfo describe(int index, cl_platform_id p, cl_device_id d) {
        String ext = deviceString(d, CL_DEVICE_EXTENSIONS);
        long type = deviceLong(d, CL_DEVICE_TYPE, Sizeof.cl_ulong);
        String typeName = (type & CL_DEVICE_TYPE_GPU) != 0 ? "GPU" : (type & CL_DEVICE_TYPE_CPU) != 0 ? "CPU"
                : (type & CL_DEVICE_TYPE_ACCELERATOR) != 0 ? "ACCELERATOR" : "OTHER";
        int dims = (int) deviceLong(d, CL_DEVICE_MAX_WORK_ITEM_DIMENSIONS, Sizeof.cl_uint);
        long[] sizes = new long[dims];
        clGetDeviceInfo(d, CL_DEVICE_MAX_WORK_ITEM_SIZES, (long) Sizeof.size_t * dims, Pointer.to(sizes), null);
        return new DeviceInfo(index, platformString(p, CL_PLATFORM_NAME), platformString(p, CL_PLATFORM_VERSION),
                deviceString(d, CL_DEVICE_NAME), deviceString(d, CL_DEVICE_VENDOR), deviceString(d, CL_DEVICE_VERSION),
                deviceString(d, CL_DRIVER_VERSION), typeName,
                (int) deviceLong(d, CL_DEVICE_MAX_COMPUTE_UNITS, Sizeof.cl_uint),
                (int) deviceLong(d, CL_DEVICE_MAX_CLOCK_FREQUENCY, Sizeof.cl_uint),
                deviceLong(d, CL_DEVICE_GLOBAL_MEM_SIZE, Sizeof.cl_ulong),
                deviceLong(d, CL_DEVICE_MAX_MEM_ALLOC_SIZE, Sizeof.cl_ulong),
                deviceLong(d, CL_DEVICE_LOCAL_MEM_SIZE, Sizeof.cl_ulong),
                deviceLong(d, CL_DEVICE_MAX_WORK_GROUP_SIZE, Sizeof.size_t),
                sizes, hasExtension(ext, "cl_khr_fp16"), hasExtension(ext, "cl_khr_fp64"),
                hasExtension(ext, "cl_nv_device_attribute_query") ? computeCapability(d) : null);
    }

    // cl_nv_device_attribute_query (cl_ext.h): CL_DEVICE_COMPUTE_CAPABILITY_MAJOR_NV / _MINOR_NV, both cl_uint.
    private static final int CL_DEVICE_COMPUTE_CAPABILITY_MAJOR_NV = 0x4000, CL_DEVICE_COMPUTE_CAPABILITY_MINOR_NV = 0x4001;

    private static String computeCapability(cl_device_id d) {
        try {
            return deviceLong(d, CL_DEVICE_COMPUTE_CAPABILITY_MAJOR_NV, Sizeof.cl_uint) + "."
                    + deviceLong(d, CL_DEVICE_COMPUTE_CAPABILITY_MINOR_NV, Sizeof.cl_uint);
        } catch (CLException e) {
            return null; // the extension is named but the query fails: treat as not reported
        }
    }

    private static boolean hasExtension(String extensions, String name) {
        for (String e : extensions.trim().split("\\s+")) {
            if (e.equals(name)) return true;
        }
        return false;
    }

    /** A numeric device property of {@code bytes} width (cl_uint, cl_ulong or size_t), widened to long. */
    static long deviceLong(cl_device_id d, int param, int bytes) {
        if (bytes == Sizeof.cl_uint) {
            int[] v = new int[1];
            clGetDeviceInfo(d, param, bytes, Pointer.to(v), null);
            return Integer.toUnsignedLong(v[0]);
        }
        long[] v = new long[1];
        clGetDeviceInfo(d, param, bytes, Pointer.to(v), null);
        return v[0];
    }

    static String deviceString(cl_device_id d, int param) {
        long[] size = new long[1];
        clGetDeviceInfo(d, param, 0, null, size);
        byte[] b = new byte[(int) size[0]];
        clGetDeviceInfo(d, param, b.length, Pointer.to(b), null);
        return cString(b);
    }

    static String platformString(cl_platform_id p, int param) {
        long[] size = new long[1];
        clGetPlatformInfo(p, param, 0, null, size);
        byte[] b = new byte[(int) size[0]];
        clGetPlatformInfo(p, param, b.length, Pointer.to(b), null);
        return cString(b);
    }

    private static String cString(byte[] b) {
        int n = 0;
        while (n < b.length && b[n] != 0) n++;
        return new String(b, 0, n, StandardCharsets.UTF_8).trim();
    }
}
