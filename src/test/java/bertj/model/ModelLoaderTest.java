package bertj.model;

import bertj.readers.ModelFileException;
import bertj.readers.SafeTensors;
import bertj.readers.Tensor;
import bertj.testing.RandomBert;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelLoaderTest {
    @TempDir
    Path dir;

    @Test
    void canonicalNamesCoverEverySpelling() {
        assertEquals("encoder.layer.0.intermediate.dense.weight", TensorNames.canonical("bert.encoder.layer.0.intermediate.dense_act.weight"));
        assertEquals("pooler.dense.bias", TensorNames.canonical("module.bert.pooler.dense_act.bias"));
        assertEquals("embeddings.LayerNorm.weight", TensorNames.canonical("bert.embeddings.LayerNorm.gamma"));
        assertEquals("encoder.layer.3.output.LayerNorm.bias", TensorNames.canonical("encoder.layer.3.output.LayerNorm.beta"));
        assertEquals("qa_outputs.weight", TensorNames.canonical("module.qa_outputs.weight"));
    }

    private Path file(Map<String, Tensor> t) throws Exception {
        Path p = dir.resolve("m" + System.nanoTime() + ".safetensors");
        SafeTensors.write(p, t, Map.of());
        return p;
    }

    @Test
    void refusesToGuessHeadsForUnknownHiddenSize() throws Exception {
        Path p = file(RandomBert.tensors(RandomBert.TINY, 1));
        ModelFileException e = assertThrows(ModelFileException.class, () -> ModelLoader.load(p));
        assertTrue(e.getMessage().contains("--heads"), e.getMessage());
        LoadedModel m = ModelLoader.load(p, new ModelLoader.Options(null, 4, null));
        assertEquals(4, m.config().numHeads());
        assertEquals(2, m.config().numLayers());
        assertEquals(64, m.config().intermediateSize());
        assertEquals(GeluForm.ERF, m.config().gelu(), "Hugging Face spellings default to erf");
    }

    @Test
    void oldGammaBetaAndBertPrefixLoad() throws Exception {
        Map<String, Tensor> t = new LinkedHashMap<>();
        RandomBert.tensors(RandomBert.TINY, 2).forEach((k, v) -> {
            String n = k.startsWith("qa_outputs") ? k : "bert." + k;
            t.put(n.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta"), v);
        });
        LoadedModel m = ModelLoader.load(file(t), new ModelLoader.Options(GeluForm.TANH, 4, null));
        assertTrue(m.weights().hasQaHead());
        assertEquals("--gelu tanh", m.geluFrom());
    }

    @Test
    void configFileMustAgreeWithTensors() throws Exception {
        Path d = dir.resolve("hf");
        Files.createDirectories(d);
        SafeTensors.write(d.resolve("model.safetensors"), RandomBert.tensors(RandomBert.TINY, 3), Map.of());
        Files.writeString(d.resolve("config.json"), "{\"hidden_size\":48,\"num_hidden_layers\":2,\"num_attention_heads\":4,"
                + "\"intermediate_size\":64,\"max_position_embeddings\":16,\"vocab_size\":100}");
        ModelFileException e = assertThrows(ModelFileException.class, () -> ModelLoader.load(d));
        assertTrue(e.getMessage().contains("hidden_size 48"), e.getMessage());
        Files.writeString(d.resolve("config.json"), "{\"hidden_size\":32,\"num_hidden_layers\":2,\"num_attention_heads\":4,"
                + "\"intermediate_size\":64,\"max_position_embeddings\":16,\"vocab_size\":96,\"hidden_act\":\"gelu_new\"}");
        LoadedModel m = ModelLoader.load(d);
        assertEquals(GeluForm.TANH, m.config().gelu());
        assertTrue(m.warnings().stream().anyMatch(w -> w.contains("vocab_size is 96")), m.warnings().toString());
        Files.writeString(d.resolve("config.json"), "{\"hidden_size\":32,\"num_hidden_layers\":2,\"num_attention_heads\":4,"
                + "\"intermediate_size\":64,\"max_position_embeddings\":16,\"hidden_act\":\"relu\"}");
        e = assertThrows(ModelFileException.class, () -> ModelLoader.load(d));
        assertTrue(e.getMessage().contains("relu"), e.getMessage());
    }

    @Test
    void unexpectedTensorsAreReportedNotUsed() throws Exception {
        Map<String, Tensor> t = RandomBert.tensors(RandomBert.TINY, 4);
        t.put("cls.predictions.bias", Tensor.ofFloats(new int[] {100}, new float[100]));
        t.put("encoder.layer.0.attention.self.rotary", Tensor.ofFloats(new int[] {2}, new float[] {1, 2}));
        LoadedModel m = ModelLoader.load(file(t), new ModelLoader.Options(null, 4, null));
        assertTrue(m.warnings().stream().anyMatch(w -> w.contains("encoder.layer.0.attention.self.rotary")), m.warnings().toString());
        assertTrue(m.warnings().stream().anyMatch(w -> w.contains("cls.predictions.bias")), m.warnings().toString());
    }

    /**
     * Weights must be finite: every kind of non-finite float32 and float64 (±infinity, quiet and signalling NaNs,
     * NaNs with any payload and sign) at every place of tensors of even and odd length is refused by the bit test
     * and named by the message; the largest finite values, subnormals and zeros pass.
     */
    @Test
    void nonFiniteWeightsAreRefusedWhereverTheyAre() throws Exception {
        int[] bad32 = {0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7f800001, 0x7fbfffff, 0xffffffff};
        int[] good32 = {0x7f7fffff, 0xff7fffff, 0x00000001, 0x80000001, 0x007fffff, 0, 0x80000000, 0x3f800000};
        long[] bad64 = {0x7ff0000000000000L, 0xfff0000000000000L, 0x7ff8000000000000L, 0x7ff0000000000001L, 0xffffffffffffffffL};
        long[] good64 = {0x7fefffffffffffffL, 0xffefffffffffffffL, 1L, 0x8000000000000001L, 0L, 0x3ff0000000000000L};
        for (int n : new int[] {1, 2, 3, 7, 8, 9, 16, 17}) {
            float[] clean = new float[n];
            double[] clean64 = new double[n];
            java.util.Random r = new java.util.Random(n);
            for (int i = 0; i < n; i++) {
                clean[i] = Float.intBitsToFloat(good32[r.nextInt(good32.length)]);
                clean64[i] = Double.longBitsToDouble(good64[r.nextInt(good64.length)]);
            }
            ModelLoader.checkFinite("m", "w", Tensor.ofFloats(new int[] {n}, clean));
            ModelLoader.checkFinite("m", "w", Tensor.ofDoubles(new int[] {n}, clean64));
            for (int i = 0; i < n; i++) {
                for (int bits : bad32) {
                    float[] f = clean.clone();
                    f[i] = Float.intBitsToFloat(bits);
                    Tensor t = Tensor.ofFloats(new int[] {1, n}, f);
                    ModelFileException e = assertThrows(ModelFileException.class, () -> ModelLoader.checkFinite("m", "w", t),
                            n + " values, " + Integer.toHexString(bits) + " at " + i);
                    assertEquals("m: w holds " + (double) f[i] + " at flat index " + i + " (shape [1, " + n + "]); weights must be finite",
                            e.getMessage());
                }
                for (long bits : bad64) {
                    double[] d = clean64.clone();
                    d[i] = Double.longBitsToDouble(bits);
                    Tensor t = Tensor.ofDoubles(new int[] {n}, d);
                    assertThrows(ModelFileException.class, () -> ModelLoader.checkFinite("m", "w", t), n + " doubles, " + Long.toHexString(bits) + " at " + i);
                }
            }
        }
        // and through a model file: a NaN in one weight
        Map<String, Tensor> t = RandomBert.tensors(RandomBert.TINY, 5);
        Tensor w = t.get("encoder.layer.1.output.dense.weight");
        float[] v = w.toFloats();
        v[v.length - 1] = Float.NaN;
        t.put("encoder.layer.1.output.dense.weight", Tensor.ofFloats(w.shape(), v));
        Path p = file(t);
        ModelFileException e = assertThrows(ModelFileException.class, () -> ModelLoader.load(p, new ModelLoader.Options(null, 4, null)));
        assertTrue(e.getMessage().contains("encoder.layer.1.output.dense.weight holds NaN at flat index " + (v.length - 1)), e.getMessage());
    }
}
