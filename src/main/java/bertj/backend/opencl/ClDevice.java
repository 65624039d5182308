package bertj.backend.opencl;

import bertj.backend.BackendException;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_command_queue;
import org.jocl.cl_context;
import org.jocl.cl_context_properties;
import org.jocl.cl_device_id;
import org.jocl.cl_event;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;
import org.jocl.cl_program;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.jocl.CL.*;

/**
 * One OpenCL device with its context and one in-order command queue. Every call goes through here so that a
 * failure becomes a one-line {@link BackendException} naming the device and the operation.
 *
 * <p>Synchronisation: kernels and writes are only enqueued; the queue is in order, so each command sees the
 * results of the ones before it. The host waits only in {@link #readHalves} / {@link #readFloats} (blocking
 * reads) and {@link #await}.
 *
 * <p>Launch sites: between {@link #beginPass} and {@link #endPass} the n-th launch of a pass runs on a
 * cl_kernel of its own (a second clCreateKernel of the same program), which keeps the arguments it was given
 * last; a launch sets only the arguments that differ. A pass of the same shape as the one before, whose
 * buffers the pool hands out again in the same order, so sets no argument at all: one clEnqueueNDRangeKernel
 * per launch. -Dbertj.opencl.reuseArgs=false sets every argument on every launch (for measuring the
 * difference: {@link #launchStats}).
 */
final class ClDevice implements AutoCloseable {
    private boolean closed;

    final DeviceInfo info;
    final cl_device_id device;
    private final cl_context context;
    private final cl_command_queue queue;
    private final List<cl_program> programs = new ArrayList<>();
    private final List<cl_kernel> kernels = new ArrayList<>();
    private long allocated; // bytes in live buffers, for error messages

    static final boolean REUSE_ARGS = !"false".equals(System.getProperty("bertj.opencl.reuseArgs"));
    private record Source(cl_program program, String name) {
    }
    private record SiteKey(int index, cl_kernel base) {
    }
    /** A launch site's own kernel object and the arguments it holds. */
    private static final class Site {
        final cl_kernel kernel;
        Object[] args = new Object[0];

        Site(cl_kernel kernel) {
            this.kernel = kernel;
        }
    }
    private final java.util.Map<cl_kernel, Source> sources = new java.util.IdentityHashMap<>();
    private final java.util.Map<SiteKey, Site> sites = new java.util.HashMap<>();
    private boolean inPass;
    private int siteIndex;
    private long launches, launchNanos, argsSet; // host-side cost of launches (launchStats)

    private ClDevice(OpenCl.Found found) {
        this.info = found.info();
        this.device = found.device();
        try {
            cl_context_properties props = new cl_context_properties();
            props.addProperty(CL_CONTEXT_PLATFORM, found.platform());
            context = clCreateContext(props, 1, new cl_device_id[] {device}, null, null, null);
            queue = createQueue(context, device);
        } catch (CLException e) {
            throw fail("creating a context", e);
        }
    }

    @SuppressWarnings("deprecation") // clCreateCommandQueue is the OpenCL 1.2 call, which every driver still offers
    private static cl_command_queue createQueue(cl_context context, cl_device_id device) {
        return clCreateCommandQueue(context, device, PROFILE ? CL_QUEUE_PROFILING_ENABLE : 0, null);
    }

    /**
     * BERTJ_OPENCL_PROFILE=1 (or -Dbertj.opencl.profile=true): time every kernel with OpenCL's profiling events
     * and print the totals per kernel and shape to stderr when the device is closed. For finding what to tune
     * on a GPU; it adds an event per launch, so leave it off when timing.
     */
    static final boolean PROFILE = !System.getenv().getOrDefault("BERTJ_OPENCL_PROFILE", "").isEmpty()
            || Boolean.getBoolean("bertj.opencl.profile");
    private final List<cl_event> pendingEvents = new ArrayList<>();
    private final List<String> pendingNames = new ArrayList<>();
    private final java.util.Map<String, long[]> profile = new java.util.TreeMap<>(); // name -> {launches, nanoseconds}

