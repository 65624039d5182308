package bertj.bench;

import bertj.backend.Backend;
import bertj.backend.Batch;
import bertj.backend.cpu.CpuBackend;
import bertj.encoder.BertEncoder;
import bertj.model.BertWeights;
import bertj.model.LoadedModel;
import bertj.model.ModelLoader;
import bertj.readers.Tensor;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Where a forward pass's time goes, by the calling thread's CPU time per op on a one-thread cpu backend (all work
 * then runs on that thread), so that the profile means something on a machine other processes keep busy, where
 * wall-clock time mostly says how often the thread lost its core. Each op's share of the pass, its GFLOP/s per
 * CPU second and the fraction of the one-core FMA peak measured the same way. Median of the passes.
 *
 * <pre>
 *   java ... bertj.bench.CpuProfile MODEL [batch] [seq] [passes]
 * </pre>
 * Not a test.
 */
public final class CpuProfile {
    private static final ThreadMXBean MX = ManagementFactory.getThreadMXBean();

    /** Passes every call to a backend, adding the calling thread's CPU time to the op's total. */
    static final class Timed implements Backend {
        final Backend inner;
        final Map<Param, String> names = new IdentityHashMap<>();
        final Map<String, long[]> nanos = new LinkedHashMap<>();
        final Map<String, Double> flops = new LinkedHashMap<>();
        int seq;

        Timed(Backend inner) {
            this.inner = inner;
        }

        private <T> T time(String name, double f, java.util.function.Supplier<T> op) {
            long t0 = MX.getCurrentThreadCpuTime();
            T r = op.get();
            nanos.computeIfAbsent(name, k -> new long[1])[0] += MX.getCurrentThreadCpuTime() - t0;
            flops.merge(name, f, Double::sum);
            return r;
        }

        public String name() {
            return inner.name();
        }

        public String precision() {
            return inner.precision();
        }

        public Param linear(BertWeights.Linear w) {
            Param p = inner.linear(w);
            names.put(p, "linear " + w.in() + "→" + w.out());
            flops.put("dims " + names.get(p), (double) w.in() * w.out());
            return p;
        }

        public Param vector(Tensor v) {
            return inner.vector(v);
        }

        public Param table(Tensor v) {
            return inner.table(v);
        }

        public void begin(Batch b) {
            seq = b.seqLen();
            inner.begin(b);
        }

        public void end() {
            inner.end();
        }

        public void release(Matrix m) {
            inner.release(m);
        }

        public Matrix embed(Batch b, Param w, Param p, Param t, Param g, Param be, double eps) {
            return time("embeddings + LayerNorm", 0, () -> inner.embed(b, w, p, t, g, be, eps));
        }

        public Matrix linear(Matrix x, Param l, Epilogue e) {
            String n = names.get(l) + (e == Epilogue.NONE ? "" : " + GELU");
            return time(n, 2.0 * x.rows() * flops.get("dims " + names.get(l)), () -> inner.linear(x, l, e));
        }

        public Matrix attention(Batch b, Matrix qkv, int heads) {
            return time("attention", 4.0 * b.tokens() * b.seqLen() * (qkv.cols() / 3), () -> inner.attention(b, qkv, heads));
        }

        public Matrix attentionProbs(Batch b, Matrix qkv, int heads) {
            return inner.attentionProbs(b, qkv, heads);
        }

        public Matrix addLayerNorm(Matrix x, Matrix r, Param g, Param b, double eps) {
            return time("add + LayerNorm", 0, () -> inner.addLayerNorm(x, r, g, b, eps));
        }

        public Matrix linearAddLayerNorm(Matrix x, Param l, Matrix r, Param g, Param b, double eps) {
            return time(names.get(l) + " + add + LayerNorm", 2.0 * x.rows() * flops.get("dims " + names.get(l)),
                    () -> inner.linearAddLayerNorm(x, l, r, g, b, eps));
        }

        public double[] read(Matrix m) {
            return time("read to host", 0, () -> inner.read(m));
        }

        public void close() {
            inner.close();
        }
    }

    public static void main(String[] args) {
        LoadedModel m = ModelLoader.load(Path.of(args[0]));
        int b = args.length > 1 ? Integer.parseInt(args[1]) : 1, s = args.length > 2 ? Integer.parseInt(args[2]) : 384;
        int passes = args.length > 3 ? Integer.parseInt(args[3]) : 15;
        double peak = bertj.backend.cpu.FmaPeak.cpuTimeGflops(20);
        CpuBackend.endColdStart(); // warm kernels are timed here, never the cold start's twin
        Timed t = new Timed(new CpuBackend(1));
        java.util.Random r = new java.util.Random(1);
        int[] ids = new int[b * s], types = new int[b * s], mask = new int[b * s];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = r.nextInt(Math.min(30522, m.config().vocabSize()));
            mask[i] = 1;
        }
        Batch batch = new Batch(b, s, ids, types, mask);
        try (BertEncoder e = new BertEncoder(m.weights(), t)) {
            for (int i = 0; i < 5; i++) e.forward(batch);
            Map<String, double[]> per = new LinkedHashMap<>();
            double[] total = new double[passes];
            for (int p = 0; p < passes; p++) {
                t.nanos.clear();
                e.forward(batch);
                for (var en : t.nanos.entrySet()) {
                    per.computeIfAbsent(en.getKey(), k -> new double[passes])[p] = en.getValue()[0] / 1e6;
                    total[p] += en.getValue()[0] / 1e6;
                }
            }
            // flops per pass of each op: what one pass added
            t.flops.replaceAll((k, v) -> k.startsWith("dims ") ? v : v / (passes + 5));
            double tot = median(total);
            System.out.printf(Locale.ROOT, "%s, 1 thread, %s, batch %d x seq %d: CPU ms per pass, median of %d; one-core FMA peak %.1f GFLOP/s%n",
                    args[0], ((CpuBackend) t.inner).kernels(), b, s, passes, peak);
            System.out.printf("%-36s %9s %7s %9s %8s%n", "op (all layers)", "ms", "share", "GFLOP/s", "of peak");
            for (var en : per.entrySet()) {
                double ms = median(en.getValue()), f = t.flops.getOrDefault(en.getKey(), 0.0);
                System.out.printf(Locale.ROOT, "%-36s %9.2f %6.1f%% %9s %8s%n", en.getKey(), ms, 100 * ms / tot,
                        f > 0 ? String.format(Locale.ROOT, "%.1f", f / ms / 1e6) : "", f > 0 ? String.format(Locale.ROOT, "%.0f%%", 100 * f / ms / 1e6 / peak) : "");
            }
            double all = t.flops.entrySet().stream().filter(x -> !x.getKey().startsWith("dims ")).mapToDouble(Map.Entry::getValue).sum();
            System.out.printf(Locale.ROOT, "%-36s %9.2f %6.1f%% %9.1f %7.0f%%%n", "total", tot, 100.0, all / tot / 1e6, 100 * all / tot / 1e6 / peak);
        }
    }

    static double median(double[] v) {
        double[] c = v.clone();
        Arrays.sort(c);
        return c.length % 2 == 1 ? c[c.length / 2] : (c[c.length / 2 - 1] + c[c.length / 2]) / 2;
    }
}
