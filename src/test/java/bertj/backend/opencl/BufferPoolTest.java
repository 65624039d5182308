package bertj.backend.opencl;

import bertj.backend.Batch;
import bertj.encoder.BertEncoder;
import bertj.model.BertConfig;
import bertj.model.BertWeights;
import bertj.model.GeluForm;
import bertj.testing.PyTorch;
import bertj.testing.RandomBert;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The opencl backend's device memory for activations follows liveness: buffers released by the encoder serve
 * later ops of the same pass, so what a pass holds does not grow with the number of layers (before, every
 * matrix of a pass kept its own buffer: about 7 KB per token and layer for 4L-288D in half precision).
 */
class BufferPoolTest {

    private static long bytesPerToken(int layers, Batch b) {
        BertConfig c = new BertConfig(300, 288, layers, 12, 1152, 512, 2, 1e-12, GeluForm.TANH);
        BertWeights w = BertWeights.of(c, RandomBert.tensors(c, 5));
        try (OpenClBackend be = new OpenClBackend(0); BertEncoder e = new BertEncoder(w, be)) {
            e.forward(b, true, null);
            return be.bufferBytes() / b.tokens();
        }
    }

    @Test
    void deviceMemoryPerTokenDoesNotGrowWithDepth() {
        Random r = new Random(PyTorch.seed("opencl buffer pool"));
        int size = 3, seq = 64, n = size * seq;
        int[] ids = new int[n], types = new int[n], mask = new int[n];
        for (int i = 0; i < n; i++) {
            ids[i] = r.nextInt(300);
            mask[i] = i % seq < seq - 5 ? 1 : 0;
        }
        Batch b = new Batch(size, seq, ids, types, mask);
        long two = bytesPerToken(2, b), six = bytesPerToken(6, b);
        System.out.printf("[memory] opencl activation buffers per token: %d B with 2 layers, %d B with 6%n", two, six);
        assertEquals(two, six, "device memory per token must not depend on the number of layers");
        // half storage: the live set of a layer is a few rows of 288, 864 and 1152 halves, plus the inputs
        assertTrue(six <= 2 * (4 * 288 + 864 + 1152) + 3 * 4 + 2 * 4, six + " B per token");
    }
}
