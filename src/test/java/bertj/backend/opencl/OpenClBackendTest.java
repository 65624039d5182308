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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The opencl backend as a whole, on a small random BERT built in Java, with the portable kernels and with the
 * tensor-core kernels (emulated where the device has no tensor cores): every intermediate within the fp16
 * tolerance of the float64 reference (bertj.parity.Tolerance.FLOAT16: relative L2 ≤ 2^-11·(2 + n) for what is
 * computed in or after layer n − 1, 5e-3 for the logits), five launches per layer, identical results and no new
 * device buffers or kernel arguments on a repeated pass, and one-line errors for a device that does not exist or
 * tensor cores that cannot run.
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

    @ParameterizedTest
    @EnumSource(value = KernelChoice.class, names = {"PORTABLE", "EMULATED", "AUTO"})
    void everyIntermediateIsWithinTheFp16ToleranceOfTheFloat64Reference(KernelChoice kernels) {
        long seed = PyTorch.seed("OpenClBackendTest " + kernels);
        Random r = new Random(seed);
        BertConfig c = RandomBert.TINY;
        BertWeights w = BertWeights.of(c, RandomBert.tensors(c, seed));
        Batch b = batch(r, c, 5, 16);
        Map<String, double[]> want, got;
        try (BertEncoder ref = new BertEncoder(w, new ReferenceBackend()); BertEncoder ocl = new BertEncoder(w, new OpenClBackend(0, kernels))) {
            String ran = ((OpenClBackend) ocl.backend()).kernels();
            if (kernels != KernelChoice.AUTO) assertEquals(kernels == KernelChoice.PORTABLE ? "portable" : "tensor-core-emulated", ran);
            System.out.println("[opencl] --kernels " + kernels.label() + ": " + ran + " (" + ((OpenClBackend) ocl.backend()).kernelsReason() + ")");
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

    /**
     * Five launches per encoder layer (q|k|v product, attention, attention output + add &amp; LayerNorm, FFN + GELU,
     * FFN output + add &amp; LayerNorm) plus the embeddings and the QA head, with the portable and the tensor-core
     * kernels; a pass of the shape before sets no kernel argument at all (launch sites keep theirs).
     */
    @ParameterizedTest
    @EnumSource(value = KernelChoice.class, names = {"PORTABLE", "EMULATED", "AUTO"})
    void aPassIsFiveLaunchesPerLayerAndARepeatedShapeSetsNoArguments(KernelChoice kernels) {
        long seed = PyTorch.seed("OpenClBackendTest.launches");
        Random r = new Random(seed);
        BertConfig c = RandomBert.TINY;
        BertWeights w = BertWeights.of(c, RandomBert.tensors(c, seed));
        Batch b = batch(r, c, 2, 9);
        OpenClBackend backend = new OpenClBackend(0, kernels);
        try (BertEncoder e = new BertEncoder(w, backend)) {
            long[] perPass = new long[4];
            for (int i = 0; i < 4; i++) {
                backend.resetLaunchStats();
                e.forward(b);
                long[] st = backend.launchStats();
                assertEquals(1 + 5L * c.numLayers() + 1, st[0], "launches in pass " + i);
                perPass[i] = st[2];
            }
            System.out.printf("[opencl] %s: %d launches per pass; kernel arguments set per pass: %s%n", kernels, 1 + 5 * c.numLayers() + 1,
                    java.util.Arrays.toString(perPass));
            assertTrue(perPass[0] > 0);
            assertEquals(0, perPass[2], "a pass of the same shape set kernel arguments again");
            assertEquals(0, perPass[3], "a pass of the same shape set kernel arguments again");
        }
    }

    @Test
    void askingForTensorCoresWhereTheyCannotRunIsAOneLineError() {
        DeviceInfo d;
        try (OpenClBackend probe = new OpenClBackend(0, KernelChoice.PORTABLE)) {
            d = probe.device();
            assertEquals("portable", probe.kernels());
            assertEquals("--kernels portable", probe.kernelsReason());
        }
        if (d.computeCapability() != null) return; // an NVIDIA device: tensor cores may well run here
        BackendException e = assertThrows(BackendException.class, () -> new OpenClBackend(0, KernelChoice.TENSOR_CORE));
        assertTrue(e.getMessage().startsWith("OpenCL device 0 ("), e.getMessage());
        assertTrue(e.getMessage().contains(": --kernels tensor-core cannot run here: not an NVIDIA GPU"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void aDeviceThatDoesNotExistIsAOneLineError() {
        BackendException e = assertThrows(BackendException.class, () -> new OpenClBackend(99));
        assertTrue(e.getMessage().startsWith("OpenCL device 99 does not exist: this machine has "), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }
}
