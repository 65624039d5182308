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
        long total = 0;
        for (long[] t : profile.values()) total += t[1];
        if (total == 0) return;
        System.err.printf("bertj opencl profile, %s: %.1f ms in kernels%n", info.label(), total / 1e6);
        System.err.printf("  %-52s %8s %11s %10s %6s%n", "kernel", "launches", "total ms", "mean us", "share");
        for (var e : profile.entrySet()) {
            long[] t = e.getValue();
            System.err.printf("  %-52s %8d %11.2f %10.1f %5.1f%%%n", e.getKey(), t[0], t[1] / 1e6, t[1] / 1e3 / t[0], 100.0 * t[1] / total);
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
        try {
            clBuildProgram(program, 1, new cl_device_id[] {device}, options, null, null);
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

    cl_kernel kernel(cl_program program, String name) {
        try {
            cl_kernel k = clCreateKernel(program, name, null);
            kernels.add(k);
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

    /** Sets the arguments in order (cl_mem, Integer, Float, or {@link Local} for a __local buffer) and enqueues. */
    void run(String name, cl_kernel kernel, long[] global, long[] local, Object... args) {
        try {
            for (int i = 0; i < args.length; i++) {
                Object a = args[i];
                if (a instanceof cl_mem m) {
                    clSetKernelArg(kernel, i, Sizeof.cl_mem, Pointer.to(m));
                } else if (a instanceof Integer v) {
                    clSetKernelArg(kernel, i, Sizeof.cl_int, Pointer.to(new int[] {v}));
                } else if (a instanceof Float v) {
                    clSetKernelArg(kernel, i, Sizeof.cl_float, Pointer.to(new float[] {v}));
                } else if (a instanceof Local l) {
                    clSetKernelArg(kernel, i, l.bytes(), null);
                } else {
                    throw new IllegalArgumentException("kernel " + name + ": unsupported argument " + a);
                }
            }
            cl_event event = PROFILE ? new cl_event() : null;
            clEnqueueNDRangeKernel(queue, kernel, global.length, null, global, local, 0, null, event);
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
        programs.clear();
        clReleaseCommandQueue(queue);
        clReleaseContext(context);
    }
}
