package bertj.backend.cpu;

import bertj.backend.Backend;
import bertj.backend.Batch;
import bertj.readers.Tensor;
import jdk.incubator.vector.FloatVector;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * JMH microbenchmarks of the cpu backend's ops at 4L-288D shapes, on 1 thread and on all cores, and of the
 * CPU's own FMA peak (12 independent chains of vector FMAs in registers, the most the core can issue), so that
 * every op is reported as GFLOP/s and as a fraction of the peak measured on the same machine in the same run.
 *
 * <pre>
 *   scripts/bench-cpu.sh --jmh            (or, after mvn -Pbench test-compile: java ... bertj.backend.cpu.KernelBench [regex])
 * </pre>
 * Not a test: nothing here fails on speed.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 4, time = 1)
@Measurement(iterations = 6, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xmx4g"})
public class KernelBench {

    /** Threads: 1, or 0 for all cores. */
    @Param({"1", "0"})
    public int threads;

    /** Linear layer rows×in→out; attention batch×seq; LayerNorm rows. */
    @Param({"384x288x288", "384x288x1152", "384x1152x288", "3072x288x1152"})
    public String linear;

    @Param({"1x128", "1x384", "8x384"})
    public String attention;

    @Param({"384", "3072"})
    public int layerNormRows;

    private CpuBackend be;
    private Batch batch, lnBatch;
    private Backend.Matrix x, qkv, lnX, lnR;
    private Backend.Param lin, gamma, beta;

    private static float[] normal(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
        return a;
    }

    @Setup(Level.Trial)
    public void setup() {
        Random r = new Random(42);
        CpuBackend.endColdStart(); // the vector kernels are timed, never the cold start's twin
        be = new CpuBackend(threads);
        String[] l = linear.split("x");
        int rows = Integer.parseInt(l[0]), in = Integer.parseInt(l[1]), out = Integer.parseInt(l[2]);
        x = CpuBackend.wrap(rows, in, normal(r, rows * in));
        float[] w = normal(r, out * in);
        for (int i = 0; i < w.length; i++) w[i] /= (float) Math.sqrt(in);
        lin = be.pack(out, in, w, normal(r, out));
        String[] a = attention.split("x");
        int b = Integer.parseInt(a[0]), s = Integer.parseInt(a[1]), tokens = b * s;
        int[] ones = new int[tokens];
        java.util.Arrays.fill(ones, 1);
        batch = new Batch(b, s, new int[tokens], new int[tokens], ones);
        qkv = CpuBackend.wrap(tokens, 3 * 288, normal(r, tokens * 3 * 288)); // q | k | v side by side
        int[] lnOnes = new int[layerNormRows];
        java.util.Arrays.fill(lnOnes, 1);
        lnBatch = new Batch(1, layerNormRows, new int[layerNormRows], new int[layerNormRows], lnOnes);
        lnX = CpuBackend.wrap(layerNormRows, 288, normal(r, layerNormRows * 288));
        lnR = CpuBackend.wrap(layerNormRows, 288, normal(r, layerNormRows * 288));
        float[] g = normal(r, 288);
        gamma = be.vector(Tensor.ofFloats(new int[] {288}, g));
        beta = be.vector(Tensor.ofFloats(new int[] {288}, normal(r, 288)));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        be.close();
    }

    @Benchmark
    public Object linearBias() {
        be.begin(batch);
        Object y = be.linear(x, lin, Backend.Epilogue.NONE);
        be.end();
        return y;
    }

    @Benchmark
    public Object linearBiasGeluTanh() {
        be.begin(batch);
        Object y = be.linear(x, lin, Backend.Epilogue.GELU_TANH);
        be.end();
        return y;
    }

    @Benchmark
    public Object attention12x24() {
        be.begin(batch);
        Object y = be.attention(batch, qkv, 12);
        be.end();
        return y;
    }

    @Benchmark
    public Object addLayerNorm288() {
        be.begin(lnBatch);
        Object y = be.addLayerNorm(lnX, lnR, gamma, beta, 1e-12);
        be.end();
        return y;
    }

    /** Register-resident FMAs on every worker: the issue rate of the FMA units. One op = 2²⁰ FMAs per thread. */
    @Benchmark
    public float fmaPeak() {
        float[] sink = new float[be.threads()];
        be.pool().run(be.threads(), (task, worker) -> sink[task] = fmaChains(1 << 16));
        return sink[0];
    }

    static final int FMA_CHAINS = 12;

    /** 12 independent FMA chains × iterations; 12 · VL · 2 · iterations flops. */
    static float fmaChains(int iterations) {
        var s = VectorKernels.F;
        FloatVector x = FloatVector.broadcast(s, 0.999999f), y = FloatVector.broadcast(s, 1e-6f);
        FloatVector a0 = FloatVector.broadcast(s, 1f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0,
                a9 = a0, a10 = a0, a11 = a0;
        for (int i = 0; i < iterations; i++) {
            a0 = a0.fma(x, y); a1 = a1.fma(x, y); a2 = a2.fma(x, y); a3 = a3.fma(x, y);
            a4 = a4.fma(x, y); a5 = a5.fma(x, y); a6 = a6.fma(x, y); a7 = a7.fma(x, y);
            a8 = a8.fma(x, y); a9 = a9.fma(x, y); a10 = a10.fma(x, y); a11 = a11.fma(x, y);
        }
        return a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).add(a8).add(a9).add(a10).add(a11).lane(0);
    }

    // ---------------------------------------------------------------- runner: JMH, then GFLOP/s and % of peak

    private static double flops(String bench, Map<String, String> p) {
        switch (bench) {
            case "linearBias", "linearBiasGeluTanh" -> {
                String[] l = p.get("linear").split("x");
                return 2.0 * Double.parseDouble(l[0]) * Double.parseDouble(l[1]) * Double.parseDouble(l[2]);
            }
            case "attention12x24" -> {
                String[] a = p.get("attention").split("x");
                double b = Double.parseDouble(a[0]), s = Double.parseDouble(a[1]);
                return 2.0 * 2 * b * s * s * 288; // q·kᵀ and p·v, each 2·S²·d per (sequence, head)
            }
            case "addLayerNorm288" -> {
                return 8.0 * Double.parseDouble(p.get("layerNormRows")) * 288; // ~8 flops per element
            }
            case "fmaPeak" -> {
                int t = Integer.parseInt(p.get("threads"));
                if (t == 0) t = Runtime.getRuntime().availableProcessors();
                return (double) t * FMA_CHAINS * VectorKernels.VL * 2 * (1 << 16);
            }
            default -> throw new IllegalArgumentException(bench);
        }
    }

    public static void main(String[] args) throws Exception {
        // Each benchmark varies only the parameter it uses.
        List<RunResult> results = new ArrayList<>();
        String[][] runs = {
                {"fmaPeak", "linear=384x288x288", "attention=1x128", "layerNormRows=384"},
                {"linearBias", "attention=1x128", "layerNormRows=384"},
                {"linearBiasGeluTanh", "linear=384x288x1152", "attention=1x128", "layerNormRows=384"},
                {"attention12x24", "linear=384x288x288", "layerNormRows=384"},
                {"addLayerNorm288", "linear=384x288x288", "attention=1x128"},
        };
        for (String[] run : runs) {
            if (args.length > 0 && !run[0].matches(".*" + args[0] + ".*")) continue;
            ChainedOptionsBuilder o = new OptionsBuilder().include(KernelBench.class.getName() + "\\." + run[0] + "$");
            for (int i = 1; i < run.length; i++) {
                String[] kv = run[i].split("=");
                o.param(kv[0], kv[1]);
            }
            // the cpu backend's switches (-Dbertj.cpu.mr=4, -Dbertj.cpu.panelVectors=2, -Dbertj.cpu.panelsFirst=false,
            // -Dbertj.cpu.vectorBits=…) reach the forked JVMs
            List<String> jvm = new ArrayList<>(List.of("--add-modules=jdk.incubator.vector", "-Xmx4g"));
            for (String key : System.getProperties().stringPropertyNames()) {
                if (key.startsWith("bertj.cpu.")) jvm.add("-D" + key + "=" + System.getProperty(key));
            }
            if (System.getProperty("bertj.bench.threads") != null) o.param("threads", System.getProperty("bertj.bench.threads"));
            o.jvmArgsAppend(jvm.toArray(String[]::new));
            Collection<RunResult> r = new Runner(o.build()).run();
            results.addAll(r);
        }
        Map<Integer, Double> peak = new HashMap<>();
        StringBuilder table = new StringBuilder();
        int cores = Runtime.getRuntime().availableProcessors();
        for (RunResult r : results) {
            var params = r.getParams();
            String bench = params.getBenchmark().substring(params.getBenchmark().lastIndexOf('.') + 1);
            Map<String, String> p = new HashMap<>();
            for (String key : params.getParamsKeys()) p.put(key, params.getParam(key));
            int t = Integer.parseInt(p.get("threads"));
            if (t == 0) t = cores;
            double us = r.getPrimaryResult().getScore(), err = r.getPrimaryResult().getScoreError();
            double gflops = flops(bench, p) / (us * 1e3);
            if (bench.equals("fmaPeak")) peak.put(t, gflops);
            String shape = switch (bench) {
                case "linearBias", "linearBiasGeluTanh" -> p.get("linear");
                case "attention12x24" -> p.get("attention");
                case "addLayerNorm288" -> p.get("layerNormRows") + "x288";
                default -> "";
            };
            Double pk = peak.get(t);
            String note = bench.equals("addLayerNorm288")
                    // LayerNorm is bound by memory, not FMAs: x and the residual read, y written (and re-read from L1)
                    ? String.format(Locale.ROOT, "   (%.1f GB/s moved: x, r in, y out)", 3.0 * 4 * Double.parseDouble(p.get("layerNormRows")) * 288 / (us * 1e3))
                    : "";
            table.append(String.format(Locale.ROOT, "%-20s %-14s %2d  %10.1f ± %-8.1f %8.1f   %s%s%n", bench, shape, t, us, err, gflops,
                    pk == null ? "" : String.format(Locale.ROOT, "%5.1f%%", 100 * gflops / pk), note));
        }
        String cpu = Files.exists(Path.of("/proc/cpuinfo"))
                ? Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(s -> s.startsWith("model name")).findFirst().orElse("")
                : "";
        System.out.println();
        System.out.println("CPU: " + cpu.replaceFirst("model name\\s*:\\s*", "") + ", " + cores + " cores, vector " + VectorKernels.VL + " floats");
        System.out.printf(Locale.ROOT, "%-20s %-14s %2s  %21s %8s   %s%n", "benchmark", "shape", "T", "µs/op", "GFLOP/s", "of FMA peak");
        System.out.print(table);
        peak.forEach((t, g) -> System.out.printf(Locale.ROOT, "measured FMA peak, %d thread(s): %.1f GFLOP/s%n", t, g));
    }
}
