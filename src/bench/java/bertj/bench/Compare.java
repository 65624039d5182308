package bertj.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import bertj.backend.Batch;
import bertj.backend.cpu.CpuBackend;
import bertj.encoder.BertEncoder;
import bertj.model.LoadedModel;
import bertj.model.ModelLoader;
import bertj.readers.SafeTensors;
import bertj.readers.Tensor;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.LongBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * Times bertj's cpu backend, ONNX Runtime (Java API) and PyTorch on the same weights, interleaved in one run:
 * every round visits every shape, and at each shape each engine in turn (the order rotating from round to
 * round) runs one warm-up call and then timed calls for at least {@code --seconds}. Machines here are shared,
 * so what is reported is robust to load that comes and goes: the median call time of each engine at each
 * shape over all rounds, and the median over rounds of the per-round ratio to ONNX Runtime (the two were timed
 * seconds apart), with its range across rounds as the noise.
 *
 * <p>Before timing, the three must agree on the logits of a padded batch (to 1e-3): the same model is timed.
 * Run by scripts/bench-cpu.sh; not a test.
 *
 * <pre>
 * Compare --model M.pt --onnx M.onnx [--threads 2] [--rounds 5] [--seconds 1] [--shapes 1x128,1x384,8x384,32x128]
 *         [--engines bertj,ort,torch] [--python /usr/bin/python3] [--json out.json]
 * </pre>
 */
public final class Compare {

    private interface Engine extends AutoCloseable {
        String name();

        /** Prepares inputs for a shape (not timed). */
        void prepare(int batch, int seq, long seed) throws Exception;

        /** One warm-up call, then timed calls until at least minCalls and seconds; milliseconds per call. */
        double[] time(int minCalls, double seconds) throws Exception;

        /** Start and end logits, flattened, for a given batch. */
        float[][] logits(Batch b) throws Exception;

        @Override
        void close() throws Exception;
    }

    static double[] loop(Runnable call, int minCalls, double seconds) {
        call.run();
        List<Double> ms = new ArrayList<>();
        long start = System.nanoTime();
        while (ms.size() < minCalls || (System.nanoTime() - start) / 1e9 < seconds) {
            long t0 = System.nanoTime();
            call.run();
            ms.add((System.nanoTime() - t0) / 1e6);
        }
        return ms.stream().mapToDouble(Double::doubleValue).toArray();
    }

    /** Full-length rows of random ids in [0, vocab) and random token types in [0, types). */
    public static Batch randomBatch(int vocab, int types, int batch, int seq, long seed) {
        Random r = new Random(seed);
        int n = batch * seq;
        int[] ids = new int[n], tt = new int[n], mask = new int[n];
        for (int i = 0; i < n; i++) {
            ids[i] = r.nextInt(vocab);
            tt[i] = r.nextInt(types);
            mask[i] = 1;
        }
        return new Batch(batch, seq, ids, tt, mask);
    }

    /** bertj's cpu backend, in this JVM. */
    static final class Bertj implements Engine {
        final BertEncoder encoder;
        final LoadedModel model;
        Batch batch;

        Bertj(LoadedModel m, int threads) {
            model = m;
            CpuBackend.endColdStart(); // warm kernels are timed here, never the cold start's twin
            encoder = new BertEncoder(m.weights(), new CpuBackend(threads));
        }

        public String name() {
            return "bertj";
        }

        public void prepare(int b, int s, long seed) {
            batch = randomBatch(Math.min(30522, model.config().vocabSize()), model.config().typeVocabSize(), b, s, seed);
        }

        public double[] time(int minCalls, double seconds) {
            return loop(() -> encoder.forward(batch), minCalls, seconds);
        }

        public float[][] logits(Batch b) {
            BertEncoder.Output o = encoder.forward(b);
            float[][] r = new float[2][o.startLogits().length];
            for (int i = 0; i < r[0].length; i++) {
                r[0][i] = (float) o.startLogits()[i];
                r[1][i] = (float) o.endLogits()[i];
            }
            return r;
        }

        public void close() {
            encoder.close();
        }
    }

    /** ONNX Runtime through its Java API: intra-op threads as given, all graph optimisations. */
    static final class Ort implements Engine {
        final OrtEnvironment env = OrtEnvironment.getEnvironment();
        final OrtSession session;
        final LoadedModel model;
        final String name;
        Map<String, OnnxTensor> inputs;