    /** Adds the finished kernels' times to the profile (called once the queue has drained). */
    private void harvest() {
        for (int i = 0; i < pendingEvents.size(); i++) {
            long[] start = new long[1], end = new long[1];
            clGetEventProfilingInfo(pendingEvents.get(i), CL_PROFILING_COMMAND_START, Sizeof.cl_ulong, Pointer.to(start), null);
            clGetEventProfilingInfo(pendingEvents.get(i), CL_PROFILING_COMMAND_END, Sizeof.cl_ulong, Pointer.to(end), null);
            long[] t = profile.computeIfAbsent(pendingNames.get(i), k -> new long[2]);
            t[0]++;
            t[1] += end[0] - start[0];
            clReleaseEvent(pendingEvents.get(i));
        }
        pendingEvents.clear();
        pendingNames.clear();
    }

    private void printProfile() {
        long total = 0, builds = 0;
        for (var e : profile.entrySet()) {
            if (e.getKey().startsWith("(build)")) builds += e.getValue()[1];
            else total += e.getValue()[1];
        }
        if (total == 0 && builds == 0) return;
        System.err.printf("bertj opencl profile, %s: %.1f ms in kernels, %.1f ms compiling%n", info.label(), total / 1e6, builds / 1e6);
        System.err.printf("  %-52s %8s %11s %10s %6s%n", "kernel", "launches", "total ms", "mean us", "share");
        for (var e : profile.entrySet()) {
            long[] t = e.getValue();
            boolean build = e.getKey().startsWith("(build)");
            System.err.printf("  %-52s %8d %11.2f %10.1f %5s%n", e.getKey(), t[0], t[1] / 1e6, t[1] / 1e3 / t[0],
                    build ? "" : String.format("%.1f%%", 100.0 * t[1] / total));
        }
    }

    /** Opens device {@code index} as numbered by {@link OpenCl#devices()}. */
    static ClDevice open(int index) {
        return new ClDevice(OpenCl.device(index));
    }

    /** A failure as a user-facing sentence: "OpenCL device 0 (…): running kernel linear failed: CL_OUT_OF_RESOURCES …". */
    BackendException fail(String operation, CLException e) {
        String hint = switch (e.getStatus()) {
            case CL_OUT_OF_RESOURCES, CL_MEM_OBJECT_ALLOCATION_FAILURE, CL_OUT_OF_HOST_MEMORY, CL_INVALID_BUFFER_SIZE ->
                    " (the device ran out of memory with " + (allocated >> 20) + " MiB in buffers; try a smaller batch or sequence)";
            default -> "";
        };
        return new BackendException(info.label() + ": " + operation + " failed: " + e.getMessage() + hint, e);
    }

