package bertj.cli;

import bertj.backend.Backend;
import bertj.backend.Backends;
import bertj.backend.opencl.KernelChoice;
import picocli.CommandLine;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Which backend runs the model, and its settings. Each value is checked while parsing ({@link Converters}); what
 * needs the other options too — a {@code --device} or {@code --kernels} only the opencl backend reads,
 * {@code --threads} only the cpu backend has — is checked by {@link #check} before any model loads.
 */
public class BackendOptions {
    @Option(names = "--backend", paramLabel = "NAME", defaultValue = "cpu", converter = Converters.BackendName.class,
            description = "reference (float64 oracle, one thread), cpu (float32, default) or opencl (fp16 kernels).")
    String backend;

    @Option(names = "--device", paramLabel = "N", converter = Converters.DeviceIndex.class,
            description = "OpenCL device number (see 'bertj devices'; default 0); only with the opencl backend.")
    Integer device;

    @Option(names = "--threads", paramLabel = "T", converter = Converters.ThreadCount.class,
            description = "Threads of the cpu backend (default 0: one per core; at most " + Backends.MAX_THREADS_PER_CORE
                    + " per core); only with the cpu backend.")
    Integer threads;

    @Option(names = "--kernels", paramLabel = "K", converter = Converters.Kernels.class,
            description = "The opencl backend's kernels: auto (tensor cores where the device passes their probe; default),"
                    + " portable, or tensor-core (an error where they cannot run); only with the opencl backend. See 'bertj devices'.")
    KernelChoice kernels;

    /**
     * Refuses {@code --device} unless an opencl backend runs and {@code --threads} unless a cpu backend runs:
     * {@code backend} and any {@code others} the command also runs (similarity's {@code --compare}).
     */
    void check(CommandLine cmd, String... others) {
        List<String> running = new ArrayList<>(List.of(backend));
        for (String o : others) if (o != null) running.add(o);
        String which = String.join(" and ", running);
        if (device != null && !running.contains("opencl")) {
            throw Converters.usage(cmd, "--device selects an OpenCL device, but no opencl backend runs here (" + which
                    + "); use --backend opencl or leave --device out");
        }
        if (kernels != null && !running.contains("opencl")) {
            throw Converters.usage(cmd, "--kernels chooses the opencl backend's kernels, but no opencl backend runs here (" + which
                    + "); use --backend opencl or leave --kernels out");
        }
        if (threads != null && !running.contains("cpu")) {
            throw Converters.usage(cmd, "--threads sets the cpu backend's threads, but no cpu backend runs here (" + which
                    + (running.contains("reference") ? "; reference computes on one thread" : "")
                    + "); leave --threads out");
        }
    }

    Backends.Options options() {
        return new Backends.Options(Objects.requireNonNullElse(device, 0), Objects.requireNonNullElse(threads, 0),
                Objects.requireNonNullElse(kernels, KernelChoice.AUTO));
    }

    /**
     * For a command about to load a model: when the cpu backend will run it, its vector kernels are compiled by
     * the JIT in the background meanwhile (bertj.backend.cpu.CpuBackend#warmUpInBackground).
     */
    void warmUp() {
        if ("cpu".equals(backend)) bertj.backend.cpu.CpuBackend.warmUpInBackground();
    }

    /** The backend of {@code --backend}. */
    Backend create() {
        return Backends.create(backend, options());
    }

    /** Another backend with the same settings (similarity's and embed's {@code --compare}). */
    Backend create(String name) {
        return Backends.create(name, options());
    }
}
