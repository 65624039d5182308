package bertj.cli;

import bertj.backend.Backend;
import bertj.backend.Backends;
import picocli.CommandLine.Option;

/** Which backend runs the model, and its settings. */
public class BackendOptions {
    @Option(names = "--backend", paramLabel = "NAME", defaultValue = "cpu",
            description = "reference (float64 oracle), cpu (float32, default) or opencl (fp16 kernels).")
    String backend;

    @Option(names = "--device", paramLabel = "N", defaultValue = "0", description = "OpenCL device index (see 'bertj devices').")
    int device;

    @Option(names = "--threads", paramLabel = "T", defaultValue = "0", description = "CPU threads (0: all cores).")
    int threads;

    @picocli.CommandLine.Spec(picocli.CommandLine.Spec.Target.MIXEE)
    picocli.CommandLine.Model.CommandSpec mixee;

    /** Checks the options before any work is done; a bad value is a usage error (exit 2). */
    void check() {
        if (!Backends.NAMES.contains(backend)) {
            throw new picocli.CommandLine.ParameterException(mixee.commandLine(),
                    "unknown backend '" + backend + "' (choose from " + String.join(", ", Backends.NAMES) + ")");
        }
        if (threads < 0) {
            throw new picocli.CommandLine.ParameterException(mixee.commandLine(), "--threads must be 0 (all cores) or positive");
        }
        if (device < 0) {
            throw new picocli.CommandLine.ParameterException(mixee.commandLine(), "--device must be 0 or positive");
        }
    }

    /**
     * For a command about to load a model: when the cpu backend will run it, its vector kernels are compiled by
     * the JIT in the background meanwhile (bertj.backend.cpu.CpuBackend#warmUpInBackground).
     */
    void warmUp() {
        if ("cpu".equals(backend)) bertj.backend.cpu.CpuBackend.warmUpInBackground();
    }

    Backend create() {
        check();
        return Backends.create(backend, new Backends.Options(device, threads));
    }
}
