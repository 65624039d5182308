package bertj.model;

import bertj.readers.Tensor;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The weights of a BERT encoder (and its optional pooler and QA head), in canonical names and PyTorch's
 * layouts: a linear layer's weight is [out, in] and computes y = x Wᵀ + b.
 */
public record BertWeights(BertConfig config, Embeddings embeddings, List<Layer> layers, Linear pooler, Linear qaOutputs) {

    /** y = x Wᵀ + b with W [out, in] and b [out]. */
    public record Linear(Tensor weight, Tensor bias) {
        public int in() {
            return weight.dim(1);
        }

        public int out() {
            return weight.dim(0);
        }

        /**
         * One linear layer computing the given ones side by side: W = [W₀; W₁; …] [Σ out, in] and b = [b₀; b₁; …],
         * so that its output's columns are theirs, in order. The dtype is kept when all parts share it (float64
         * stays float64 for the reference backend), else the values are widened to float64, which holds every
         * float type exactly.
         */
        public static Linear stacked(Linear... parts) {
            int in = parts[0].in();
            for (Linear p : parts) {
                if (p.in() != in) throw new IllegalArgumentException("stacked linear layers need the same input width");
            }
            return new Linear(concatRows(java.util.Arrays.stream(parts).map(Linear::weight).toList()),
                    concatRows(java.util.Arrays.stream(parts).map(Linear::bias).toList()));
        }

        private static Tensor concatRows(List<Tensor> parts) {
            int[] shape = parts.get(0).shape();
            shape[0] = parts.stream().mapToInt(t -> t.dim(0)).sum();
            bertj.readers.DType dtype = parts.get(0).dtype();
            boolean same = parts.stream().allMatch(t -> t.dtype() == dtype);
            if (!same) {
                double[] all = parts.stream().flatMapToDouble(t -> java.util.Arrays.stream(t.toDoubles())).toArray();
                return Tensor.ofDoubles(shape, all);
            }
            if (shape.length == 2 && parts.stream().allMatch(t -> t.transposeOf() != null)) return concatTransposed(parts, shape);
            java.nio.ByteBuffer out = java.nio.ByteBuffer.allocate(parts.stream().mapToInt(t -> t.bytes().remaining()).sum());
            for (Tensor t : parts) out.put(t.bytes());
            return new Tensor(dtype, shape, out.flip());
        }

        /**
         * concatRows of transposes (ONNX's query, key and value weights): the transpose of their matrices side by
         * side, a row copy per matrix and row, so that the stacked weight is made lazily too (Tensor.transposed).
         */
        private static Tensor concatTransposed(List<Tensor> parts, int[] shape) {
            int rows = shape[1], w = parts.get(0).dtype().bytes(); // the matrices' rows: the weights' input width
            java.nio.ByteBuffer out = java.nio.ByteBuffer.allocate(Math.multiplyExact(Math.multiplyExact(rows, shape[0]), w));
            java.nio.ByteBuffer[] src = new java.nio.ByteBuffer[parts.size()];
            for (int i = 0; i < src.length; i++) src[i] = parts.get(i).transposeOf().bytes();
            for (int r = 0; r < rows; r++) {
                for (int i = 0; i < src.length; i++) {
                    int width = parts.get(i).dim(0) * w;
                    out.put(src[i].slice(r * width, width));
                }
            }
            return Tensor.transposed(new Tensor(parts.get(0).dtype(), new int[] {rows, shape[0]}, out.flip()));
        }
    }

    /** LayerNorm's γ (weight) and β (bias), both [H]. */
    public record LayerNorm(Tensor weight, Tensor bias) {
    }

    /** BertEmbeddings: word [V, H], position [P, H] and token-type [T, H] tables, then LayerNorm. */
    public record Embeddings(Tensor word, Tensor position, Tensor tokenType, LayerNorm layerNorm) {
    }

    /**
     * One BertLayer: BertSelfAttention (query, key, value), BertSelfOutput (attentionOutput +
     * attentionLayerNorm), BertIntermediate (intermediate, then GELU) and BertOutput (output + outputLayerNorm).
     */
    public record Layer(Linear query, Linear key, Linear value, Linear attentionOutput, LayerNorm attentionLayerNorm,
                        Linear intermediate, Linear output, LayerNorm outputLayerNorm) {
        /** query, key and value as one linear layer [3H, H]: its output is what {@code Backend.attention} takes. */
        public Linear queryKeyValue() {
            return Linear.stacked(query, key, value);
        }
    }

