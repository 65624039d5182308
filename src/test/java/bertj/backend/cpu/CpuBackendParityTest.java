package bertj.backend.cpu;

import bertj.backend.Batch;
import bertj.encoder.BertEncoder;
import bertj.model.GeluForm;
import bertj.model.LoadedModel;
import bertj.model.ModelLoader;
import bertj.parity.Parity;
import bertj.parity.ReferenceFile;
import bertj.testing.PyTorch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fast cpu backend against PyTorch float32 on a fresh random NVIDIA-format 4L-288D checkpoint (seed
 * printed), at shapes chosen to hit the tiling's edges: a single token; batch 3 × 37 (rows not a multiple of
 * the micro-kernel's 12, query blocks of 32 cut short, padded rows and a one-token row); 4 × 129 with the erf
 * GELU; 2 × 384 (full blocks). Each on 1, 2 and 3 threads, and the scalar fallback kernels on two of them.
 * Tolerance (docs/numerics.md): every tensor rel-L2 ≤ 1e-5, logits max-abs ≤ 1e-4.
 */
class CpuBackendParityTest {
    @TempDir
    static Path dir;
    static Path checkpoint, one, odd, erf, full;

    @BeforeAll
    static void generate() throws Exception {
        long seed = PyTorch.seed("cpu backend parity checkpoint");
        checkpoint = PyTorch.checkpoint(dir, "bert.pt", seed);
        one = PyTorch.reference(checkpoint, dir.resolve("one.safetensors"), "float32", seed + 1, "--batch", "1", "--seq", "1");
        odd = PyTorch.reference(checkpoint, dir.resolve("odd.safetensors"), "float32", seed + 2, "--batch", "3", "--seq", "37");
        erf = PyTorch.reference(checkpoint, dir.resolve("erf.safetensors"), "float32", seed + 3, "--batch", "4", "--seq", "129",
                "--gelu", "erf");
        full = PyTorch.reference(checkpoint, dir.resolve("full.safetensors"), "float32", seed + 4, "--batch", "2", "--seq", "384");
    }

    private static LoadedModel model(Path ref) {
        GeluForm gelu = ref == erf ? GeluForm.ERF : null;
        return ModelLoader.load(checkpoint, new ModelLoader.Options(gelu, null, null));
    }

    private static void check(Path ref, int threads, Kernels kernels) {
        try (BertEncoder e = new BertEncoder(model(ref).weights(), new CpuBackend(threads, kernels))) {
            Parity.Report r = Parity.run(e, ReferenceFile.read(ref));
            double relL2 = 0, logits = 0;
            for (Parity.TensorResult t : r.tensors()) {
                String what = ref.getFileName() + " " + kernels.description() + " " + threads + " threads: " + t.name()
                        + " rel_l2 " + t.relL2() + " max_abs " + t.maxAbs();
                if (t.name().endsWith("_logits")) logits = Math.max(logits, t.maxAbs());
                if (ref == one && t.name().endsWith("_logits")) {
                    // One token: each logit tensor is a single number, whose "rel-L2" is the relative error of a
                    // value that may lie near 0; held to an absolute 1e-5 instead (10x inside the logits limit).
                    assertTrue(t.maxAbs() <= 1e-5, what);
                    continue;
                }
                relL2 = Math.max(relL2, t.relL2());
                assertTrue(t.pass(), what);
            }
            System.out.printf("cpu (%s, %d threads) vs torch float32 %-16s worst rel_l2 %.2e, logits max_abs %.2e%n",
                    kernels.description(), threads, ref.getFileName(), relL2, logits);
        }
    }

    @Test
    void vectorKernelsMatchPyTorchFloat32OnEveryShapeAndThreadCount() {
        for (Path ref : new Path[] {one, odd, erf, full}) {
            for (int threads : new int[] {1, 2, 3}) {
                check(ref, threads, new VectorKernels());
            }
        }
    }

    @Test
    void scalarFallbackMatchesPyTorchFloat32() {
        for (Path ref : new Path[] {odd, erf}) {
            check(ref, 2, new ScalarKernels());
        }
    }

    private static double[][] outputs(BertEncoder e, Batch b) {
        BertEncoder.Output o = e.forward(b, true, null);
        return new double[][] {o.startLogits(), o.endLogits(), o.lastHidden()};
    }

    @Test
    void reusedWorkspacesAndThreadCountsGiveBitIdenticalOutputs() {
        // Each output element is computed by one task in a fixed order, so neither the thread count nor the
        // buffers left over from a pass of another shape may change a single bit.
        Batch a = ReferenceFile.read(odd).batch(), b = ReferenceFile.read(full).batch(), c = ReferenceFile.read(one).batch();
        LoadedModel m = model(odd);
        double[][] first;
        try (BertEncoder e = new BertEncoder(m.weights(), new CpuBackend(1, new VectorKernels()))) {
            first = outputs(e, a);
        }
        try (BertEncoder e = new BertEncoder(m.weights(), new CpuBackend(3, new VectorKernels()))) {
            outputs(e, b);
            ((CpuBackend) e.backend()).poison();
            outputs(e, c);
            ((CpuBackend) e.backend()).poison();
            double[][] again = outputs(e, a);
            for (int i = 0; i < first.length; i++) assertArrayEquals(first[i], again[i], 0.0, "output " + i);
        }
    }

    @Test
    void fineAndCoarseTaskSplitsGiveBitIdenticalOutputs() {
        // CpuBackend.fineTasks cuts small products into single panels and single row blocks; the coarse split into
        // groups of them must give the same bits (the same FMA chain per output), with every output written: the
        // workspace is poisoned with NaN before each fine pass. Shapes: 3 × 37 (111 rows, panels-first at every
        // K = 288 product), one token, 20 tokens (4 row blocks: panels only), 160 tokens (27 blocks, rows shared out).
        LoadedModel m = model(odd);
        Batch[] batches = {ReferenceFile.read(odd).batch(), ReferenceFile.read(one).batch(), tokens(20), tokens(160)};
        boolean before = CpuBackend.fineTasks;
        try (BertEncoder e = new BertEncoder(m.weights(), new CpuBackend(2, new VectorKernels()))) {
            for (Batch b : batches) {
                CpuBackend.fineTasks = false;
                double[][] coarse = outputs(e, b);
                ((CpuBackend) e.backend()).poison();
                CpuBackend.fineTasks = true;
                double[][] fine = outputs(e, b);
                for (int i = 0; i < coarse.length; i++) {
                    assertArrayEquals(coarse[i], fine[i], 0.0, b.size() + " x " + b.seqLen() + ", output " + i);
                }
            }
        } finally {
            CpuBackend.fineTasks = before;
        }
    }

    /** One sequence of {@code n} real tokens, ids from a fixed seed. */
    private static Batch tokens(int n) {
        java.util.Random r = new java.util.Random(n);
        int[] ids = new int[n], types = new int[n], mask = new int[n];
        for (int i = 0; i < n; i++) {
            ids[i] = 1000 + r.nextInt(20000);
            mask[i] = 1;
        }
        return new Batch(1, n, ids, types, mask);
    }
}
