package bertj.backend.opencl;

import bertj.testing.PyTorch;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * scripts/check-ptx.sh: the tensor-core kernels' inline PTX compiles (clang, OpenCL C to nvptx64) and assembles
 * for sm_90 (NVIDIA's ptxas), for every tile {@link TcLinearKernel} knows. Runs only where clang, libclc and ptxas
 * are installed (none of them is needed for bertj, and CI machines have no CUDA): elsewhere it is reported as
 * skipped, never as passed.
 */
class PtxCheckTest {

    @Test
    void theTensorCoreKernelsAssembleForSm90() throws Exception {
        Path script = PyTorch.projectDir().resolve("scripts/check-ptx.sh");
        Process p = new ProcessBuilder("bash", script.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "check-ptx.sh timed out");
        System.out.println(out);
        Assumptions.assumeTrue(p.exitValue() != 2, "clang, libclc or ptxas missing: " + out.strip());
        assertEquals(0, p.exitValue(), out);
        for (TcLinearKernel.Config c : TcLinearKernel.LINEAR) {
            String opts = "-D BM=" + c.bm() + " -D BN=" + c.bn() + " -D BK=" + c.bk() + " -D WARPS_M=" + c.warpsM() + " -D WARPS_N=" + c.warpsN();
            assertTrue(out.contains(opts), "check-ptx.sh does not cover tile " + c);
        }
        assertFalse(out.contains("FAIL"), out);
    }
}
