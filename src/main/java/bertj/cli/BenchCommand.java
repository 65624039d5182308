package bertj.cli;

import bertj.backend.Backend;
import bertj.backend.Batch;
import bertj.backend.cpu.CpuBackend;
import bertj.backend.opencl.OpenClBackend;
import bertj.encoder.BertEncoder;
import bertj.model.BertConfig;
import bertj.model.LoadedModel;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;

@Command(name = "bench", description = {
        "Time the forward pass on random inputs: warm-up runs, then the median of timed runs.",
        "Inputs: random valid token ids and types, every row full length (no padding).",
        "JSON fields: backend, batch, seq, threads, seq_per_s, ms_per_batch_median (and more; opencl adds kernels,",
        "kernels_reason, launches_per_pass, host_us_per_launch, kernel_args_set_per_pass).",
        "threads: the cpu backend's pool; 1 for reference (single-threaded) and for opencl, whose kernels run on the device named in \"device\"."})
public final class BenchCommand implements Callable<Integer> {
    @Mixin
    EncoderOptions setup;
    @Option(names = "--batch", paramLabel = "N", defaultValue = "1", description = "Sequences per batch (default 1).")
    int batch;
    @Option(names = "--seq", paramLabel = "S", defaultValue = "128", description = "Tokens per sequence (default 128).")
    int seq;
    @Option(names = "--warmup", paramLabel = "W", defaultValue = "5", description = "Untimed runs first (default 5).")
    int warmup;
    @Option(names = "--runs", paramLabel = "R", defaultValue = "15", description = "Timed runs; the median is reported (default 15).")
    int runs;
    @Option(names = "--seed", paramLabel = "N", defaultValue = "1", description = "Seed of the random inputs (default 1).")
    long seed;
    @Option(names = "--profile", description = "Also report the time spent in each kind of op (exact for reference and cpu).")
    boolean profile;
    @Option(names = "--json", description = "Print JSON.")
    boolean json;
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        CommandLine cl = spec.commandLine();
        if (batch < 1) throw new CommandLine.ParameterException(cl, "--batch must be at least 1");
        if (seq < 1) throw new CommandLine.ParameterException(cl, "--seq must be at least 1");
        if (warmup < 0) throw new CommandLine.ParameterException(cl, "--warmup must be 0 or more");
        if (runs < 1) throw new CommandLine.ParameterException(cl, "--runs must be at least 1");
        setup.check(cl);
        LoadedModel loaded = setup.load();
        BertConfig config = loaded.config();
        if (seq > config.maxPositions()) {
            throw new CommandLine.ParameterException(cl, "--seq " + seq + " exceeds the model's " + config.maxPositions() + " positions");
        }
        Batch input = randomBatch(config, batch, seq, seed);
        Backend be = setup.backend();
        // bench times the vector kernels warm: no pass of it runs on the cpu backend's cold-start twin
        bertj.backend.cpu.CpuBackend.endColdStart();
        OpTimer timer = profile ? new OpTimer(be) : null;
        double[] ms = new double[runs];
        Map<String, long[]> ops;
        double workspaceMb = -1;
        OpenClBackend ocl = be instanceof OpenClBackend o ? o : null;
        long[] launches = null;
        try (BertEncoder encoder = new BertEncoder(loaded.weights(), timer != null ? timer : be)) {
            for (int i = 0; i < warmup; i++) encoder.forward(input);
            if (timer != null) timer.reset();
            if (ocl != null) ocl.resetLaunchStats();
            for (int i = 0; i < runs; i++) {
                long t0 = System.nanoTime();
                encoder.forward(input);
                ms[i] = (System.nanoTime() - t0) / 1e6;
            }
            ops = timer != null ? timer.totals() : null;
            if (be instanceof CpuBackend c) workspaceMb = c.workspaceBytes() / 1048576.0;
            if (ocl != null) launches = ocl.launchStats();
        }
        double[] sorted = ms.clone();
        Arrays.sort(sorted);
        double median = runs % 2 == 1 ? sorted[runs / 2] : (sorted[runs / 2 - 1] + sorted[runs / 2]) / 2;
        // The threads the backend computes on: the cpu backend's pool; the reference backend is single-threaded; the
        // opencl backend's host thread only enqueues, its kernels run on the device (named in "device").
        int threads = be instanceof CpuBackend c ? c.threads() : 1;
        String device = be instanceof OpenClBackend o ? o.device().label() : null;
        double gflop = flops(config, loaded.weights().hasQaHead(), batch, seq) / 1e9;
        double seqPerS = batch / (median / 1e3);

