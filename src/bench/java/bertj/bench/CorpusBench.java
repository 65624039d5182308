package bertj.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import bertj.backend.Batch;
import bertj.backend.cpu.CpuBackend;
import bertj.embed.SentenceEmbedder;
import bertj.encoder.BertEncoder;
import bertj.model.BuiltinModels;
import bertj.model.LoadedModel;
import bertj.model.ModelLoader;
import bertj.tokenizer.BertTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.onnx.allminilml6v2.AllMiniLmL6V2EmbeddingModel;

import java.io.BufferedReader;
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

/**
 * Embedding a corpus with all-MiniLM-L6-v2, the way a Java user would: {@code bertj embed --input-file} as one
 * process (JVM start, model load and JIT warm-up counted), bertj's {@link SentenceEmbedder} API in this JVM
 * (warm), langchain4j's {@code AllMiniLmL6V2EmbeddingModel.embedAll} (warm, its defaults: one ONNX Runtime run
 * per text at its own length, its own executor) and ONNX Runtime on bertj's tokens in bertj's length-grouped
 * batches (warm). Texts/s; the median over rounds, in each of which every engine embeds the whole corpus once
 * (the order rotating from round to round), and the median of the per-round ratios to langchain4j.
 *
 * <p>The vectors are compared too: the minimum cosine between each engine's vector and langchain4j's for the
 * same text. langchain4j cuts texts at 128 tokens (its tokenizer.json says so), so bertj runs with
 * {@code --max-length 128} here and both see the same tokens.
 *
 * <pre>
 * CorpusBench --out DIR --bertj ./bertj [--texts 2000] [--seed 1] [--rounds 3] [--threads 2] [--max-length 128]
 * </pre>
 * Run by scripts/bench-corpus.sh; not a test.
 */
public final class CorpusBench {

