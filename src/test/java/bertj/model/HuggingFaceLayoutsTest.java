package bertj.model;

import bertj.backend.Backends;
import bertj.backend.Batch;
import bertj.encoder.BertEncoder;
import bertj.readers.SafeTensors;
import bertj.readers.Tensor;
import bertj.testing.Cli;
import bertj.testing.MiniLm;
import bertj.testing.PyTorch;
import bertj.testing.RandomBert;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Hugging Face safetensors exports of BERT go through the same canonical names as the ONNX import: the real
 * all-MiniLM-L6-v2, converted to a BertModel directory (by {@code bertj convert}) and to a
 * BertForQuestionAnswering directory ({@code bert.} prefix plus a QA head), loads to the same weights and gives
 * the same outputs, bit for bit.
 */
class HuggingFaceLayoutsTest {
    @TempDir
    Path dir;

    /** A padded batch of real sentences, tokenized by bertj's own tokenizer. */
    static Batch batch(LoadedModel m) {
        var tok = bertj.tokenizer.BertTokenizer.load(m.vocab(), null);
        var enc = List.of(MiniLm.SENTENCES.get(0), MiniLm.SENTENCES.get(9), MiniLm.SENTENCES.get(8)).stream()
                .map(t -> tok.sequence(t, 512)).toList();
        return bertj.embed.SentenceEmbedder.batch(enc, tok.vocab().padId());
    }

    static double[] hidden(LoadedModel m, String backend, Batch b) {
        try (BertEncoder e = new BertEncoder(m.weights(), Backends.create(backend))) {
            return e.forward(b, true, null).lastHidden();
        }
    }

    static void assertSameWeights(LoadedModel a, LoadedModel b) {
        Map<String, Tensor> x = a.weights().canonicalTensors(), y = b.weights().canonicalTensors();
        for (String n : x.keySet()) {
            assertArrayEquals(x.get(n).shape(), y.get(n).shape(), n);
            assertEquals(x.get(n).bytes(), y.get(n).bytes(), n);
        }
    }

    @Test
    void bertModelLayoutWrittenByConvert() throws Exception {
        Path out = dir.resolve("minilm-hf");
        Cli.Result r = Cli.run("convert", "--model", "minilm", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        for (String f : List.of("model.safetensors", "config.json", "tokenizer.json")) assertTrue(Files.isRegularFile(out.resolve(f)), f);
        var keys = SafeTensors.read(out.resolve("model.safetensors")).tensors().keySet();
        assertTrue(keys.contains("encoder.layer.0.attention.self.query.weight"), "BertModel keys have no prefix");
        assertFalse(keys.stream().anyMatch(k -> k.startsWith("bert.") || k.startsWith("qa_outputs")), keys.toString());

        LoadedModel onnx = ModelLoader.load(Path.of("minilm")), hf = ModelLoader.load(out);
        assertEquals(onnx.config(), hf.config());
        assertEquals("config.json", hf.configFrom());
        assertTrue(hf.geluFrom().contains("\"gelu\""), hf.geluFrom());
        assertSameWeights(onnx, hf);
        Batch b = batch(onnx);
        for (String backend : List.of("reference", "cpu")) {
            assertArrayEquals(hidden(onnx, backend, b), hidden(hf, backend, b), 0.0, backend);
        }
        String[] texts = {"A man is eating food.", "A man is eating a piece of bread.", "A monkey is playing drums."};
        Cli.Result viaOnnx = Cli.run(concat(new String[] {"similarity", "--json"}, texts));
        Cli.Result viaHf = Cli.run(concat(new String[] {"similarity", "--json", "--model", out.toString()}, texts));
        ObjectMapper json = new ObjectMapper();
        assertEquals(json.readTree(viaOnnx.out()).get("similarities"), json.readTree(viaHf.out()).get("similarities"));
    }

    @Test
    void bertForQuestionAnsweringLayout() throws Exception {
        LoadedModel onnx = ModelLoader.load(Path.of("minilm"));
        Random rnd = new Random(PyTorch.seed("minilm with a random QA head"));
        Map<String, Tensor> out = new LinkedHashMap<>();
        onnx.weights().canonicalTensors().forEach((n, t) -> out.put("bert." + n, t));
        Tensor qaW = RandomBert.normal(rnd, 0.05, 2, 384), qaB = RandomBert.normal(rnd, 0.05, 2);
        out.put("qa_outputs.weight", qaW);
        out.put("qa_outputs.bias", qaB);
        Path hfDir = Files.createDirectories(dir.resolve("minilm-qa"));
        SafeTensors.write(hfDir.resolve("model.safetensors"), out, Map.of("format", "pt"));
        ObjectMapper json = new ObjectMapper();
        ObjectNode cfg = json.createObjectNode();
        cfg.putArray("architectures").add("BertForQuestionAnswering");
        cfg.put("model_type", "bert").put("vocab_size", 30522).put("hidden_size", 384).put("num_hidden_layers", 6)
                .put("num_attention_heads", 12).put("intermediate_size", 1536).put("hidden_act", "gelu")
                .put("max_position_embeddings", 512).put("type_vocab_size", 2).put("layer_norm_eps", 1e-12);
        json.writeValue(hfDir.resolve("config.json").toFile(), cfg);
        Files.copy(onnx.vocab(), hfDir.resolve("tokenizer.json"));

        LoadedModel qa = ModelLoader.load(hfDir);
        assertEquals(onnx.config(), qa.config());
        assertTrue(qa.weights().hasQaHead());
        assertSameWeights(onnx, qa);
        assertEquals(qaW.bytes(), qa.weights().qaOutputs().weight().bytes());
        Batch b = batch(onnx);
        double[] h = hidden(onnx, "reference", b);
        try (BertEncoder e = new BertEncoder(qa.weights(), Backends.create("reference"))) {
            BertEncoder.Output o = e.forward(b, true, null);
            assertArrayEquals(h, o.lastHidden(), 0.0, "same encoder output under BertForQuestionAnswering keys");
            // start/end logits = h Wqaᵀ + bqa, token by token.
            double[] w = qaW.toDoubles(), bias = qaB.toDoubles();
            for (int t = 0; t < b.tokens(); t++) {
                double s = bias[0], en = bias[1];
                for (int j = 0; j < 384; j++) {
                    s += h[t * 384 + j] * w[j];
                    en += h[t * 384 + j] * w[384 + j];
                }
                assertEquals(s, o.startLogits()[t], 1e-12);
                assertEquals(en, o.endLogits()[t], 1e-12);
            }
        }
    }

    private static String[] concat(String[] a, String[] b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
