package bertj.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import bertj.backend.Batch;
import bertj.backend.cpu.CpuBackend;
import bertj.encoder.BertEncoder;
import bertj.model.BuiltinModels;
import bertj.model.LoadedModel;
import bertj.model.ModelLoader;
import bertj.qa.Batches;
import bertj.qa.Feature;
import bertj.qa.QaSettings;
import bertj.qa.QuestionAnswerer;
import bertj.tokenizer.BertTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.LongBuffer;
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
 * Question answering throughput on the NVIDIA 4L-288D shape (random weights): a generated SQuAD v1.1 file of
 * {@code --questions} questions, cut into windows as run_squad.py cuts them (384 tokens, stride 128), then
 * <ul>
 *   <li>{@code bertj squad --decoding masked} as one process (JVM start, model load, tokenization, decoding and
 *       the output file included),</li>
 *   <li>bertj's {@link Batches} on the windows in this JVM (warm: the forward passes only),</li>
 *   <li>ONNX Runtime on the same windows in the same length-grouped batches, for both ONNX graphs (warm);</li>
 *   <li>and, suffixed -384, the same for NVIDIA's decoding (squad's default), where every window is padded to
 *       max_seq_length: {@code bertj squad}, Batches with padTo 384, and ONNX Runtime on the same padded windows.</li>
 * </ul>
 * Windows/s: the median over rounds (every engine once per round, the order rotating), and the median of the
 * per-round ratios to the ONNX Runtime run on the same windows ({@code ort}, or {@code ort-384}). Before timing, bertj's and ONNX Runtime's logits must agree on a batch.
 *
 * <pre>
 * QaBench --model M.pt --onnx M.onnx [--onnx-fused F.onnx] --out DIR [--bertj ./bertj] [--questions 1000]
 *         [--rounds 3] [--threads 2] [--batch 16] [--seed 1]
 * </pre>
 * Run by scripts/bench-qa.sh; not a test.
 */
public final class QaBench {

    /** The BERT-uncased vocabulary of the built-in model's tokenizer.json, as a vocab.txt in id order. */
    static Path vocabTxt(Path dir) throws Exception {
        JsonNode vocab = new ObjectMapper().readTree(Files.readString(BuiltinModels.entries(BuiltinModels.MINILM).vocab()))
                .get("model").get("vocab");
        String[] byId = new String[vocab.size()];
        vocab.properties().forEach(e -> byId[e.getValue().asInt()] = e.getKey());
        Path p = dir.resolve("vocab.txt");
        Files.writeString(p, String.join("\n", byId) + "\n");
        return p;
    }

