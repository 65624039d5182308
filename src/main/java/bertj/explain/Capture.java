package bertj.explain;

import bertj.backend.Batch;
import bertj.encoder.BertEncoder;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * What an explanation shows of one forward pass over one sequence, taken through {@link BertEncoder.Tap} —
 * the same taps {@code bertj trace} saves — so the report shows the encoder's own intermediates, never a second
 * computation: {@code layer.i.attention_probs} [1, heads, S, S], {@code embeddings} and {@code layer.i}
 * [1, S, H], and {@code start_logits}/{@code end_logits} [1, S] when the model has a QA head.
 *
 * @param seconds wall time of the forward pass, copies to the host included
 */
public record Capture(int layers, int heads, int seqLen, int hidden, Map<String, double[]> tensors, String backend,
                      String precision, double seconds) {

    /** Runs the encoder once on one unpadded sequence and keeps the tensors listed above. */
    public static Capture run(BertEncoder encoder, int[] inputIds, int[] tokenTypeIds) {
        int s = inputIds.length;
        int[] mask = new int[s];
        Arrays.fill(mask, 1);
        Batch batch = new Batch(1, s, inputIds.clone(), tokenTypeIds.clone(), mask);
        Map<String, double[]> kept = new HashMap<>();
        long t0 = System.nanoTime();
        encoder.forward(batch, false, new BertEncoder.Tap() {
            @Override
            public boolean wants(String name) {
                return name.equals("embeddings") || name.matches("layer\\.\\d+(\\.attention_probs)?") || name.endsWith("_logits");
            }

            @Override
            public void take(String name, int[] shape, double[] values) {
                kept.put(name, values);
            }
        });
        double seconds = (System.nanoTime() - t0) / 1e9;
        var c = encoder.config();
        return new Capture(c.numLayers(), c.numHeads(), s, c.hiddenSize(), Map.copyOf(kept), encoder.backend().name(),
                encoder.backend().precision(), seconds);
    }

    /** Attention probabilities of layer l, head h: row-major [query i][key j], each row summing to 1. */
    public double[] attention(int layer, int head) {
        double[] all = require("layer." + layer + ".attention_probs");
        int n = seqLen * seqLen;
        return Arrays.copyOfRange(all, head * n, (head + 1) * n);
    }

    /**
     * ‖h_t‖₂ of every token t for the embeddings (row 0) and the output of each layer (row l + 1): how large
     * the vector each token carries is at each depth. Post-LayerNorm BERT keeps these near √H · mean|γ|; tokens
     * the model treats specially ([CLS], [SEP], punctuation) often stand out.
     */
    public double[][] hiddenNorms() {
        double[][] out = new double[layers + 1][];
        for (int l = 0; l <= layers; l++) {
            double[] h = require(l == 0 ? "embeddings" : "layer." + (l - 1));
            double[] norms = new double[seqLen];
            for (int t = 0; t < seqLen; t++) {
                double sq = 0;
                for (int k = 0; k < hidden; k++) sq += h[t * hidden + k] * h[t * hidden + k];
                norms[t] = Math.sqrt(sq);
            }
            out[l] = norms;
        }
        return out;
    }

    /** start_logits, or null without a QA head. */
    public double[] startLogits() {
        return tensors.get("start_logits");
    }

    /** end_logits, or null without a QA head. */
    public double[] endLogits() {
        return tensors.get("end_logits");
    }

    private double[] require(String name) {
        double[] v = tensors.get(name);
        if (v == null) throw new IllegalStateException("the encoder produced no " + name);
        return v;
    }
}