        Ort(String name, Path onnx, int threads, LoadedModel model, Path optimizedOut) throws Exception {
            this.name = name;
            this.model = model;
            OrtSession.SessionOptions o = new OrtSession.SessionOptions();
            o.setIntraOpNumThreads(threads);
            o.setInterOpNumThreads(1);
            o.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
            o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            if (optimizedOut != null) o.setOptimizedModelFilePath(optimizedOut.toString());
            session = env.createSession(onnx.toString(), o);
        }

        public String name() {
            return name;
        }

        Map<String, OnnxTensor> tensors(Batch b) throws Exception {
            long[] shape = {b.size(), b.seqLen()};
            Map<String, OnnxTensor> m = new LinkedHashMap<>();
            m.put("input_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(Arrays.stream(b.inputIds()).asLongStream().toArray()), shape));
            m.put("token_type_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(Arrays.stream(b.tokenTypeIds()).asLongStream().toArray()), shape));
            m.put("attention_mask", OnnxTensor.createTensor(env, LongBuffer.wrap(Arrays.stream(b.attentionMask()).asLongStream().toArray()), shape));
            return m;
        }

        void release() {
            if (inputs != null) inputs.values().forEach(OnnxTensor::close);
            inputs = null;
        }

        public void prepare(int b, int s, long seed) throws Exception {
            release();
            inputs = tensors(randomBatch(Math.min(30522, model.config().vocabSize()), model.config().typeVocabSize(), b, s, seed));
        }

        public double[] time(int minCalls, double seconds) {
            return loop(() -> {
                try (OrtSession.Result r = session.run(inputs)) {
                    if (r.size() != 2) throw new IllegalStateException("expected two outputs");
                } catch (ai.onnxruntime.OrtException e) {
                    throw new IllegalStateException(e);
                }
            }, minCalls, seconds);
        }

        public float[][] logits(Batch b) throws Exception {
            Map<String, OnnxTensor> in = tensors(b);
            try (OrtSession.Result r = session.run(in)) {
                float[][] s = (float[][]) r.get("start_logits").orElseThrow().getValue();
                float[][] e = (float[][]) r.get("end_logits").orElseThrow().getValue();
                return new float[][] {flat(s), flat(e)};
            } finally {
                in.values().forEach(OnnxTensor::close);
            }
        }

        static float[] flat(float[][] a) {
            float[] f = new float[a.length * a[0].length];
            for (int i = 0; i < a.length; i++) System.arraycopy(a[i], 0, f, i * a[0].length, a[0].length);
            return f;
        }

        public void close() throws Exception {
            release();
            session.close();
        }
    }

    /** PyTorch in a Python process (weights/bench_torch.py) that times on request. */
    static final class Torch implements Engine {
        final Process p;
        final PrintWriter in;
        final BufferedReader out;
        final ObjectMapper json = new ObjectMapper();
        final Path tmp;
        JsonNode ready;
        int b, s;
        long seed;

        Torch(String python, Path project, Path model, int threads, Path tmp) throws Exception {
            this.tmp = tmp;
            ProcessBuilder pb = new ProcessBuilder(python, project.resolve("weights/bench_torch.py").toString(),
                    "--model", model.toString(), "--threads", Integer.toString(threads));
            pb.environment().put("OPENBLAS_NUM_THREADS", Integer.toString(threads));
            pb.environment().put("OMP_NUM_THREADS", Integer.toString(threads));
            pb.redirectError(ProcessBuilder.Redirect.INHERIT);
            p = pb.start();
            in = new PrintWriter(p.getOutputStream(), true, StandardCharsets.UTF_8);
            out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            ready = reply().get("ready");
        }

        JsonNode reply() throws Exception {
            String line = out.readLine();
            if (line == null) throw new IllegalStateException("bench_torch.py exited");
            JsonNode n = json.readTree(line);
            if (n.has("error")) throw new IllegalStateException("bench_torch.py: " + n.get("error").asText());
            return n;
        }

        public String name() {
            return "torch";
        }

        public void prepare(int b, int s, long seed) {
            this.b = b;
            this.s = s;
            this.seed = seed;
        }

        public double[] time(int minCalls, double seconds) throws Exception {
            in.printf(Locale.ROOT, "time %d %d %d %f %d%n", b, s, minCalls, seconds, seed);
            JsonNode ms = reply().get("ms");
            double[] r = new double[ms.size()];
            for (int i = 0; i < r.length; i++) r[i] = ms.get(i).asDouble();
            return r;
        }

        public float[][] logits(Batch batch) throws Exception {
            Path f = tmp.resolve("check.safetensors");
            long[][] parts = {Arrays.stream(batch.inputIds()).asLongStream().toArray(),
                    Arrays.stream(batch.tokenTypeIds()).asLongStream().toArray(), Arrays.stream(batch.attentionMask()).asLongStream().toArray()};
            int[] shape = {batch.size(), batch.seqLen()};
            Map<String, Tensor> t = new LinkedHashMap<>();
            t.put("input_ids", Tensor.ofLongs(shape, parts[0]));
            t.put("token_type_ids", Tensor.ofLongs(shape, parts[1]));
            t.put("attention_mask", Tensor.ofLongs(shape, parts[2]));
            Files.deleteIfExists(f);
            SafeTensors.write(f, t, Map.of());
            in.println("check " + f);
            JsonNode r = reply();
            float[][] l = new float[2][];
            int k = 0;
            for (String name : new String[] {"start_logits", "end_logits"}) {
                JsonNode a = r.get(name);
                l[k] = new float[a.size()];
                for (int i = 0; i < a.size(); i++) l[k][i] = (float) a.get(i).asDouble();
                k++;
            }
            return l;
        }

        public void close() throws Exception {
            in.println("quit");
            p.waitFor();
        }
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    /** The CPU's model name as /proc/cpuinfo gives it. */
    static String cpuModel() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name")).findFirst()
                    .map(l -> l.replaceFirst("model name\\s*:\\s*", "")).orElse("?");
        } catch (Exception e) {
            return "?";
        }
    }

