package bertj.bench;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import bertj.backend.Backends;
import bertj.backend.Batch;
import bertj.encoder.BertEncoder;
import bertj.model.LoadedModel;
import bertj.model.ModelLoader;
import bertj.testing.MiniLm;

import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A benchmark, not a test: all-MiniLM-L6-v2 forward passes (last hidden state) per second, bertj's backends
 * against ONNX Runtime (2 threads, all graph optimisations) measured in the same run on the same batches.
 * Median of 15 timed runs after 3 warm-up runs.
 * <pre>
 *   mvn -o -q test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt -Dmdep.includeScope=test
 *   java --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector -cp target/classes:target/test-classes:$(cat target/cp.txt) bertj.bench.MiniLmBench
 * </pre>
 */
public final class MiniLmBench {
    interface Run {
        void run() throws Exception;
    }

    static double median(Run r) throws Exception {
        for (int i = 0; i < 3; i++) r.run();
        double[] t = new double[15];
        for (int i = 0; i < t.length; i++) {
            long t0 = System.nanoTime();
            r.run();
            t[i] = (System.nanoTime() - t0) / 1e9;
        }
        Arrays.sort(t);
        return t[t.length / 2];
    }

    public static void main(String[] args) throws Exception {
        Path dir = Files.createTempDirectory("bench");
        LoadedModel model = ModelLoader.load(Path.of("minilm"));
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        OrtSession.SessionOptions o = new OrtSession.SessionOptions();
        o.setIntraOpNumThreads(2);
        OrtSession ort = env.createSession(MiniLm.onnxBytes(), o);
        try (HuggingFaceTokenizer tok = MiniLm.hfTokenizer(dir)) {
            List<String> shortTexts = new ArrayList<>(MiniLm.SENTENCES.subList(0, 8));
            Map<String, Batch> batches = Map.of(
                    "8 short sentences", MiniLm.hfBatch(tok, shortTexts),
                    "1 long text", MiniLm.hfBatch(tok, List.of(MiniLm.SENTENCES.get(11))));
            for (var e : batches.entrySet()) {
                Batch b = e.getValue();
                long[] shape = {b.size(), b.seqLen()};
                Map<String, OnnxTensor> in = Map.of(
                        "input_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(Arrays.stream(b.inputIds()).asLongStream().toArray()), shape),
                        "attention_mask", OnnxTensor.createTensor(env, LongBuffer.wrap(Arrays.stream(b.attentionMask()).asLongStream().toArray()), shape),
                        "token_type_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(new long[b.tokens()]), shape));
                double ortT = median(() -> ort.run(in).close());
                System.out.printf(Locale.ROOT, "%-18s [%d x %d]  onnxruntime %8.2f ms  (%.1f seq/s)%n", e.getKey(), b.size(), b.seqLen(),
                        ortT * 1e3, b.size() / ortT);
                for (String backend : List.of("cpu", "reference")) {
                    try (BertEncoder enc = new BertEncoder(model.weights(), Backends.create(backend))) {
                        double t = median(() -> enc.forward(b, true, null));
                        System.out.printf(Locale.ROOT, "%-18s [%d x %d]  bertj %-9s %8.2f ms  (%.1f seq/s, %.1fx onnxruntime's time)%n",
                                e.getKey(), b.size(), b.seqLen(), backend, t * 1e3, b.size() / t, t / ortT);
                    }
                }
            }
        }
        ort.close();
    }
}
