package bertj.backend.cpu;

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
 * The cpu backend's activation memory follows liveness, not the number of ops: the workspace after a pass is
 * the same for 2 and 6 layers (it grew by ~14 KB per token and layer before matrices were released), at most
 * 2304 floats per token for the 4L-288D widths (hidden 288, q|k|v 864, intermediate 1152), and it shrinks to a
 * smaller batch's needs after a pass of that batch.
 */
class WorkspaceTest {

    private static BertConfig config(int layers) {
        return new BertConfig(500, 288, layers, 12, 1152, 512, 2, 1e-12, GeluForm.TANH);
    }

    private static Batch batch(Random r, int size, int seq) {
        int n = size * seq;
        int[] ids = new int[n], types = new int[n], mask = new int[n];
        for (int i = 0; i < n; i++) {
            ids[i] = r.nextInt(500);
            types[i] = r.nextInt(2);
            mask[i] = i % seq < seq - 3 ? 1 : 0;
        }
        return new Batch(size, seq, ids, types, mask);
    }

    private static double floatsPerToken(int layers, Batch... passes) {
        BertConfig c = config(layers);
        BertWeights w = BertWeights.of(c, RandomBert.tensors(c, 11));
        try (CpuBackend be = new CpuBackend(2); BertEncoder e = new BertEncoder(w, be)) {
            for (Batch b : passes) e.forward(b, true, null);
            Batch last = passes[passes.length - 1];
            return (double) be.workspaceFloats() / last.tokens();
        }
    }

    @Test
    void memoryPerTokenDoesNotGrowWithDepthAndFollowsTheLatestBatch() {
        Random r = new Random(PyTorch.seed("workspace"));
        Batch big = batch(r, 4, 96), small = batch(r, 2, 40);
        double two = floatsPerToken(2, big), six = floatsPerToken(6, big);
        System.out.printf("[memory] cpu workspace per token: %.0f floats with 2 layers, %.0f with 6 (%.1f KB)%n", two, six, 4 * six / 1024);
        assertEquals(two, six, 0.0, "workspace per token must not depend on the number of layers");
        assertTrue(six <= 2304, "workspace of " + six + " floats per token; liveness needs at most 2304 (288 + 864 + 1152)");
        // after a big pass, smaller ones: arrays more than twice what the small batch needs are dropped
        double afterShrink = floatsPerToken(4, big, small, small);
        System.out.printf("[memory] after a %d-token pass and two %d-token passes: %.0f floats per token of the latter%n",
                big.tokens(), small.tokens(), afterShrink);
        assertTrue(afterShrink > 0 && afterShrink <= 2 * 2304, "after smaller batches the workspace holds " + afterShrink
                + " floats per token of them, more than twice what they need");
    }
}
