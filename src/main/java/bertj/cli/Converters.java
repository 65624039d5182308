package bertj.cli;

import bertj.backend.Backends;
import picocli.CommandLine;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Option values checked while the command line is parsed, so that a bad one is a usage error (exit 2) before
 * anything is loaded or run. Picocli prefixes each message with "Invalid value for option '--x': ".
 */
final class Converters {
    private Converters() {
    }

    static int parseInt(String value) {
        try {
            return Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            throw new TypeConversionException("'" + value + "' is not a whole number");
        }
    }

    /** A whole number ≥ 1. */
    static final class Positive implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            int v = parseInt(value);
            if (v < 1) throw new TypeConversionException("must be positive, got " + v);
            return v;
        }
    }

    /** A backend name: reference, cpu or opencl. */
    static final class BackendName implements ITypeConverter<String> {
        @Override
        public String convert(String value) {
            if (!Backends.NAMES.contains(value)) {
                throw new TypeConversionException("unknown backend '" + value + "' (choose from " + String.join(", ", Backends.NAMES) + ")");
            }
            return value;
        }
    }

    /** An OpenCL device number: 0 or more (whether it exists is known only once the platform is asked). */
    static final class DeviceIndex implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            int v = parseInt(value);
            if (v < 0) throw new TypeConversionException(v + " is negative; OpenCL devices are numbered from 0 (see 'bertj devices')");
            return v;
        }
    }

    /** A cpu thread count: 0 (one per core) up to {@link Backends#maxThreads()}. */
    static final class ThreadCount implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            int v = parseInt(value);
            if (v < 0) throw new TypeConversionException(v + " is negative; give 0 (one thread per core) or a positive count");
            try {
                Backends.checkThreads(v);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
            return v;
        }
    }

    /** --kernels: auto, portable or tensor-core. */
    static final class Kernels implements ITypeConverter<bertj.backend.opencl.KernelChoice> {
        @Override
        public bertj.backend.opencl.KernelChoice convert(String value) {
            if (!bertj.backend.opencl.KernelChoice.NAMES.contains(value)) {
                throw new CommandLine.TypeConversionException("'" + value + "' is not one of "
                        + String.join(", ", bertj.backend.opencl.KernelChoice.NAMES));
            }
            return bertj.backend.opencl.KernelChoice.of(value);
        }
    }

    /** The usage error (exit 2) {@code message} of {@code cmd}, to throw. */
    static CommandLine.ParameterException usage(CommandLine cmd, String message) {
        return new CommandLine.ParameterException(cmd, message);
    }
}
