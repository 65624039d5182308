package bertj.testing;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import bertj.backend.Batch;
import bertj.model.BuiltinModels;

import java.io.IOException;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;

/**
 * The real all-MiniLM-L6-v2 (the built-in model "minilm") and the independent tools the tests check bertj
 * against: ONNX Runtime running the original graph, and Hugging Face's tokenizers (through DJL) reading the
 * artifact's tokenizer.json.
 */
public final class MiniLm {
    private MiniLm() {
    }

    /** Sentences of different lengths (a few tokens to well over a hundred). */
    public static final List<String> SENTENCES = List.of(
            "A man is eating food.",
            "A man is eating a piece of bread.",
            "The girl is carrying a baby.",
            "A man is riding a horse.",
            "A woman is playing violin.",
            "Two men pushed carts through the woods.",
            "A man is riding a white horse on an enclosed ground.",
            "A monkey is playing drums.",
            "Hi!",
            "The quick brown fox jumps over the lazy dog, while the cat — unimpressed — watches from the windowsill.",
            "Transformers compute attention over every pair of tokens; the cost grows with the square of the sequence length, "
                    + "which is why long documents are usually split into overlapping windows before they are encoded.",
            "In 1905, Albert Einstein published four papers in the Annalen der Physik: on the photoelectric effect, on Brownian "
                    + "motion, on special relativity, and on the equivalence of mass and energy (E = mc²). Each of them changed its "
                    + "field, and together they made that year the 'annus mirabilis' of modern physics. Café owners in Bern, where "
                    + "he worked at the patent office, may not have noticed.");

    public static Path jar() {
        return BuiltinModels.jar(BuiltinModels.MINILM);
    }

    public static Path onnx() {
        return BuiltinModels.entries(BuiltinModels.MINILM).weights();
    }

    public static byte[] onnxBytes() throws IOException {
        return Files.readAllBytes(onnx());
    }

    /** The artifact's tokenizer.json copied to a real file (the Rust tokenizer reads files, not jar entries). */
    public static Path tokenizerJson(Path dir) throws IOException {
        Path out = dir.resolve("tokenizer.json");
        Files.copy(BuiltinModels.entries(BuiltinModels.MINILM).vocab(), out, StandardCopyOption.REPLACE_EXISTING);
        return out;
    }

    /** Hugging Face's own tokenizer for the artifact: special tokens added, no padding, no truncation. */
    public static HuggingFaceTokenizer hfTokenizer(Path dir) throws IOException {
        return HuggingFaceTokenizer.builder().optTokenizerPath(tokenizerJson(dir))
                .optAddSpecialTokens(true).optPadding(false).optTruncation(false).build();
    }

    /** A right-padded batch of the texts as Hugging Face tokenizes them (pad id 0, token types 0). */
    public static Batch hfBatch(HuggingFaceTokenizer tok, List<String> texts) {
        long[][] ids = new long[texts.size()][];
        int seq = 0;
        for (int i = 0; i < texts.size(); i++) {
            Encoding e = tok.encode(texts.get(i));
            ids[i] = e.getIds();
            seq = Math.max(seq, ids[i].length);
        }
        int[] in = new int[texts.size() * seq], types = new int[in.length], mask = new int[in.length];
        for (int i = 0; i < texts.size(); i++) {
            for (int t = 0; t < ids[i].length; t++) {
                in[i * seq + t] = (int) ids[i][t];
                mask[i * seq + t] = 1;
            }
        }
        return new Batch(texts.size(), seq, in, types, mask);
    }

    /** ONNX Runtime on the original graph, optimisations off, so that it computes the graph as written. */
    public static final class Runtime implements AutoCloseable {
        private final OrtEnvironment env = OrtEnvironment.getEnvironment();
        private final OrtSession session;

        public Runtime() throws IOException, OrtException {
            try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
                o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.NO_OPT);
                o.setIntraOpNumThreads(2);
                session = env.createSession(onnxBytes(), o);
            }
        }

        /** last_hidden_state [batch, seqLen, hidden], flattened row-major, in float64. */
        public double[] lastHidden(Batch b) throws OrtException {
            long[] shape = {b.size(), b.seqLen()};
            try (OnnxTensor ids = OnnxTensor.createTensor(env, LongBuffer.wrap(longs(b.inputIds())), shape);
                 OnnxTensor mask = OnnxTensor.createTensor(env, LongBuffer.wrap(longs(b.attentionMask())), shape);
                 OnnxTensor types = OnnxTensor.createTensor(env, LongBuffer.wrap(longs(b.tokenTypeIds())), shape);
                 OrtSession.Result r = session.run(Map.of("input_ids", ids, "attention_mask", mask, "token_type_ids", types))) {
                OnnxTensor out = (OnnxTensor) r.get("last_hidden_state").orElseThrow();
                java.nio.FloatBuffer f = out.getFloatBuffer();
                double[] d = new double[f.remaining()];
                for (int i = 0; i < d.length; i++) d[i] = f.get(i);
                return d;
            }
        }

        private static long[] longs(int[] a) {
            long[] l = new long[a.length];
            for (int i = 0; i < a.length; i++) l[i] = a[i];
            return l;
        }

        @Override
        public void close() throws OrtException {
            session.close();
        }
    }
}
