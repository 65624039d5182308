package bertj.backend.opencl;

import bertj.backend.BackendException;
import bertj.backend.Batch;
import bertj.backend.reference.ReferenceBackend;
import bertj.encoder.BertEncoder;
import bertj.model.BertConfig;
import bertj.model.BertWeights;
import bertj.parity.Tolerance;
import bertj.testing.PyTorch;
import bertj.testing.RandomBert;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The opencl backend as a whole, on a small random BERT built in Java: every intermediate within the fp16
 * tolerance of the float64 reference (bertj.parity.Tolerance.FLOAT16: relative L2 ≤ 2^-11·(2 + n) for what is
 * computed in or after layer n − 1, 5e-3 for the logits), identical results and no new device buffers on a second pass (the pool
 * reuses them), and one-line errors for a device that does not exist.
 */
class OpenClBackendTest {

    private static Batch batch(Random r, BertConfig c, int size, int seq) {
        int n = size * seq;
        int[] ids = new int[n], types = new int[n], mask = new int[n];
        for (int b = 0; b < size; b++) {
            int len = b == 0 ? seq : 1 + r.nextInt(seq);
            for (int j = 0; j < len; j++) {
                ids[b * seq + j] = r.nextInt(c.vocabSize());
                types[b * seq + j] = j >= len / 2 ? 1 : 0;
                mask[b * seq + j] = 1;
            }
        }
        return new Batch(size, seq, ids, types, mask);
    }

    /** Collects every intermediate a Tap offers. */
    private static Map<String, double[]> trace(BertEncoder e, Batch b) {
        Map<String, double[]> out = new HashMap<>();
        e.forward(b, true, new BertEncoder.Tap() {
            @Override
            public boolean wants(String name) {
                return true;
            }

            @Override
            public void take(String name, int[] shape, double[] values) {
                out.put(name, values);
            }
        });
        return out;
    }

    @Test
    void everyIntermediateIsWithinTheFp16ToleranceOfTheFloat64Reference() {
        long seed = PyTorch.seed("OpenClBackendTest");
        Random r = new Random(seed);
        BertConfig c = RandomBert.TINY;
        BertWeights w = BertWeights.of(c, RandomBert.tensors(c, seed));
        Batch b = batch(r, c, 5, 16);
        Map<String, double[]> want, got;
        try (BertEncoder ref = new BertEncoder(w, new ReferenceBackend()); BertEncoder ocl = new BertEncoder(w, new OpenClBackend(0))) {
            want = trace(ref, b);
            got = trace(ocl, b);
        }
        assertEquals(want.keySet(), got.keySet());
        for (String name : want.keySet()) {
            double[] e = want.get(name), a = got.get(name);
            double d2 = 0, e2 = 0;
            for (int i = 0; i < e.length; i++) {
                assertFalse(Double.isNaN(a[i]), name + "[" + i + "] is NaN");
                d2 += (a[i] - e[i]) * (a[i] - e[i]);
                e2 += e[i] * e[i];
            }
            double rel = Math.sqrt(d2 / e2), limit = Tolerance.FLOAT16.relL2Limit(name);
            System.out.printf("[opencl] %-28s rel-L2 vs float64 reference %.2e (limit %.2e)%n", name, rel, limit);
            assertTrue(rel <= limit, name + ": relative L2 error " + rel + " > " + limit);
        }
    }

    @Test
    void aSecondPassReusesTheBuffersAndGivesTheSameResult() {
        long seed = PyTorch.seed("OpenClBackendTest.reuse");
        Random r = new Random(seed);
        BertConfig c = RandomBert.TINY;
        BertWeights w = BertWeights.of(c, RandomBert.tensors(c, seed));
        Batch b = batch(r, c, 3, 12);
        OpenClBackend backend = new OpenClBackend(0);
        try (BertEncoder e = new BertEncoder(w, backend)) {
            BertEncoder.Output first = e.forward(b, true, null);
            long buffers = backend.bufferAllocations();
            BertEncoder.Output second = e.forward(b, true, null);
            assertEquals(buffers, backend.bufferAllocations(), "the second pass allocated device buffers");
            assertArrayEquals(first.startLogits(), second.startLogits());
            assertArrayEquals(first.lastHidden(), second.lastHidden());
            // A smaller batch in between, then the first shape again: still correct.
            e.forward(batch(r, c, 1, 5), false, null);
            assertArrayEquals(first.endLogits(), e.forward(b, false, null).endLogits());
        }
    }

    @Test
    void aDeviceThatDoesNotExistIsAOneLineError() {
        BackendException e = assertThrows(BackendException.class, () -> new OpenClBackend(99));
        assertTrue(e.getMessage().startsWith("OpenCL device 99 does not exist: this machine has "), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }
}