    public boolean hasQaHead() {
        return qaOutputs != null;
    }

    /** Builds the record from canonical tensors; the names and shapes must already have been checked. */
    public static BertWeights of(BertConfig config, Map<String, Tensor> t) {
        Embeddings emb = new Embeddings(t.get(TensorNames.WORD_EMBEDDINGS), t.get(TensorNames.POSITION_EMBEDDINGS),
                t.get(TensorNames.TOKEN_TYPE_EMBEDDINGS), norm(t, TensorNames.EMBEDDINGS_LAYER_NORM));
        List<Layer> layers = new java.util.ArrayList<>();
        for (int i = 0; i < config.numLayers(); i++) {
            layers.add(new Layer(
                    linear(t, TensorNames.layer(i, "attention.self.query")),
                    linear(t, TensorNames.layer(i, "attention.self.key")),
                    linear(t, TensorNames.layer(i, "attention.self.value")),
                    linear(t, TensorNames.layer(i, "attention.output.dense")),
                    norm(t, TensorNames.layer(i, "attention.output.LayerNorm")),
                    linear(t, TensorNames.layer(i, "intermediate.dense")),
                    linear(t, TensorNames.layer(i, "output.dense")),
                    norm(t, TensorNames.layer(i, "output.LayerNorm"))));
        }
        Linear pooler = t.containsKey(TensorNames.POOLER + ".weight") ? linear(t, TensorNames.POOLER) : null;
        Linear qa = t.containsKey(TensorNames.QA_OUTPUTS + ".weight") ? linear(t, TensorNames.QA_OUTPUTS) : null;
        return new BertWeights(config, emb, List.copyOf(layers), pooler, qa);
    }

    /** Every tensor under its canonical name, in forward order. */
    public Map<String, Tensor> canonicalTensors() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put(TensorNames.WORD_EMBEDDINGS, embeddings.word());
        m.put(TensorNames.POSITION_EMBEDDINGS, embeddings.position());
        m.put(TensorNames.TOKEN_TYPE_EMBEDDINGS, embeddings.tokenType());
        put(m, TensorNames.EMBEDDINGS_LAYER_NORM, embeddings.layerNorm());
        for (int i = 0; i < layers.size(); i++) {
            Layer l = layers.get(i);
            put(m, TensorNames.layer(i, "attention.self.query"), l.query());
            put(m, TensorNames.layer(i, "attention.self.key"), l.key());
            put(m, TensorNames.layer(i, "attention.self.value"), l.value());
            put(m, TensorNames.layer(i, "attention.output.dense"), l.attentionOutput());
            put(m, TensorNames.layer(i, "attention.output.LayerNorm"), l.attentionLayerNorm());
            put(m, TensorNames.layer(i, "intermediate.dense"), l.intermediate());
            put(m, TensorNames.layer(i, "output.dense"), l.output());
            put(m, TensorNames.layer(i, "output.LayerNorm"), l.outputLayerNorm());
        }
        if (pooler != null) put(m, TensorNames.POOLER, pooler);
        if (qaOutputs != null) put(m, TensorNames.QA_OUTPUTS, qaOutputs);
        return m;
    }

    public long parameterCount() {
        long n = 0;
        for (Tensor x : canonicalTensors().values()) n += x.numel();
        return n;
    }

    private static void put(Map<String, Tensor> m, String module, Linear l) {
        m.put(module + ".weight", l.weight());
        m.put(module + ".bias", l.bias());
    }

    private static void put(Map<String, Tensor> m, String module, LayerNorm n) {
        m.put(module + ".weight", n.weight());
        m.put(module + ".bias", n.bias());
    }

    private static Linear linear(Map<String, Tensor> t, String module) {
        return new Linear(t.get(module + ".weight"), t.get(module + ".bias"));
    }

    private static LayerNorm norm(Map<String, Tensor> t, String module) {
        return new LayerNorm(t.get(module + ".weight"), t.get(module + ".bias"));
    }
}
