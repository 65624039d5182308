package bertj.cli;

import bertj.backend.Backend;
import bertj.backend.Backends;
import bertj.backend.opencl.KernelChoice;
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

    @Option(names = "--kernels", paramLabel = "K", defaultValue = "auto",
            description = "The opencl backend's kernels: auto (tensor cores where the device passes their probe; default),"
                    + " portable, or tensor-core (an error where they cannot run). Other backends ignore it. See 'bertj devices'.")
    String kernels;

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
        kernelChoice();
    }

    /** --kernels as a choice (an unknown name is a usage error); only the opencl backend reads it. */
    KernelChoice kernelChoice() {
        if (!KernelChoice.NAMES.contains(kernels)) {
            throw new picocli.CommandLine.ParameterException(mixee.commandLine(),
                    "unknown --kernels '" + kernels + "' (choose from " + String.join(", ", KernelChoice.NAMES) + ")");
        }
        return KernelChoice.of(kernels);
    }

    Backends.Options options() {
        return new Backends.Options(device, threads, kernelChoice());
    }

    Backend create() {
        check();
        return Backends.create(backend, options());
    }
}