    /** FLOPs of one forward pass, as bertj bench counts them (bertj.cli.BenchCommand#flops). */
    static double flops(bertj.model.BertConfig c, boolean qaHead, int batch, int seq) {
        double h = c.hiddenSize(), i = c.intermediateSize();
        double perToken = c.numLayers() * (8 * h * h + 4 * h * i + 4.0 * seq * h) + (qaHead ? 4 * h : 0);
        return perToken * batch * seq;
    }

    static String loadavg() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (Exception e) {
            return "?";
        }
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> a = new LinkedHashMap<>(Map.of("--threads", "2", "--rounds", "5", "--seconds", "1",
                "--shapes", "1x128,1x384,8x384,32x128", "--engines", "bertj,ort,torch", "--python", "/usr/bin/python3",
                "--project", "."));
        for (int i = 0; i < args.length; i += 2) {
            if (i + 1 >= args.length) throw new IllegalArgumentException(args[i] + " needs a value");
            a.put(args[i], args[i + 1]);
        }
        if (!a.containsKey("--model")) throw new IllegalArgumentException("--model is required");
        int threads = Integer.parseInt(a.get("--threads")), rounds = Integer.parseInt(a.get("--rounds"));
        double seconds = Double.parseDouble(a.get("--seconds"));
        List<int[]> shapes = new ArrayList<>();
        for (String s : a.get("--shapes").split(",")) {
            String[] bs = s.split("x");
            shapes.add(new int[] {Integer.parseInt(bs[0]), Integer.parseInt(bs[1])});
        }
        List<String> want = Arrays.asList(a.get("--engines").split(","));
        Path model = Path.of(a.get("--model"));
        LoadedModel loaded = ModelLoader.load(model);
        Path tmp = Files.createTempDirectory("bertj-bench");

