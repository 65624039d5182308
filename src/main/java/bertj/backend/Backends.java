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
     * Options a backend may use: the OpenCL device index, the number of CPU threads (0 = all cores), and which
     * OpenCL kernels run (auto, portable, tensor-core; see {@link KernelChoice}).
     */
    public record Options(int device, int threads, KernelChoice kernels) {
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
