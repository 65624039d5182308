package bertj.backend.opencl;

import org.junit.jupiter.api.Test;

import static bertj.backend.opencl.KernelTesting.device;
import static org.junit.jupiter.api.Assertions.*;

/**
 * tc_probe.cl, the start-up probe of the tensor-core kernels ({@link TensorCores}), with every PTX step emulated
 * (tensor_core.clh, TC_ASM=0): on PoCL it must give the known answer — which checks the probe, the host's known
 * answer and the emulation's fragment layouts against each other — and it must catch a planted fragment-order
 * slip (negative controls). Where the device's own PTX runs (an NVIDIA GPU that {@link TensorCores} accepts),
 * the same probe is run with the PTX too.
 */
class TensorCoreProbeTest {

    @Test
    void theEmulatedProbeGivesTheKnownAnswer() {
        TensorCores.Probe p = TensorCores.probe(device(), false, 0);
        assertNull(p.mismatch(), p.mismatch());
        System.out.println("[kernel] tc_probe emulated on " + device().info.label() + ": " + TensorCores.PROBE_CHECKS + " values match");
    }

    @Test
    void aWrongFragmentOrderIsCaught() {
        TensorCores.Probe swapped = TensorCores.probe(device(), false, 1); // ldsm_x4 returns a1 and a2 swapped
        assertNotNull(swapped.mismatch(), "the probe missed swapped A fragments");
        assertTrue(swapped.mismatch().startsWith("mma m16n8k16 (ldmatrix x4, x2)"), swapped.mismatch());
        TensorCores.Probe column = TensorCores.probe(device(), false, 2); // the emulated mma reads B from the next column
        assertNotNull(column.mismatch(), "the probe missed a wrong B column");
        System.out.println("[kernel] tc_probe negative controls: " + swapped.mismatch() + " | " + column.mismatch());
    }

    @Test
    void theDeviceDecisionIsStatedAndTheRealProbeRunsWhereTheDeviceTakesIt() {
        TensorCores.Selection auto = TensorCores.select(device(), KernelChoice.AUTO);
        assertFalse(auto.reason().isBlank());
        System.out.println("[kernel] --kernels auto on " + device().info.label() + ": " + auto.kernels() + " (" + auto.reason() + ")"
                + (auto.ptx() != null ? ", PTX " + auto.ptx() : ""));
        if (device().info.computeCapability() == null) {
            assertFalse(auto.tensorCores(), "tensor cores chosen on a device without a compute capability");
            bertj.backend.BackendException e = assertThrows(bertj.backend.BackendException.class,
                    () -> TensorCores.select(device(), KernelChoice.TENSOR_CORE));
            assertTrue(e.getMessage().contains("--kernels tensor-core cannot run here: not an NVIDIA GPU"), e.getMessage());
            assertFalse(e.getMessage().contains("\n"));
        } else if (auto.tensorCores()) {
            TensorCores.Probe p = TensorCores.probe(device(), true, 0);
            assertNull(p.mismatch(), p.mismatch());
        }
        assertEquals("portable", TensorCores.select(device(), KernelChoice.PORTABLE).kernels());
    }
}
