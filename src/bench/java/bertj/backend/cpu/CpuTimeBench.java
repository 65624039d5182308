package bertj.backend.cpu;

import bertj.backend.Backend;
import bertj.backend.Batch;
import bertj.readers.Tensor;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * The cpu backend's ops on one thread, timed by the thread's own CPU time rather than the wall clock, each
 * reported as GFLOP/s per CPU second and as a fraction of the FMA peak measured the same way in the same run.
 * On a machine shared with other busy processes the wall clock of one op says mostly how often the thread lost
 * its core; its CPU time does not (what remains is other processes' pressure on the shared L3 and memory).
 * So this is the figure to compare kernel variants by on a busy machine; {@link KernelBench} (JMH, wall clock,
 * 1 and all threads) is the one to quote on a quiet one.
 *
 * <pre>
 *   java --add-modules jdk.incubator.vector -cp ... bertj.backend.cpu.CpuTimeBench [repeats] [filter]
 * </pre>
 * Not a test: nothing here fails on speed.
 */
public final class CpuTimeBench {
    private static final ThreadMXBean MX = ManagementFactory.getThreadMXBean();

    private interface Op {
        void run();
    }

    private record Case(String name, double flops, Op op) {
    }

    private static float[] normal(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
        return a;
    }

    /** Calls of {@code op} that take about 20 ms of CPU time (after a warm-up). */
    private static int calibrate(Op op) {
        for (int i = 0; i < 20; i++) op.run();
        long t0 = MX.getCurrentThreadCpuTime();
        int calls = 0;
        while (MX.getCurrentThreadCpuTime() - t0 < 20_000_000L) {
            op.run();
            calls++;
        }
        return calls;
    }

    /** CPU nanoseconds per call over {@code calls} calls. */
    private static double cpuNanos(Op op, int calls) {
        long a = MX.getCurrentThreadCpuTime();
        for (int i = 0; i < calls; i++) op.run();
        return (MX.getCurrentThreadCpuTime() - a) / (double) calls;
    }

    public static void main(String[] args) {
        int repeats = args.length > 0 ? Integer.parseInt(args[0]) : 7;
        String filter = args.length > 1 ? args[1] : "";
        Random r = new Random(42);
        CpuBackend be = new CpuBackend(1);
        List<Case> cases = new ArrayList<>();
        float[] sink = new float[1];
        int iters = 1 << 14;
        cases.add(new Case("fma peak (12 chains)", (double) KernelBench.FMA_CHAINS * VectorKernels.VL * 2 * iters,
                () -> sink[0] += KernelBench.fmaChains(iters)));
        for (String shape : new String[] {"384x288x864", "384x288x288", "384x288x1152", "384x1152x288", "128x288x864", "3072x288x1152", "2048x384x1152", "2048x384x1536", "2048x1536x384"}) {
            String[] l = shape.split("x");
            int rows = Integer.parseInt(l[0]), in = Integer.parseInt(l[1]), out = Integer.parseInt(l[2]);
            Backend.Matrix x = CpuBackend.wrap(rows, in, normal(r, rows * in));
            float[] w = normal(r, out * in);
            for (int i = 0; i < w.length; i++) w[i] /= (float) Math.sqrt(in);
            Backend.Param lin = be.pack(out, in, w, normal(r, out));
            Batch b = ones(1, rows);
            double f = 2.0 * rows * in * out;
            cases.add(new Case("linear " + shape, f, () -> pass(be, b, () -> be.linear(x, lin, Backend.Epilogue.NONE))));
            if (out > in) {
                cases.add(new Case("linear+gelu tanh " + shape, f, () -> pass(be, b, () -> be.linear(x, lin, Backend.Epilogue.GELU_TANH))));
                cases.add(new Case("linear+gelu erf " + shape, f, () -> pass(be, b, () -> be.linear(x, lin, Backend.Epilogue.GELU_ERF))));
            }
            if (out == 288) {
                Backend.Matrix res = CpuBackend.wrap(rows, out, normal(r, rows * out));
                Backend.Param g = be.vector(Tensor.ofFloats(new int[] {288}, normal(r, 288)));
                Backend.Param beta = be.vector(Tensor.ofFloats(new int[] {288}, normal(r, 288)));
                cases.add(new Case("linear+add+LN " + shape, f,
                        () -> pass(be, b, () -> be.linearAddLayerNorm(x, lin, res, g, beta, 1e-12))));
            }
        }
        for (String shape : new String[] {"1x128", "1x384", "8x384"}) {
            String[] a = shape.split("x");
            int bs = Integer.parseInt(a[0]), s = Integer.parseInt(a[1]), tokens = bs * s;
            Batch b = ones(bs, s);
            Backend.Matrix qkv = CpuBackend.wrap(tokens, 3 * 288, normal(r, tokens * 3 * 288));
            cases.add(new Case("attention 12x24 " + shape, 4.0 * bs * s * s * 288, () -> pass(be, b, () -> be.attention(b, qkv, 12))));
        }
        {
            int rows = 384;
            Backend.Matrix x = CpuBackend.wrap(rows, 288, normal(r, rows * 288)), res = CpuBackend.wrap(rows, 288, normal(r, rows * 288));
            Backend.Param g = be.vector(Tensor.ofFloats(new int[] {288}, normal(r, 288)));
            Backend.Param beta = be.vector(Tensor.ofFloats(new int[] {288}, normal(r, 288)));
            Batch b = ones(1, rows);
            cases.add(new Case("add+LayerNorm 384x288", 8.0 * rows * 288, () -> pass(be, b, () -> be.addLayerNorm(x, res, g, beta, 1e-12))));
        }
        // Rounds: every case once per round, so that load that comes and goes touches all of them alike; the
        // median over rounds per case.
        List<Case> run = cases.stream().filter(c -> c.name().startsWith("fma") || c.name().contains(filter)).toList();
        int[] calls = run.stream().mapToInt(c -> calibrate(c.op())).toArray();
        double[][] ns = new double[run.size()][repeats];
        for (int round = 0; round < repeats; round++) {
            for (int i = 0; i < run.size(); i++) ns[i][round] = cpuNanos(run.get(i).op(), calls[i]);
        }
        System.out.println("CPU time per op, 1 thread, " + be.kernels() + ", median of " + repeats + " interleaved rounds");
        double peak = 0;
        for (int i = 0; i < run.size(); i++) {
            Case c = run.get(i);
            double[] v = ns[i].clone();
            Arrays.sort(v);
            double med = v[repeats / 2], gf = c.flops() / med;
            if (c.name().startsWith("fma")) peak = gf;
            // An epilogue's cost as the median over rounds of (this case / the plain linear layer of its shape),
            // both timed in the same round: robust to load that changes from round to round.
            String extra = "";
            int base = -1;
            String shape = c.name().substring(c.name().lastIndexOf(' ') + 1);
            for (int k = 0; k < run.size(); k++) if (run.get(k).name().equals("linear " + shape)) base = k;
            if (base >= 0 && base != i) {
                double[] ratio = new double[repeats];
                for (int round = 0; round < repeats; round++) ratio[round] = ns[i][round] / ns[base][round];
                Arrays.sort(ratio);
                extra = String.format(Locale.ROOT, "   %.3f x the plain linear layer", ratio[repeats / 2]);
            }
            System.out.printf(Locale.ROOT, "%-34s %10.1f µs %8.1f GFLOP/s %6.1f%%   (rounds %.0f..%.0f µs)%s%n", c.name(), med / 1e3, gf,
                    100 * gf / peak, v[0] / 1e3, v[repeats - 1] / 1e3, extra);
        }
        be.close();
        if (sink[0] == 42) System.out.println();
    }

    private static Batch ones(int b, int s) {
        int[] m = new int[b * s];
        Arrays.fill(m, 1);
        return new Batch(b, s, new int[b * s], new int[b * s], m);
    }

    private static void pass(CpuBackend be, Batch b, Op op) {
        be.begin(b);
        try {
            op.run();
        } finally {
            be.end();
        }
    }
}