        List<Engine> engines = new ArrayList<>();
        String loadStart = loadavg();
        if (want.contains("bertj")) engines.add(new Bertj(loaded, threads));
        if (want.contains("ort")) {
            if (!a.containsKey("--onnx")) throw new IllegalArgumentException("--onnx is required for ort");
            Path opt = a.containsKey("--ort-optimized") ? Path.of(a.get("--ort-optimized")) : null;
            engines.add(new Ort("ort", Path.of(a.get("--onnx")), threads, loaded, opt));
        }
        if (want.contains("ort-fused")) {
            if (!a.containsKey("--onnx-fused")) throw new IllegalArgumentException("--onnx-fused is required for ort-fused");
            engines.add(new Ort("ort-fused", Path.of(a.get("--onnx-fused")), threads, loaded, null));
        }
        Torch torch = null;
        if (want.contains("torch")) {
            torch = new Torch(a.get("--python"), Path.of(a.get("--project")), model, threads, tmp);
            engines.add(torch);
        }
        System.out.println("CPU: " + cpuModel() + ", " + Runtime.getRuntime().availableProcessors() + " cores");
        System.out.printf("engines: %s; %d threads; %d rounds x %.1f s per engine and shape; load average %s%n",
                engines.stream().map(Engine::name).toList(), threads, rounds, seconds, loadStart);
        if (torch != null) System.out.println("torch: " + torch.ready);

        // The same model everywhere: logits of a padded batch agree.
        {
            Batch b = randomBatch(Math.min(30522, loaded.config().vocabSize()), loaded.config().typeVocabSize(), 3, 45, 7);
            int[] mask = b.attentionMask();
            for (int j = 30; j < 45; j++) mask[45 + j] = 0; // sequence 1: 30 real tokens
            for (int j = 1; j < 45; j++) mask[90 + j] = 0; // sequence 2: one token
            float[][] ref = null;
            String refName = null;
            for (Engine e : engines) {
                float[][] l = e.logits(b);
                if (ref == null) {
                    ref = l;
                    refName = e.name();
                    continue;
                }
                double worst = 0;
                for (int k = 0; k < 2; k++) for (int i = 0; i < l[k].length; i++) worst = Math.max(worst, Math.abs(l[k][i] - ref[k][i]));
                System.out.printf(Locale.ROOT, "agreement: %s vs %s, max |logit difference| %.2e%n", e.name(), refName, worst);
                if (!(worst <= 1e-3)) throw new IllegalStateException(e.name() + " and " + refName + " disagree by " + worst);
            }
        }

        // warm-up at every shape (JIT, allocators, thread pools)
        for (int[] sh : shapes) {
            for (Engine e : engines) {
                e.prepare(sh[0], sh[1], 11);
                e.time(2, Math.min(seconds, 0.5));
            }
        }
        // ms[engine][shape] = all calls; perRound[engine][shape][round] = median of that round
        Map<String, List<List<Double>>> all = new LinkedHashMap<>();
        Map<String, double[][]> perRound = new LinkedHashMap<>();
        for (Engine e : engines) {
            List<List<Double>> l = new ArrayList<>();
            for (int i = 0; i < shapes.size(); i++) l.add(new ArrayList<>());
            all.put(e.name(), l);
            perRound.put(e.name(), new double[shapes.size()][rounds]);
        }
        // The FMA peak of the same threads, once per round, so that each round's GFLOP/s is set against the peak
        // measured under the same load.
        double[] peaks = new double[rounds];
        for (int r = 0; r < rounds; r++) {
            for (int si = 0; si < shapes.size(); si++) {
                int[] sh = shapes.get(si);
                for (int k = 0; k < engines.size(); k++) {
                    Engine e = engines.get((k + r) % engines.size());
                    e.prepare(sh[0], sh[1], 1000L * r + si);
                    double[] ms = e.time(3, seconds);
                    for (double m : ms) all.get(e.name()).get(si).add(m);
                    perRound.get(e.name())[si][r] = median(ms);
                }
            }
            peaks[r] = bertj.backend.cpu.FmaPeak.gflops(threads, 10);
            System.out.printf(Locale.ROOT, "round %d/%d done, FMA peak %.1f GFLOP/s, load average %s%n", r + 1, rounds, peaks[r], loadavg());
        }
        String loadEnd = loadavg();
        for (Engine e : engines) e.close();

