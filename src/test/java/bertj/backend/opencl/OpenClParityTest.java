package bertj.backend.opencl;

import bertj.testing.Cli;
import bertj.testing.PyTorch;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/**
 * End to end on the machine's OpenCL device (PoCL in CI): `bertj parity --backend opencl` on a fresh random
 * NVIDIA-format 4L-288D checkpoint against PyTorch float32 outputs passes the float16 tolerance
 * (bertj.parity.Tolerance.FLOAT16: relative L2 ≤ 5e-3 per tensor, start/end argmax agreeing on ≥ 99% of rows).
 */
class OpenClParityTest {

    @Test
    void parityAgainstPyTorchFloat32OnAFreshRandomCheckpoint(@TempDir Path dir) throws Exception {
        long seed = PyTorch.seed("OpenClParityTest");
        Path model = PyTorch.checkpoint(dir, "bert_4l_288d.pt", seed);
        Path ref = PyTorch.reference(model, dir.resolve("ref32.safetensors"), "float32", seed + 1, "--batch", "8", "--seq", "96");
        Cli.Result r = Cli.run("parity", "--model", model.toString(), "--reference", ref.toString(), "--backend", "opencl", "--json");
        System.out.println(r.out());
        assertEquals("", r.err());
        JsonNode report = new ObjectMapper().readTree(r.out());
        assertEquals("float16", report.get("precision").asText());
        assertEquals("float16", report.get("tolerance").get("precision").asText());
        assertEquals(7, report.get("tensors").size(), "embeddings, 4 layers, start and end logits");
        for (JsonNode t : report.get("tensors")) {
            double rel = t.get("rel_l2").asDouble();
            assertTrue(rel > 0 && rel <= 5e-3, t.get("name").asText() + ": rel_l2 " + rel);
        }
        assertTrue(report.get("argmax_agreement").get("start").asDouble() >= 0.99);
        assertTrue(report.get("argmax_agreement").get("end").asDouble() >= 0.99);
        assertTrue(report.get("pass").asBoolean());
        assertEquals(0, r.code());
    }
}