    static double cos(float[] a, double[] b) {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += b[i] * b[i];
        }
        return dot / Math.sqrt(na * nb);
    }

    static double median(double[] v) {
        return Compare.median(v);
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> a = new LinkedHashMap<>(Map.of("--texts", "2000", "--seed", "1", "--rounds", "3", "--threads", "2",
                "--max-length", "128", "--batch-size", "32", "--bertj", "./bertj", "--out", "bench-out"));
        for (int i = 0; i < args.length; i += 2) a.put(args[i], args[i + 1]);
        int n = Integer.parseInt(a.get("--texts")), rounds = Integer.parseInt(a.get("--rounds"));
        int threads = Integer.parseInt(a.get("--threads")), maxLen = Integer.parseInt(a.get("--max-length"));
        int batchSize = Integer.parseInt(a.get("--batch-size"));
        Path out = Path.of(a.get("--out"));
        Files.createDirectories(out);

        List<String> texts = Corpus.mixed(n, Long.parseLong(a.get("--seed")));
        Path corpus = out.resolve("corpus.txt");
        Files.write(corpus, texts, StandardCharsets.UTF_8);
        long words = texts.stream().mapToLong(t -> t.split(" ").length).sum();
        System.out.printf(Locale.ROOT, "CPU: %s, %d cores; %d texts, %,d words (%s)%n", Compare.cpuModel(),
                Runtime.getRuntime().availableProcessors(), n, words, corpus);

        // bertj in this JVM
        LoadedModel m = ModelLoader.load(Path.of("minilm"));
        BertTokenizer tok = BertTokenizer.load(m.vocab(), null);
        BertEncoder encoder = new BertEncoder(m.weights(), new CpuBackend(threads));
        SentenceEmbedder embedder = new SentenceEmbedder(encoder, tok, SentenceEmbedder.Pooling.MEAN, true, maxLen);
        List<BertTokenizer.Sequence> seqs = texts.stream().map(t -> tok.sequence(t, maxLen)).toList();
        long tokens = seqs.stream().mapToLong(s -> s.ids().length).sum(), cut = seqs.stream().filter(BertTokenizer.Sequence::truncated).count();
        System.out.printf(Locale.ROOT, "bertj tokens: %,d in all ([CLS] and [SEP] included), %,d texts cut to %d%n", tokens, cut, maxLen);

        // langchain4j with its defaults
        AllMiniLmL6V2EmbeddingModel lc4j = new AllMiniLmL6V2EmbeddingModel();
        List<TextSegment> segments = texts.stream().map(TextSegment::from).toList();

        // ONNX Runtime on bertj's tokens and batches
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        OrtSession.SessionOptions so = new OrtSession.SessionOptions();
        so.setIntraOpNumThreads(threads);
        so.setInterOpNumThreads(1);
        so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        OrtSession ort;
        try (var in = Files.newInputStream(BuiltinModels.entries(BuiltinModels.MINILM).weights())) {
            ort = env.createSession(in.readAllBytes(), so);
        }
        int[] lengths = seqs.stream().mapToInt(s -> s.ids().length).toArray();
        List<int[]> groups = Batch.byLength(lengths, batchSize, SentenceEmbedder.DEFAULT_TOKEN_BUDGET);

        Map<String, Runner> engines = new LinkedHashMap<>();
        double[][] vectors = new double[4][];
        engines.put("bertj-cli", () -> cli(a.get("--bertj"), corpus, out.resolve("cli.jsonl"), maxLen, threads, batchSize));
        engines.put("bertj-api", () -> {
            List<SentenceEmbedder.Embedding> e = embedder.embed(texts, batchSize);
            return e.stream().map(SentenceEmbedder.Embedding::vector).toList();
        });
        engines.put("langchain4j", () -> {
            var r = lc4j.embedAll(segments).content();
            List<double[]> v = new ArrayList<>(r.size());
            for (var e : r) {
                float[] f = e.vector();
                double[] d = new double[f.length];
                for (int i = 0; i < f.length; i++) d[i] = f[i];
                v.add(d);
            }
            return v;
        });
        engines.put("ort", () -> ortRun(env, ort, seqs, groups, tok.vocab().padId()));

        // warm-up of the in-JVM engines, and the vectors they give
        Map<String, List<double[]>> got = new LinkedHashMap<>();
        for (var e : engines.entrySet()) {
            if (e.getKey().equals("bertj-cli")) continue;
            got.put(e.getKey(), e.getValue().run());
        }
        Map<String, double[]> ms = new LinkedHashMap<>();
        for (String k : engines.keySet()) ms.put(k, new double[rounds]);
        String load0 = Compare.loadavg();
        List<String> names = new ArrayList<>(engines.keySet());
        for (int r = 0; r < rounds; r++) {
            for (int k = 0; k < names.size(); k++) {
                String name = names.get((k + r) % names.size());
                long t0 = System.nanoTime();
                List<double[]> v = engines.get(name).run();
                ms.get(name)[r] = (System.nanoTime() - t0) / 1e6;
                if (name.equals("bertj-cli") && !got.containsKey(name)) got.put(name, v);
            }
            System.out.printf(Locale.ROOT, "round %d/%d done, load average %s%n", r + 1, rounds, Compare.loadavg());
        }

        // agreement with langchain4j
        List<double[]> ref = got.get("langchain4j");
        ObjectNode root = new ObjectMapper().createObjectNode();
        root.put("cpu", Compare.cpuModel());
        root.put("texts", n);
        root.put("tokens", tokens);
        root.put("truncated", cut);
        root.put("max_length", maxLen);
        root.put("threads", threads);
        root.put("rounds", rounds);
        root.put("load_average_start", load0);
        root.put("load_average_end", Compare.loadavg());
        ArrayNode rows = root.putArray("results");
        System.out.println();
        System.out.printf("%-12s %10s %12s %22s %26s%n", "engine", "texts/s", "s/corpus", "x langchain4j (min..max)", "min cosine to langchain4j");
        for (String name : names) {
            double[] t = ms.get(name), ratio = new double[rounds];
            for (int r = 0; r < rounds; r++) ratio[r] = ms.get("langchain4j")[r] / t[r];
            double med = median(t);
            double minCos = 1;
            List<double[]> v = got.get(name);
            for (int i = 0; i < n; i++) {
                float[] f = new float[ref.get(i).length];
                for (int j = 0; j < f.length; j++) f[j] = (float) ref.get(i)[j];
                minCos = Math.min(minCos, cos(f, v.get(i)));
            }
            System.out.printf(Locale.ROOT, "%-12s %10.1f %12.2f %22s %26s%n", name, n / (med / 1e3), med / 1e3,
                    String.format(Locale.ROOT, "%.2fx (%.2f..%.2f)", median(ratio), Arrays.stream(ratio).min().orElse(0),
                            Arrays.stream(ratio).max().orElse(0)), minCos == 1 ? "1" : String.format(Locale.ROOT, "1 - %.1e", 1 - minCos));
            ObjectNode row = rows.addObject();
            row.put("engine", name);
            row.put("texts_per_s", n / (med / 1e3));
            row.put("seconds_median", med / 1e3);
            row.put("ratio_to_langchain4j_median", median(ratio));
            row.put("min_cosine_to_langchain4j", minCos);
            ArrayNode rs = row.putArray("round_seconds");
            for (double x : t) rs.add(x / 1e3);
        }
        System.out.println("bertj-cli is one process per round: JVM start, model load, JIT warm-up and output included.");
        Files.writeString(out.resolve("corpus.json"), new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(root));
        System.out.println("wrote " + out.resolve("corpus.json"));
        encoder.close();
        ort.close();
        System.exit(0); // langchain4j's executor threads are not daemons
    }

    private interface Runner {
        List<double[]> run() throws Exception;
    }

    /** bertj embed --input-file as a child process; its JSON Lines parsed back into vectors. */
    private static List<double[]> cli(String bertj, Path corpus, Path jsonl, int maxLen, int threads, int batch) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(bertj, "embed", "--model", "minilm", "--normalize", "--max-length", Integer.toString(maxLen),
                "--threads", Integer.toString(threads), "--batch-size", Integer.toString(batch), "--progress", "none",
                "--input-file", corpus.toString());
        pb.redirectOutput(jsonl.toFile());
        pb.redirectError(ProcessBuilder.Redirect.INHERIT);
        Process p = pb.start();
        if (p.waitFor() != 0) throw new IllegalStateException(bertj + " embed exited with " + p.exitValue());
        ObjectMapper om = new ObjectMapper();
        List<double[]> v = new ArrayList<>();
        try (BufferedReader r = Files.newBufferedReader(jsonl)) {
            for (String line; (line = r.readLine()) != null; ) {
                JsonNode e = om.readTree(line).get("embedding");
                double[] d = new double[e.size()];
                for (int i = 0; i < d.length; i++) d[i] = e.get(i).asDouble();
                v.add(d);
            }
        }
        return v;
    }

    /** ONNX Runtime on the same ids, batches and pooling as bertj (mean over the mask, L2-normalised). */
    private static List<double[]> ortRun(OrtEnvironment env, OrtSession s, List<BertTokenizer.Sequence> seqs, List<int[]> groups,
                                         int padId) throws Exception {
        double[][] out = new double[seqs.size()][];
        for (int[] g : groups) {
            List<BertTokenizer.Sequence> members = new ArrayList<>();
            for (int i : g) members.add(seqs.get(i));
            Batch b = SentenceEmbedder.batch(members, padId);
            long[] shape = {b.size(), b.seqLen()};
            Map<String, OnnxTensor> in = Map.of(
                    "input_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(Arrays.stream(b.inputIds()).asLongStream().toArray()), shape),
                    "attention_mask", OnnxTensor.createTensor(env, LongBuffer.wrap(Arrays.stream(b.attentionMask()).asLongStream().toArray()), shape),
                    "token_type_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(new long[b.tokens()]), shape));
            try (OrtSession.Result r = s.run(in)) {
                float[][][] h = (float[][][]) r.get(0).getValue();
                int width = h[0][0].length;
                double[] flat = new double[b.tokens() * width];
                for (int x = 0; x < b.size(); x++) {
                    for (int t = 0; t < b.seqLen(); t++) {
                        for (int c = 0; c < width; c++) flat[(x * b.seqLen() + t) * width + c] = h[x][t][c];
                    }
                }
                double[][] pooled = SentenceEmbedder.pool(flat, b, width, SentenceEmbedder.Pooling.MEAN);
                for (int k = 0; k < g.length; k++) out[g[k]] = SentenceEmbedder.normalized(pooled[k]);
            } finally {
                in.values().forEach(OnnxTensor::close);
            }
        }
        return Arrays.asList(out);
    }
}