        Memory mem = Memory.now();
        PrintWriter out = cl.getOut();
        if (json) {
            ObjectNode root = Json.object();
            root.put("backend", be.name());
            root.put("batch", batch);
            root.put("seq", seq);
            root.put("threads", threads);
            if (device != null) root.put("device", device);
            root.put("seq_per_s", seqPerS);
            root.put("ms_per_batch_median", median);
            root.put("ms_per_batch_min", sorted[0]);
            root.put("ms_per_batch_max", sorted[runs - 1]);
            root.put("warmup", warmup);
            root.put("runs", runs);
            root.put("precision", be.precision());
            if (be instanceof CpuBackend c) root.put("kernels", c.kernels());
            if (ocl != null) {
                root.put("kernels", ocl.kernels());
                root.put("kernels_reason", ocl.kernelsReason());
                root.put("device", ocl.device().label());
                root.put("launches_per_pass", (double) launches[0] / runs);
                root.put("host_us_per_launch", launches[0] == 0 ? 0 : launches[1] / 1e3 / launches[0]);
                root.put("kernel_args_set_per_pass", (double) launches[2] / runs);
            }
            root.put("gflop_per_batch", gflop);
            root.put("gflop_per_s", gflop / (median / 1e3));
            root.put("model", loaded.source().toString());
            root.put("peak_heap_mb", mem.peakHeapMb());
            if (workspaceMb >= 0) root.put("workspace_mb", workspaceMb);
            if (mem.peakRssMb() >= 0) root.put("peak_rss_mb", mem.peakRssMb());
            if (ops != null) {
                ObjectNode o = root.putObject("ms_per_batch_by_op");
                ops.forEach((name, v) -> o.put(name, v[0] / 1e6 / runs));
            }
            out.println(Json.write(root));
        } else {
            out.printf("%s (%s%s), %s, batch %d x seq %d: %d warm-up + %d timed runs%n", be.name(), be.precision(),
                    be instanceof CpuBackend c ? ", " + c.kernels() : "", device != null ? "device " + device
                            : threads + (threads == 1 ? " thread" : " threads"), batch, seq, warmup, runs);
            out.printf("  %.1f seq/s   median %.2f ms per batch (min %.2f, max %.2f)   %.1f GFLOP/s%n", seqPerS, median,
                    sorted[0], sorted[runs - 1], gflop / (median / 1e3));
            out.printf("  peak heap %.0f MB%s%s%n", mem.peakHeapMb(), mem.peakRssMb() >= 0 ? String.format(", peak RSS %.0f MB", mem.peakRssMb()) : "",
                    workspaceMb >= 0 ? String.format(", activation workspace %.0f MB", workspaceMb) : "");
            if (ocl != null) {
                out.printf("  kernels %s (%s)%n", ocl.kernels(), ocl.kernelsReason());
                out.printf("  %.0f launches per pass, %.1f us of host time per launch, %.0f kernel arguments set per pass%n",
                        (double) launches[0] / runs, launches[0] == 0 ? 0 : launches[1] / 1e3 / launches[0], (double) launches[2] / runs);
            }
            if (ops != null) {
                double total = ops.values().stream().mapToLong(v -> v[0]).sum() / 1e6 / runs;
                out.printf("  %-28s %10s %7s %8s%n", "op", "ms/batch", "share", "calls");
                ops.forEach((name, v) -> out.printf("  %-28s %10.3f %6.1f%% %8d%n", name, v[0] / 1e6 / runs,
                        100 * v[0] / 1e6 / runs / total, v[1] / runs));
            }
        }
        return 0;
    }

    /** Full-length rows of random ids in [0, vocab) and random token types. */
    static Batch randomBatch(BertConfig config, int batch, int seq, long seed) {
        Random r = new Random(seed);
        int n = batch * seq;
        int[] ids = new int[n], types = new int[n], mask = new int[n];
        for (int i = 0; i < n; i++) {
            ids[i] = r.nextInt(config.vocabSize());
            types[i] = r.nextInt(config.typeVocabSize());
            mask[i] = 1;
        }
        return new Batch(batch, seq, ids, types, mask);
    }

    /**
     * Multiply-adds × 2 of one forward pass: per token and layer 2·H·3H (q, k, v) + 2·H·H (attention output)
     * + 2·2·H·I (feed-forward) + 2·2·S·H (scores and context), plus 2·H·2 for the QA head. 4L-288D at
     * seq 384: 3.74 GFLOP per sequence.
     */
    static double flops(BertConfig c, boolean qaHead, int batch, int seq) {
        double h = c.hiddenSize(), i = c.intermediateSize();
        double perToken = c.numLayers() * (8 * h * h + 4 * h * i + 4.0 * seq * h) + (qaHead ? 4 * h : 0);
        return perToken * batch * seq;
    }
}