    /**
     * A SQuAD v1.1 file: passages of 60–450 words (the long ones need several windows), four questions each, each
     * with an answer that is a span of its passage (answer_start in characters).
     */
    static ObjectNode squad(int questions, long seed) {
        Random r = new Random(seed);
        ObjectMapper om = new ObjectMapper();
        ObjectNode root = om.createObjectNode();
        root.put("version", "1.1");
        ArrayNode paragraphs = root.putArray("data").addObject().put("title", "generated").putArray("paragraphs");
        int q = 0;
        while (q < questions) {
            String context = Corpus.text(r, 60 + r.nextInt(391));
            ObjectNode p = paragraphs.addObject();
            p.put("context", context);
            ArrayNode qas = p.putArray("qas");
            String[] words = context.split(" ");
            for (int k = 0; k < 4 && q < questions; k++, q++) {
                String question = Corpus.text(r, 5 + r.nextInt(8));
                question = question.substring(0, question.length() - 1) + "?";
                int w = r.nextInt(words.length - 3), len = 1 + r.nextInt(3), start = 0;
                for (int i = 0; i < w; i++) start += words[i].length() + 1;
                String answer = String.join(" ", Arrays.copyOfRange(words, w, w + len));
                ObjectNode qa = qas.addObject();
                qa.put("id", "q" + q);
                qa.put("question", question);
                qa.putArray("answers").addObject().put("text", answer).put("answer_start", start);
            }
        }
        return root;
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> a = new LinkedHashMap<>(Map.of("--questions", "1000", "--rounds", "3", "--threads", "2", "--batch", "16",
                "--seed", "1", "--bertj", "./bertj", "--out", "bench-out"));
        for (int i = 0; i < args.length; i += 2) a.put(args[i], args[i + 1]);
        int rounds = Integer.parseInt(a.get("--rounds")), threads = Integer.parseInt(a.get("--threads"));
        int batch = Integer.parseInt(a.get("--batch"));
        Path out = Files.createDirectories(Path.of(a.get("--out"))), model = Path.of(a.get("--model"));
        Path vocab = vocabTxt(out), data = out.resolve("squad.json");
        ObjectNode sq = squad(Integer.parseInt(a.get("--questions")), Long.parseLong(a.get("--seed")));
        Files.writeString(data, new ObjectMapper().writeValueAsString(sq));

        LoadedModel loaded = ModelLoader.load(model);
        BertTokenizer tok = BertTokenizer.load(vocab, null);
        QuestionAnswerer answerer = QuestionAnswerer.of(loaded, tok, new CpuBackend(threads), QaSettings.RUN_SQUAD, batch);
        List<QuestionAnswerer.Example> examples = new ArrayList<>();
        for (JsonNode p : sq.get("data").get(0).get("paragraphs")) {
            var passage = answerer.passage(p.get("context").asText());
            for (JsonNode qa : p.get("qas")) examples.add(new QuestionAnswerer.Example(qa.get("id").asText(), qa.get("question").asText(), passage));
        }
        List<Feature> windows = answerer.features(examples).stream().flatMap(List::stream).toList();
        int[] lengths = windows.stream().mapToInt(Feature::length).toArray();
        long tokens = Arrays.stream(lengths).asLongStream().sum();
        List<int[]> groups = Batch.byLength(lengths, batch, Batches.DEFAULT_TOKEN_BUDGET);
        System.out.printf(Locale.ROOT, "CPU: %s, %d cores; %d questions, %d windows, %,d tokens (mean %.0f per window), %d batches of up to %d%n",
                Compare.cpuModel(), Runtime.getRuntime().availableProcessors(), examples.size(), windows.size(), tokens,
                (double) tokens / windows.size(), groups.size(), batch);

        // NVIDIA's decoding (squad's default) feeds every window padded to max_seq_length; the same windows so padded,
        // in groups of the same token budget, are what ONNX Runtime runs for the "-384" comparison
        int maxSeq = QaSettings.RUN_SQUAD.maxSeqLength();
        int[] padded = new int[lengths.length];
        Arrays.fill(padded, maxSeq);
        List<int[]> groups384 = Batch.byLength(padded, batch, Batches.DEFAULT_TOKEN_BUDGET);
        BertEncoder encoder = answerer.encoder();
        int padId = tok.vocab().padId();
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        Map<String, OrtSession> ort = new LinkedHashMap<>();
        for (String k : new String[] {"--onnx", "--onnx-fused"}) {
            if (!a.containsKey(k)) continue;
            OrtSession.SessionOptions so = new OrtSession.SessionOptions();
            so.setIntraOpNumThreads(threads);
            so.setInterOpNumThreads(1);
            so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            ort.put(k.equals("--onnx") ? "ort" : "ort-fused", env.createSession(a.get(k), so));
        }

        // the same model: logits of the first (longest) batch agree
        for (var e : ort.entrySet()) {
            int[] g = groups.get(0);
            float[][][] l = ortLogits(env, e.getValue(), windows, g, padId, 0);
            Batches.Logits b = Batches.run(encoder, encoder, Arrays.stream(g).mapToObj(windows::get).toList(), batch, padId, null);
            double worst = 0;
            for (int k = 0; k < g.length; k++) {
                for (int t = 0; t < lengths[g[k]]; t++) {
                    worst = Math.max(worst, Math.abs(l[0][k][t] - b.start()[k][t]));
                    worst = Math.max(worst, Math.abs(l[1][k][t] - b.end()[k][t]));
                }
            }
            System.out.printf(Locale.ROOT, "agreement: %s vs bertj on a batch of %d windows, max |logit difference| %.2e%n", e.getKey(), g.length, worst);
            if (!(worst <= 1e-3)) throw new IllegalStateException(e.getKey() + " and bertj disagree by " + worst);
        }

        Map<String, Runner> engines = new LinkedHashMap<>();
        for (String decoding : new String[] {"masked", "nvidia"}) {
            engines.put(decoding.equals("masked") ? "bertj-cli" : "bertj-cli-384", () -> {
                ProcessBuilder pb = new ProcessBuilder(a.get("--bertj"), "squad", "--model", model.toString(), "--vocab", vocab.toString(),
                        "--data", data.toString(), "--out", out.resolve("predictions-" + decoding + ".json").toString(), "--force",
                        "--progress", "none", "--threads", Integer.toString(threads), "--batch", Integer.toString(batch),
                        "--decoding", decoding);
                pb.redirectOutput(out.resolve("squad-cli-" + decoding + ".txt").toFile());
                pb.redirectError(ProcessBuilder.Redirect.INHERIT);
                Process p = pb.start();
                if (p.waitFor() != 0) throw new IllegalStateException("bertj squad exited with " + p.exitValue());
            });
        }
        engines.put("bertj", () -> Batches.run(encoder, encoder, windows, batch, padId, null));
        engines.put("bertj-384", () -> Batches.run(encoder, encoder, windows, batch, Batches.DEFAULT_TOKEN_BUDGET, 0, maxSeq, null));
        for (var e : ort.entrySet()) {
            engines.put(e.getKey(), () -> {
                for (int[] g : groups) ortLogits(env, e.getValue(), windows, g, padId, 0);
            });
            if (e.getKey().equals("ort")) {
                engines.put("ort-384", () -> {
                    for (int[] g : groups384) ortLogits(env, e.getValue(), windows, g, 0, maxSeq);
                });
            }
        }
        for (var e : engines.entrySet()) if (!e.getKey().equals("bertj-cli")) e.getValue().run(); // warm-up
        List<String> names = new ArrayList<>(engines.keySet());
        Map<String, double[]> sec = new LinkedHashMap<>();
        for (String k : names) sec.put(k, new double[rounds]);
        String load0 = Compare.loadavg();
        for (int r = 0; r < rounds; r++) {
            for (int k = 0; k < names.size(); k++) {
                String name = names.get((k + r) % names.size());
                long t0 = System.nanoTime();
                engines.get(name).run();
                sec.get(name)[r] = (System.nanoTime() - t0) / 1e9;
            }
            System.out.printf(Locale.ROOT, "round %d/%d done, load average %s%n", r + 1, rounds, Compare.loadavg());
        }

        boolean havePeer = ort.containsKey("ort");
        ObjectNode root = new ObjectMapper().createObjectNode();
        root.put("cpu", Compare.cpuModel());
        root.put("questions", examples.size());
        root.put("windows", windows.size());
        root.put("tokens", tokens);
        root.put("threads", threads);
        root.put("batch", batch);
        root.put("rounds", rounds);
        root.put("load_average_start", load0);
        root.put("load_average_end", Compare.loadavg());
        ArrayNode rows = root.putArray("results");
        System.out.println();
        System.out.printf("%-14s %12s %10s %30s%n", "engine", "windows/s", "s/run", havePeer ? "x peer (min..max)" : "");
        for (String name : names) {
            double[] t = sec.get(name);
            double med = Compare.median(t);
            ObjectNode row = rows.addObject();
            row.put("engine", name);
            row.put("windows_per_s", windows.size() / med);
            row.put("seconds_median", med);
            String ratio = "";
            String peer = name.endsWith("-384") ? "ort-384" : "ort";
            if (havePeer && !name.equals(peer)) {
                double[] x = new double[rounds];
                for (int r = 0; r < rounds; r++) x[r] = sec.get(peer)[r] / t[r];
                row.put("peer", peer);
                row.put("ratio_to_peer_median", Compare.median(x));
                ratio = String.format(Locale.ROOT, "%.2fx %s (%.2f..%.2f)", Compare.median(x), peer, Arrays.stream(x).min().orElse(0),
                        Arrays.stream(x).max().orElse(0));
            }
            ArrayNode rs = row.putArray("round_seconds");
            for (double x : t) rs.add(x);
            System.out.printf(Locale.ROOT, "%-14s %12.1f %10.2f %30s%n", name, windows.size() / med, med, ratio);
        }
        System.out.println("bertj-cli is one 'bertj squad --decoding masked' process per round (windows padded to their batch's longest,"
                + " as ort runs them): JVM start, model load, tokenization, decoding and writing the predictions included; the others"
                + " run the forward passes only. -384: every window padded to max_seq_length " + maxSeq + ", as NVIDIA's run_squad.py"
                + " feeds them (squad's default decoding, nvidia), against ort-384 on the same padded windows.");
        Files.writeString(out.resolve("qa.json"), new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(root));
        System.out.println("wrote " + out.resolve("qa.json"));
        answerer.close();
        for (OrtSession s : ort.values()) s.close();
    }

