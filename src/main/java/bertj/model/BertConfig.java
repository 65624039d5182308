package bertj.model;

/**
 * The shape of a BERT encoder and the two numerical choices that are not visible in its tensors: the
 * LayerNorm epsilon and the GELU form.
 *
 * @param vocabSize        rows of the word-embedding table (NVIDIA pads 30522 to 30528, a multiple of 8)
 * @param hiddenSize       width H of every token vector
 * @param numLayers        encoder layers L
 * @param numHeads         attention heads; H / numHeads is the head size
 * @param intermediateSize width of the feed-forward layer (4H in BERT)
 * @param maxPositions     rows of the position-embedding table: the longest sequence
 * @param typeVocabSize    token types (segments A and B)
 * @param layerNormEps     ε in LayerNorm's √(var + ε)
 * @param gelu             which GELU the feed-forward layer applies
 */
public record BertConfig(int vocabSize, int hiddenSize, int numLayers, int numHeads, int intermediateSize,
                         int maxPositions, int typeVocabSize, double layerNormEps, GeluForm gelu) {

    /** NVIDIA's distilled BERT 4L-288D: 4 layers, hidden 288, 12 heads of 24, FFN 1152, tanh GELU. */
    public static final BertConfig NVIDIA_4L_288D = new BertConfig(30528, 288, 4, 12, 1152, 512, 2, 1e-12, GeluForm.TANH);

    public BertConfig {
        if (vocabSize <= 0 || hiddenSize <= 0 || numLayers <= 0 || numHeads <= 0 || intermediateSize <= 0
                || maxPositions <= 0 || typeVocabSize <= 0) {
            throw new IllegalArgumentException("every size in a BERT config must be positive");
        }
        if (hiddenSize % numHeads != 0) {
            throw new IllegalArgumentException("hidden size " + hiddenSize + " is not a multiple of the " + numHeads + " heads");
        }
        if (!(layerNormEps > 0 && layerNormEps < 1)) {
            throw new IllegalArgumentException("layer_norm_eps " + layerNormEps + " is outside (0, 1)");
        }
    }

    public int headSize() {
        return hiddenSize / numHeads;
    }

    public BertConfig withGelu(GeluForm g) {
        return new BertConfig(vocabSize, hiddenSize, numLayers, numHeads, intermediateSize, maxPositions, typeVocabSize, layerNormEps, g);
    }
}
