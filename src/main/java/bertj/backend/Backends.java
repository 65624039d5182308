package bertj.backend;

import bertj.backend.cpu.CpuBackend;
import bertj.backend.opencl.KernelChoice;
import bertj.backend.opencl.OpenClBackend;
import bertj.backend.reference.ReferenceBackend;

import java.util.List;

/**
 * Creates backends by their command-line names:
 * <pre>
 *   try (BertEncoder encoder = new BertEncoder(weights, Backends.create("cpu", new Backends.Options(0, 2)))) { … }
 * </pre>
 * "reference" (float64, the oracle), "cpu" (float32; threads 0 = all cores), "opencl" (fp16; device index as
 * {@code bertj devices} numbers them; needs org.jocl:jocl on the class path).
 */
public final class Backends {
    private Backends() {
    }

    public static final List<String> NAMES = List.of("reference", "cpu", "opencl");

    /**
     * The most cpu threads per core {@link #create} accepts. The cpu backend splits each op into tasks that its
     * threads take in turn, so threads beyond the cores only add switching; a few per core leave room to measure
     * that, while a typo like 1000 (999 started threads on a 2-core machine) is refused.
     */
    public static final int MAX_THREADS_PER_CORE = 4;

    /** {@link #MAX_THREADS_PER_CORE} × the cores this JVM may use. */
    public static int maxThreads() {
        return MAX_THREADS_PER_CORE * Runtime.getRuntime().availableProcessors();
    }

    /** Refuses a thread count below 0 or above {@link #maxThreads()}. */
    public static void checkThreads(int threads) {
        int cores = Runtime.getRuntime().availableProcessors();
        if (threads < 0) throw new IllegalArgumentException("threads must be 0 (one per core) or positive, got " + threads);
        if (threads > maxThreads()) {
            throw new IllegalArgumentException(threads + " threads is more than " + MAX_THREADS_PER_CORE + " per core (this machine has "
                    + cores + (cores == 1 ? " core" : " cores") + ": at most " + maxThreads() + "; 0 means one per core)");
        }
    }

    /**
     * Options a backend may use: the OpenCL device index, the number of CPU threads (0 = all cores), and which
     * OpenCL kernels run (auto, portable, tensor-core; see {@link KernelChoice}).
     */
    public record Options(int device, int threads, KernelChoice kernels) {
        public Options {
            if (device < 0) throw new IllegalArgumentException("OpenCL device numbers start at 0, got " + device);
            checkThreads(threads);
            if (kernels == null) kernels = KernelChoice.AUTO;
        }

        public Options(int device, int threads) {
            this(device, threads, KernelChoice.AUTO);
        }

        public static Options defaults() {
            return new Options(0, 0);
        }
    }

    public static Backend create(String name) {
        return create(name, Options.defaults());
    }

    public static Backend create(String name, Options options) {
        return switch (name) {
            case "reference" -> new ReferenceBackend();
            case "cpu" -> new CpuBackend(options.threads());
            case "opencl" -> new OpenClBackend(options.device(), options.kernels());
            default -> throw new IllegalArgumentException("unknown backend '" + name + "' (choose from " + String.join(", ", NAMES) + ")");
        };
    }
}
