package bertj.explain;

import bertj.model.BertConfig;
import bertj.model.GeluForm;
import bertj.readers.SafeTensors;
import bertj.readers.Tensor;
import bertj.testing.Cli;
import bertj.testing.MiniLm;
import bertj.testing.RandomBert;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** Models, inputs and traces for the explain tests. */
final class Fixtures {
    private Fixtures() {
    }

    /** A sentence with no "http" in it, so that a report of it holding one would be the report's fault. */
    static final String TEXT = "The animal didn't cross the street because it was too tired; the street was wide.";

    static final String QUESTION = "Who restored the second mill?";
    static final String CONTEXT = "The first mill was built by Josiah Whitcombe in 1794. A flood destroyed it in 1832. "
            + "The second mill, of stone, was restored in 1978 by the Millbrook Historical Society and now houses a museum.";

    /**
     * A random QA model over the real BERT-uncased vocabulary: 3 layers × 4 heads (not square, so a layer/head
     * mix-up shows), hidden 64, as a Hugging Face directory, plus the vocabulary as tokenizer.json.
     */
    static final BertConfig QA_CONFIG = new BertConfig(30522, 64, 3, 4, 128, 512, 2, 1e-12, GeluForm.ERF);

    static Path qaModel(Path dir, long seed) throws IOException {
        return model(dir.resolve("qa-model"), seed, true);
    }

    /** The same without the QA head (an encoder only, like minilm). */
    static Path encoderModel(Path dir, long seed) throws IOException {
        return model(dir.resolve("encoder-model"), seed, false);
    }

    private static Path model(Path m, long seed, boolean qaHead) throws IOException {
        Files.createDirectories(m);
        Map<String, Tensor> t = RandomBert.tensors(QA_CONFIG, seed);
        if (!qaHead) {
            t.remove(bertj.model.TensorNames.QA_OUTPUTS + ".weight");
            t.remove(bertj.model.TensorNames.QA_OUTPUTS + ".bias");
        }
        SafeTensors.write(m.resolve("model.safetensors"), t, Map.of());
        Files.writeString(m.resolve("config.json"), """
                {"vocab_size": 30522, "hidden_size": 64, "num_hidden_layers": 3, "num_attention_heads": 4,
                 "intermediate_size": 128, "max_position_embeddings": 512, "type_vocab_size": 2, "hidden_act": "gelu"}
                """);
        MiniLm.tokenizerJson(m);
        return m;
    }

    /** {@code bertj trace} of one sequence: every intermediate, by name. */
    static Map<String, Tensor> trace(Path dir, String model, int[] ids, int[] types) throws IOException {
        int s = ids.length;
        long[] li = new long[s], lt = new long[s], lm = new long[s];
        for (int i = 0; i < s; i++) {
            li[i] = ids[i];
            lt[i] = types[i];
            lm[i] = 1;
        }
        Path in = Files.createTempFile(dir, "trace-in-", ".safetensors"), out = dir.resolve(in.getFileName() + ".trace.safetensors");
        SafeTensors.write(in, Map.of("input_ids", Tensor.ofLongs(new int[] {1, s}, li), "token_type_ids", Tensor.ofLongs(new int[] {1, s}, lt),
                "attention_mask", Tensor.ofLongs(new int[] {1, s}, lm)), Map.of());
        Cli.Result r = Cli.run("trace", "--model", model, "--input", in.toString(), "--out", out.toString());
        if (r.code() != 0) throw new AssertionError("trace failed: " + r.err());
        return SafeTensors.read(out).tensors();
    }

    /** Attention of layer l, head h from a trace: [1, heads, S, S] sliced, row-major. */
    static double[] attention(Map<String, Tensor> trace, int l, int h, int s) {
        double[] all = trace.get("layer." + l + ".attention_probs").toDoubles();
        return java.util.Arrays.copyOfRange(all, h * s * s, (h + 1) * s * s);
    }

    /** ‖h_t‖₂ per token of a trace tensor [1, S, H]. */
    static double[] norms(Map<String, Tensor> trace, String name) {
        Tensor t = trace.get(name);
        int s = t.dim(1), hid = t.dim(2);
        double[] v = t.toDoubles(), out = new double[s];
        for (int i = 0; i < s; i++) {
            double sq = 0;
            for (int k = 0; k < hid; k++) sq += v[i * hid + k] * v[i * hid + k];
            out[i] = Math.sqrt(sq);
        }
        return out;
    }
}