    private interface Runner {
        void run() throws Exception;
    }

    /** Start and end logits [2][batch][seq] of one group of windows, right-padded as bertj pads them (to at least minLength). */
    private static float[][][] ortLogits(OrtEnvironment env, OrtSession s, List<Feature> windows, int[] g, int padId, int minLength)
            throws Exception {
        List<int[]> ids = new ArrayList<>(), types = new ArrayList<>();
        for (int i : g) {
            ids.add(windows.get(i).inputIds());
            types.add(windows.get(i).tokenTypeIds());
        }
        Batch b = Batch.rightPadded(ids, types, padId, minLength);
        long[] shape = {b.size(), b.seqLen()};
        Map<String, OnnxTensor> in = Map.of(
                "input_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(Arrays.stream(b.inputIds()).asLongStream().toArray()), shape),
                "token_type_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(Arrays.stream(b.tokenTypeIds()).asLongStream().toArray()), shape),
                "attention_mask", OnnxTensor.createTensor(env, LongBuffer.wrap(Arrays.stream(b.attentionMask()).asLongStream().toArray()), shape));
        try (OrtSession.Result r = s.run(in)) {
            return new float[][][] {(float[][]) r.get("start_logits").orElseThrow().getValue(),
                    (float[][]) r.get("end_logits").orElseThrow().getValue()};
        } finally {
            in.values().forEach(OnnxTensor::close);
        }
    }
}
