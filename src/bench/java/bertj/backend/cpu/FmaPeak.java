package bertj.backend.cpu;

/**
 * The machine's fp32 FMA peak as the benchmarks quote it: every thread of a cpu backend's worker pool runs 12
 * independent chains of vector FMAs held in registers ({@link KernelBench#fmaChains}), the most its core can
 * issue; GFLOP/s = threads · 12 · VL · 2 · iterations / seconds, the best of a few tries.
 */
public final class FmaPeak {
    private FmaPeak() {
    }

    /** GFLOP/s on {@code threads} threads (0: all cores), best of {@code tries} runs of about 50 ms each. */
    public static double gflops(int threads, int tries) {
        try (CpuBackend be = new CpuBackend(threads)) {
            int t = be.threads(), iterations = 1 << 16;
            float[] sink = new float[t];
            double best = 0;
            for (int k = 0; k < tries + 3; k++) { // the first few warm the JIT up
                long t0 = System.nanoTime();
                for (int rep = 0; rep < 8; rep++) be.pool().run(t, (task, worker) -> sink[task] += KernelBench.fmaChains(iterations));
                double s = (System.nanoTime() - t0) / 1e9;
                if (k >= 3) best = Math.max(best, 8.0 * t * KernelBench.FMA_CHAINS * VectorKernels.VL * 2 * iterations / s / 1e9);
            }
            if (sink[0] == 42) System.out.print("");
            return best;
        }
    }

    /** GFLOP/s of the calling thread by its own CPU time (what a busy machine cannot take from it), best of tries. */
    public static double cpuTimeGflops(int tries) {
        var mx = java.lang.management.ManagementFactory.getThreadMXBean();
        int iterations = 1 << 16;
        float sink = 0;
        double best = 0;
        for (int k = 0; k < tries + 3; k++) {
            long t0 = mx.getCurrentThreadCpuTime();
            for (int rep = 0; rep < 8; rep++) sink += KernelBench.fmaChains(iterations);
            double s = (mx.getCurrentThreadCpuTime() - t0) / 1e9;
            if (k >= 3) best = Math.max(best, 8.0 * KernelBench.FMA_CHAINS * VectorKernels.VL * 2 * iterations / s / 1e9);
        }
        if (sink == 42) System.out.print("");
        return best;
    }

    /** Vector lanes of a float (8 on AVX2, 16 on AVX-512). */
    public static int lanes() {
        return VectorKernels.VL;
    }
}
