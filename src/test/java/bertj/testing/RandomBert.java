package bertj.testing;

import bertj.model.BertConfig;
import bertj.model.GeluForm;
import bertj.model.TensorNames;
import bertj.readers.Tensor;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/** Small random BERTs built in Java, for tests that need a model but not PyTorch. */
public final class RandomBert {
    private RandomBert() {
    }

    public static final BertConfig TINY = new BertConfig(100, 32, 2, 4, 64, 16, 2, 1e-12, GeluForm.ERF);

    /** Canonical tensors (with a QA head) for {@code c}, drawn from {@code seed}, at realistic scales. */
    public static Map<String, Tensor> tensors(BertConfig c, long seed) {
        Random r = new Random(seed);
        Map<String, Tensor> t = new LinkedHashMap<>();
        int h = c.hiddenSize(), ff = c.intermediateSize();
        t.put(TensorNames.WORD_EMBEDDINGS, normal(r, 0.5, c.vocabSize(), h));
        t.put(TensorNames.POSITION_EMBEDDINGS, normal(r, 0.2, c.maxPositions(), h));
        t.put(TensorNames.TOKEN_TYPE_EMBEDDINGS, normal(r, 0.2, c.typeVocabSize(), h));
        norm(t, r, TensorNames.EMBEDDINGS_LAYER_NORM, h);
        for (int i = 0; i < c.numLayers(); i++) {
            for (String m : new String[] {"attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"}) {
                linear(t, r, TensorNames.layer(i, m), h, h);
            }
            norm(t, r, TensorNames.layer(i, "attention.output.LayerNorm"), h);
            linear(t, r, TensorNames.layer(i, "intermediate.dense"), ff, h);
            linear(t, r, TensorNames.layer(i, "output.dense"), h, ff);
            norm(t, r, TensorNames.layer(i, "output.LayerNorm"), h);
        }
        linear(t, r, TensorNames.QA_OUTPUTS, 2, h);
        return t;
    }

    private static void linear(Map<String, Tensor> t, Random r, String module, int out, int in) {
        t.put(module + ".weight", normal(r, 1.0 / Math.sqrt(in), out, in));
        t.put(module + ".bias", normal(r, 0.05, out));
    }

    private static void norm(Map<String, Tensor> t, Random r, String module, int n) {
        float[] g = new float[n];
        for (int i = 0; i < n; i++) g[i] = (float) (1 + 0.05 * r.nextGaussian());
        t.put(module + ".weight", Tensor.ofFloats(new int[] {n}, g));
        t.put(module + ".bias", normal(r, 0.05, n));
    }

    public static Tensor normal(Random r, double std, int... shape) {
        float[] v = new float[(int) Tensor.numel(shape)];
        for (int i = 0; i < v.length; i++) v[i] = (float) (std * r.nextGaussian());
        return Tensor.ofFloats(shape, v);
    }
}
