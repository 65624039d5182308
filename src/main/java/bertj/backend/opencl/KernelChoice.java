package bertj.backend.opencl;

import java.util.Arrays;
import java.util.List;

/**
 * Which kernels the opencl backend runs (--kernels): {@link #AUTO} the tensor-core kernels where a device can run
 * them (NVIDIA, compute capability ≥ 8.0, start-up probe passed) and the portable ones elsewhere;
 * {@link #PORTABLE} always the portable ones; {@link #TENSOR_CORE} the tensor-core ones or a one-line error.
 * {@link #EMULATED} runs the tensor-core kernels' text with every PTX step emulated in portable OpenCL C, on any
 * device — how kernels-tests check them without a GPU; slow, for tests and diagnostics only.
 */
public enum KernelChoice {
    AUTO("auto"), PORTABLE("portable"), TENSOR_CORE("tensor-core"), EMULATED("tensor-core-emulated");

    /** The names --kernels accepts. */
    public static final List<String> NAMES = List.of("auto", "portable", "tensor-core");

    private final String label;

    KernelChoice(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }

    /** The choice named {@code s}, or an IllegalArgumentException listing the names. */
    public static KernelChoice of(String s) {
        return Arrays.stream(values()).filter(c -> c.label.equals(s)).findFirst().orElseThrow(() ->
                new IllegalArgumentException("unknown kernels '" + s + "' (choose from " + String.join(", ", NAMES) + ")"));
    }
}
