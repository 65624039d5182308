package bertj.readers;

import bertj.testing.PyTorch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class PyTorchCheckpointTest {
    @TempDir
    Path dir;

    @Test
    void stridedViewsAndSharedStoragesReadAsPyTorchMakesThemContiguous() {
        long seed = PyTorch.seed("strided views");
        Path pt = dir.resolve("views.pt"), st = dir.resolve("views.safetensors");
        PyTorch.run("strided_checkpoint.py", "--pt", pt.toString(), "--st", st.toString(), "--seed", Long.toString(seed));
        Map<String, Tensor> got = PyTorchCheckpoint.read(pt);
        Map<String, Tensor> want = SafeTensors.read(st).tensors();
        assertEquals(want.keySet(), got.keySet());
        for (String k : want.keySet()) {
            Tensor g = got.get(k), w = want.get(k);
            assertEquals(w.dtype(), g.dtype(), k);
            assertArrayEquals(w.shape(), g.shape(), k);
            byte[] gb = new byte[(int) (g.numel() * g.dtype().bytes())], wb = new byte[gb.length];
            g.bytes().get(gb);
            w.bytes().get(wb);
            assertArrayEquals(wb, gb, k + ": bytes differ");
        }
        assertEquals(7 * 5, got.get("base").numel());
    }
}