    /** Reads kernel sources from the classpath (src/main/resources/bertj/kernels/). */
    static String source(String file) {
        try (InputStream in = ClDevice.class.getResourceAsStream("/bertj/kernels/" + file)) {
            if (in == null) throw new IllegalStateException("kernel source bertj/kernels/" + file + " is missing from the jar");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Compiles the concatenation of {@code files} with {@code options} (-D defines). A compiler error becomes a
     * BackendException quoting the first error line of the build log.
     */
    cl_program build(String options, String... files) {
        String[] sources = new String[files.length];
        for (int i = 0; i < files.length; i++) sources[i] = source(files[i]);
        String what = "compiling " + String.join(" + ", files) + (options.isEmpty() ? "" : " with " + options);
        cl_program program;
        try {
            program = clCreateProgramWithSource(context, sources.length, sources, null, null);
        } catch (CLException e) {
            throw fail(what, e);
        }
        long t0 = System.nanoTime();
        try {
            clBuildProgram(program, 1, new cl_device_id[] {device}, options, null, null);
            if (PROFILE) {
                long[] t = profile.computeIfAbsent("(build) " + String.join(" + ", files) + " " + options, k -> new long[2]);
                t[0]++;
                t[1] += System.nanoTime() - t0;
            }
        } catch (CLException e) {
            String log = buildLog(program);
            clReleaseProgram(program);
            String first = log.lines().filter(l -> l.contains("error")).findFirst().orElse(log.lines().findFirst().orElse("")).trim();
            throw new BackendException(info.label() + ": " + what + " failed: " + e.getMessage()
                    + (first.isEmpty() ? "" : ": " + first), e);
        }
        programs.add(program);
        return program;
    }

    private String buildLog(cl_program program) {
        try {
            long[] size = new long[1];
            clGetProgramBuildInfo(program, device, CL_PROGRAM_BUILD_LOG, 0, null, size);
            byte[] b = new byte[(int) size[0]];
            clGetProgramBuildInfo(program, device, CL_PROGRAM_BUILD_LOG, b.length, Pointer.to(b), null);
            int n = 0;
            while (n < b.length && b[n] != 0) n++;
            return new String(b, 0, n, StandardCharsets.UTF_8);
        } catch (CLException e) {
            return "";
        }
    }

    /** A kernel of {@code program}; within a pass each launch site runs a copy of it (see the class comment). */
    cl_kernel kernel(cl_program program, String name) {
        try {
            cl_kernel k = clCreateKernel(program, name, null);
            kernels.add(k);
            sources.put(k, new Source(program, name));
            return k;
        } catch (CLException e) {
            throw fail("creating kernel " + name, e);
        }
    }

    /** CL_KERNEL_WORK_GROUP_SIZE: the largest work-group this compiled kernel may be launched with here. */
    long maxWorkGroupSize(cl_kernel kernel) {
        long[] v = new long[1];
        clGetKernelWorkGroupInfo(kernel, device, CL_KERNEL_WORK_GROUP_SIZE, Sizeof.size_t, Pointer.to(v), null);
        return v[0];
    }

    cl_mem alloc(long bytes, String what) {
        if (bytes > info.maxAllocBytes()) {
            throw new BackendException(info.label() + ": " + what + " needs a buffer of " + (bytes >> 20)
                    + " MiB but the device allows at most " + (info.maxAllocBytes() >> 20) + " MiB in one buffer; try a smaller batch");
        }
        try {
            cl_mem m = clCreateBuffer(context, CL_MEM_READ_WRITE, Math.max(bytes, 4), null, null);
            allocated += bytes;
            return m;
        } catch (CLException e) {
            throw fail("allocating " + (bytes >> 10) + " KiB for " + what, e);
        }
    }

    /** A read-only buffer holding {@code halves} (binary16 bit patterns), written once. */
    cl_mem constant(short[] halves, String what) {
        try {
            cl_mem m = clCreateBuffer(context, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, (long) Math.max(halves.length, 2) * Sizeof.cl_short,
                    Pointer.to(halves.length == 0 ? new short[1] : halves), null);
            allocated += (long) halves.length * Sizeof.cl_short;
            return m;
        } catch (CLException e) {
            throw fail("uploading " + what, e);
        }
    }

    void free(cl_mem m, long bytes) {
        clReleaseMemObject(m);
        allocated -= bytes;
    }

    /** Fills {@code bytes} bytes with a repeated 16-bit pattern (tests poison outputs with NaN this way). */
    void fill(cl_mem m, long bytes, short pattern) {
        try {
            clEnqueueFillBuffer(queue, m, Pointer.to(new short[] {pattern}), Sizeof.cl_short, 0, bytes, 0, null, null);
        } catch (CLException e) {
            throw fail("filling a buffer", e);
        }
    }

    /** Enqueues a copy from a direct buffer without waiting; the caller keeps {@code from} untouched until {@code done}. */
    cl_event writeAsync(cl_mem to, ByteBuffer from, String what) {
        try {
            cl_event done = new cl_event();
            clEnqueueWriteBuffer(queue, to, CL_FALSE, 0, from.capacity(), Pointer.to(from), 0, null, done);
            return done;
        } catch (CLException e) {
            throw fail("uploading " + what, e);
        }
    }

    /** Blocking write of {@code halves}; used by tests and uploads outside a forward pass. */
    void write(cl_mem to, short[] halves, String what) {
        try {
            clEnqueueWriteBuffer(queue, to, CL_TRUE, 0, (long) halves.length * Sizeof.cl_short, Pointer.to(halves), 0, null, null);
        } catch (CLException e) {
            throw fail("uploading " + what, e);
        }
    }

    void write(cl_mem to, int[] values, String what) {
        try {
            clEnqueueWriteBuffer(queue, to, CL_TRUE, 0, (long) values.length * Sizeof.cl_int, Pointer.to(values), 0, null, null);
        } catch (CLException e) {
            throw fail("uploading " + what, e);
        }
    }

    void write(cl_mem to, float[] values, String what) {
        try {
            clEnqueueWriteBuffer(queue, to, CL_TRUE, 0, (long) values.length * Sizeof.cl_float, Pointer.to(values), 0, null, null);
        } catch (CLException e) {
            throw fail("uploading " + what, e);
        }
    }

    int[] readInts(cl_mem from, int count, String what) {
        int[] out = new int[count];
        try {
            clEnqueueReadBuffer(queue, from, CL_TRUE, 0, (long) count * Sizeof.cl_int, Pointer.to(out), 0, null, null);
            if (PROFILE) harvest();
        } catch (CLException e) {
            throw fail("reading " + what + " back", e);
        }
        return out;
    }

    void await(cl_event event) {
        try {
            clWaitForEvents(1, new cl_event[] {event});
            clReleaseEvent(event);
        } catch (CLException e) {
            throw fail("waiting for an upload", e);
        }
    }

    /** Blocking read: waits for every command before it (the pass's one host synchronisation). */
    short[] readHalves(cl_mem from, int count, String what) {
        short[] out = new short[count];
        try {
            clEnqueueReadBuffer(queue, from, CL_TRUE, 0, (long) count * Sizeof.cl_short, Pointer.to(out), 0, null, null);
            if (PROFILE) harvest();
        } catch (CLException e) {
            throw fail("reading " + what + " back", e);
        }
        return out;
    }

    float[] readFloats(cl_mem from, int count, String what) {
        float[] out = new float[count];
        try {
            clEnqueueReadBuffer(queue, from, CL_TRUE, 0, (long) count * Sizeof.cl_float, Pointer.to(out), 0, null, null);
            if (PROFILE) harvest();
        } catch (CLException e) {
            throw fail("reading " + what + " back", e);
        }
        return out;
    }

    /** The first lines of the program's binary that start with .version and .target, when it is PTX (NVIDIA); else null. */
    String ptxHeader(cl_program program) {
        try {
            long[] size = new long[1];
            clGetProgramInfo(program, CL_PROGRAM_BINARY_SIZES, Sizeof.size_t, Pointer.to(size), null);
            if (size[0] <= 0 || size[0] > 64L << 20) return null;
            byte[] bin = new byte[(int) size[0]];
            clGetProgramInfo(program, CL_PROGRAM_BINARIES, Sizeof.POINTER, Pointer.to(new Pointer[] {Pointer.to(bin)}), null);
            String text = new String(bin, StandardCharsets.ISO_8859_1);
            String version = null, target = null;
            for (String line : text.lines().limit(200).toList()) {
                String l = line.trim();
                if (version == null && l.startsWith(".version")) version = l;
                if (target == null && l.startsWith(".target")) target = l;
            }
            return version == null || target == null ? null : version + ", " + target;
        } catch (CLException e) {
            return null;
        }
    }

    /** Launch sites from here on are numbered from 0 (see the class comment). */
    void beginPass() {
        inPass = true;
        siteIndex = 0;
    }

    void endPass() {
        inPass = false;
    }

    /** {launches, host nanoseconds spent launching them, kernel arguments set} since the last reset. */
    long[] launchStats() {
        return new long[] {launches, launchNanos, argsSet};
    }

    void resetLaunchStats() {
        launches = launchNanos = argsSet = 0;
    }

    private Site site(cl_kernel base) {
        return sites.computeIfAbsent(new SiteKey(siteIndex++, base), key -> {
            Source src = sources.get(base);
            if (src == null) throw new IllegalStateException("kernel not made by this device");
            cl_kernel k = clCreateKernel(src.program(), src.name(), null);
            kernels.add(k);
            return new Site(k);
        });
    }

    private static boolean same(Object a, Object b) {
        return a instanceof cl_mem ? a == b : a != null && a.equals(b);
    }

    /**
     * Sets the arguments in order (cl_mem, Integer, Float, or {@link Local} for a __local buffer) and enqueues;
     * within a pass, on the launch site's own kernel and setting only the arguments that changed.
     */
    void run(String name, cl_kernel kernel, long[] global, long[] local, Object... args) {
        long t0 = System.nanoTime();
        Site site = inPass && REUSE_ARGS ? site(kernel) : null;
        cl_kernel k = site != null ? site.kernel : kernel;
        if (site != null && site.args.length != args.length) site.args = new Object[args.length];
        try {
            for (int i = 0; i < args.length; i++) {
                Object a = args[i];
                if (site != null) {
                    if (same(site.args[i], a)) continue;
                    site.args[i] = null; // unknown until set
                }
                argsSet++;
                if (a instanceof cl_mem m) {
                    clSetKernelArg(k, i, Sizeof.cl_mem, Pointer.to(m));
                } else if (a instanceof Integer v) {
                    clSetKernelArg(k, i, Sizeof.cl_int, Pointer.to(new int[] {v}));
                } else if (a instanceof Float v) {
                    clSetKernelArg(k, i, Sizeof.cl_float, Pointer.to(new float[] {v}));
                } else if (a instanceof Local l) {
                    clSetKernelArg(k, i, l.bytes(), null);
                } else {
                    throw new IllegalArgumentException("kernel " + name + ": unsupported argument " + a);
                }
                if (site != null) site.args[i] = a;
            }
            cl_event event = PROFILE ? new cl_event() : null;
            clEnqueueNDRangeKernel(queue, k, global.length, null, global, local, 0, null, event);
            launches++;
            launchNanos += System.nanoTime() - t0;
            if (PROFILE) {
                pendingEvents.add(event);
                pendingNames.add(name);
            }
        } catch (CLException e) {
            throw fail("running kernel " + name + " (global " + java.util.Arrays.toString(global)
                    + ", local " + java.util.Arrays.toString(local) + ")", e);
        }
    }

    /** A __local memory argument of the given size. */
    record Local(long bytes) {
    }

    /** Waits for every enqueued command (tests; the backend itself synchronises only by reading). */
    void finish() {
        try {
            clFinish(queue);
        } catch (CLException e) {
            throw fail("finishing the queue", e);
        }
    }

    @Override
    public void close() {
        if (closed) return; // releasing a queue or context twice crashes the native library
        closed = true;
        if (PROFILE) {
            try {
                clFinish(queue);
                harvest();
                printProfile();
            } catch (CLException e) {
                System.err.println("bertj opencl profile unavailable: " + e.getMessage());
            }
        }
        for (cl_kernel k : kernels) clReleaseKernel(k);
        for (cl_program p : programs) clReleaseProgram(p);
        kernels.clear();
        sites.clear();
        sources.clear();
        programs.clear();
        clReleaseCommandQueue(queue);
        clReleaseContext(context);
    }
}