        // report
        ObjectMapper om = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = om.createObjectNode();
        root.put("threads", threads);
        root.put("rounds", rounds);
        root.put("seconds_per_slot", seconds);
        root.put("load_average_start", loadStart);
        root.put("load_average_end", loadEnd);
        if (torch != null) root.set("torch", torch.ready);
        ArrayNode rows = root.putArray("results");
        List<String> peers = new ArrayList<>();
        for (String peer : new String[] {"ort", "ort-fused"}) if (perRound.containsKey(peer)) peers.add(peer);
        System.out.println();
        StringBuilder head = new StringBuilder(String.format(Locale.ROOT, "%-8s %-9s %9s %10s %18s %6s", "shape", "engine", "seq/s",
                "ms/batch", "rounds min..max", "calls"));
        for (String peer : peers) head.append(String.format(Locale.ROOT, "   %-22s", "x " + peer + " (min..max)"));
        System.out.println(head);
        for (int si = 0; si < shapes.size(); si++) {
            int[] sh = shapes.get(si);
            for (Engine e : engines) {
                double[] calls = all.get(e.name()).get(si).stream().mapToDouble(Double::doubleValue).toArray();
                double med = median(calls), seqPerS = sh[0] / (med / 1e3);
                double[] rm = perRound.get(e.name())[si];
                double lo = Arrays.stream(rm).min().orElse(0), hi = Arrays.stream(rm).max().orElse(0);
                ObjectNode n = rows.addObject();
                n.put("engine", e.name());
                n.put("batch", sh[0]);
                n.put("seq", sh[1]);
                n.put("seq_per_s", seqPerS);
                n.put("ms_per_batch_median", med);
                n.put("calls", calls.length);
                ArrayNode rmj = n.putArray("round_medians_ms");
                for (double v : rm) rmj.add(v);
                StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%-8s %-9s %9.1f %10.2f %18s %6d", sh[0] + "x" + sh[1],
                        e.name(), seqPerS, med, String.format(Locale.ROOT, "%.2f..%.2f", lo, hi), calls.length));
                for (String peer : peers) {
                    // per round: the peer's time over this engine's, both measured seconds apart
                    double[] p = perRound.get(peer)[si], ratios = new double[rounds];
                    for (int r = 0; r < rounds; r++) ratios[r] = p[r] / rm[r];
                    double rmed = median(ratios), rlo = Arrays.stream(ratios).min().orElse(0), rhi = Arrays.stream(ratios).max().orElse(0);
                    String key = "ratio_to_" + peer.replace('-', '_');
                    n.put(key + "_median", rmed);
                    n.put(key + "_min", rlo);
                    n.put(key + "_max", rhi);
                    line.append(String.format(Locale.ROOT, "   %-22s", String.format(Locale.ROOT, "%.2fx (%.2f..%.2f)", rmed, rlo, rhi)));
                }
                if (e.name().equals("bertj")) {
                    // Against the best FMA peak of the run: on a busy machine a short burst of FMAs is as likely as
                    // anything to lose its core, and the highest reading is the closest to what the cores can do.
                    double gflop = flops(loaded.config(), loaded.weights().hasQaHead(), sh[0], sh[1]) / 1e9, best = Arrays.stream(peaks).max().orElse(0);
                    double bestRound = Arrays.stream(rm).min().orElse(0);
                    n.put("gflop_per_s", gflop / (med / 1e3));
                    n.put("percent_of_fma_peak", 100 * gflop / (med / 1e3) / best);
                    n.put("percent_of_fma_peak_best_round", 100 * gflop / (bestRound / 1e3) / best);
                    line.append(String.format(Locale.ROOT, "   %.1f GFLOP/s = %.0f%% of the FMA peak (best round %.0f%%)", gflop / (med / 1e3),
                            100 * gflop / (med / 1e3) / best, 100 * gflop / (bestRound / 1e3) / best));
                }
                System.out.println(line);
            }
        }
        System.out.printf(Locale.ROOT, "FMA peak, %d threads (12 independent chains of %d-lane FMAs per thread, measured once per round):"
                + " best %.1f GFLOP/s, the percentages above are of it (rounds %.1f..%.1f)%n", threads, bertj.backend.cpu.FmaPeak.lanes(),
                Arrays.stream(peaks).max().orElse(0), Arrays.stream(peaks).min().orElse(0), Arrays.stream(peaks).max().orElse(0));
        root.put("fma_peak_gflop_per_s", Arrays.stream(peaks).max().orElse(0));
        ArrayNode pk = root.putArray("fma_peak_gflop_per_s_rounds");
        for (double v : peaks) pk.add(v);
        root.put("cpu", cpuModel());
        System.out.println("load average at start " + loadStart + ", at end " + loadEnd);
        if (a.containsKey("--json")) {
            Files.writeString(Path.of(a.get("--json")), om.writeValueAsString(root));
            System.out.println("wrote " + a.get("--json"));
        }
    }
}
