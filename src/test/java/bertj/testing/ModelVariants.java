package bertj.testing;

import bertj.backend.Batch;
import bertj.model.BertWeights;
import bertj.readers.Tensor;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BiFunction;

/**
 * Models and inputs changed on purpose, for the negative controls of the parity tests (a tolerance must be tight
 * enough that a known wrong variant fails it) and for the fp16 oracle.
 */
public final class ModelVariants {
    private ModelVariants() {
    }

    /** The weights with every tensor rounded to half (round to nearest even), as the opencl backend stores them. */
    public static BertWeights halfRounded(BertWeights w) {
        return map(w, (name, t) -> {
            float[] f = t.toFloats();
            for (int i = 0; i < f.length; i++) f[i] = Float.float16ToFloat(Float.floatToFloat16(f[i]));
            return Tensor.ofFloats(t.shape(), f);
        });
    }

    /**
     * A LayerNorm that divides by the unbiased standard deviation (n − 1 in the variance, torch.var's default)
     * instead of BERT's biased one: (x − μ)/σ_u · γ + β with σ_u = σ·√(n/(n−1)), which is the biased LayerNorm with
     * γ scaled by √((n−1)/n) — for n = 288 a change of 1.7e-3 in every normalised value.
     */
    public static BertWeights unbiasedLayerNorm(BertWeights w) {
        return map(w, (name, t) -> {
            if (!name.endsWith("LayerNorm.weight")) return t;
            float[] g = t.toFloats();
            double s = Math.sqrt((g.length - 1.0) / g.length);
            for (int i = 0; i < g.length; i++) g[i] = (float) (g[i] * s);
            return Tensor.ofFloats(t.shape(), g);
        });
    }

    /** The batch with its attention mask dropped (every key attended, padding included). */
    public static Batch withoutMask(Batch b) {
        int[] ones = new int[b.tokens()];
        Arrays.fill(ones, 1);
        return new Batch(b.size(), b.seqLen(), b.inputIds(), b.tokenTypeIds(), ones);
    }

    private static BertWeights map(BertWeights w, BiFunction<String, Tensor, Tensor> f) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        w.canonicalTensors().forEach((name, t) -> out.put(name, f.apply(name, t)));
        return BertWeights.of(w.config(), out);
    }
}
