package bertj.backend.cpu;

import bertj.backend.Batch;
import bertj.bench.Compare;
import bertj.encoder.BertEncoder;
import bertj.model.LoadedModel;
import bertj.model.ModelLoader;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * The cpu backend's fine task split for small products ({@link CpuBackend#fineTasks}) on and off in alternating
 * blocks of forward passes, in one process with one 2-thread backend, so that the host's swings fall on both
 * alike: wall time per pass (median per block), and the median and quartiles of the per-block speed ratio.
 *
 * <pre>
 *   java ... bertj.backend.cpu.TaskSplitProbe MODEL batch seq [blocks] [threads]
 * </pre>
 * Not a test.
 */
public final class TaskSplitProbe {
    public static void main(String[] args) {
        LoadedModel m = ModelLoader.load(Path.of(args[0]));
        int b = Integer.parseInt(args[1]), s = Integer.parseInt(args[2]);
        int blocks = args.length > 3 ? Integer.parseInt(args[3]) : 20, threads = args.length > 4 ? Integer.parseInt(args[4]) : 2;
        CpuBackend.endColdStart();
        var c = m.config();
        Batch batch = Compare.randomBatch(Math.min(30522, c.vocabSize()), c.typeVocabSize(), b, s, 1);
        long h = c.hiddenSize(), flops = 2L * b * s * c.numLayers() * (4 * h * h + 2 * h * c.intermediateSize());
        int per = (int) Math.max(3, Math.min(200, 0.3 * 100e9 / flops)); // ~0.3 s per block at 100 GFLOP/s
        boolean[] modes = {false, true};
        double[][] t = new double[2][blocks];
        boolean before = CpuBackend.fineTasks;
        try (CpuBackend be = new CpuBackend(threads); BertEncoder e = new BertEncoder(m.weights(), be)) {
            for (int i = 0; i < 3 * per; i++) e.forward(batch);
            for (int k = 0; k < blocks; k++) {
                for (int j = 0; j < 2; j++) {
                    CpuBackend.fineTasks = modes[(j + k) % 2];
                    double[] x = new double[per];
                    for (int i = 0; i < per; i++) {
                        long t0 = System.nanoTime();
                        e.forward(batch);
                        x[i] = (System.nanoTime() - t0) / 1e6;
                    }
                    Arrays.sort(x);
                    t[(j + k) % 2][k] = x[per / 2];
                }
            }
        } finally {
            CpuBackend.fineTasks = before;
        }
        double[] off = t[0].clone(), on = t[1].clone(), ratio = new double[blocks];
        for (int k = 0; k < blocks; k++) ratio[k] = t[0][k] / t[1][k];
        Arrays.sort(off);
        Arrays.sort(on);
        Arrays.sort(ratio);
        System.out.printf("%d x %d, %d threads, %d blocks of %d passes: fine tasks off %.3f ms, on %.3f ms per pass (medians); "
                        + "on / off speed %.3f (quartiles %.3f-%.3f)%n",
                b, s, threads, blocks, per, off[blocks / 2], on[blocks / 2], ratio[blocks / 2], ratio[blocks / 4], ratio[3 * blocks / 4]);
    }
}
