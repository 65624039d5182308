package bertj.model;

import java.nio.file.Path;
import java.util.List;

/**
 * A model as loaded from disk: its weights, the config they were read with and how it was decided.
 *
 * @param source     the file or directory given by the user
 * @param format     "pytorch-zip", "safetensors", "onnx", or "huggingface-dir (…)"
 * @param weights    canonical weights and config
 * @param configFrom where the config came from (a config file, or "tensor shapes + preset …")
 * @param geluFrom   why this GELU form was chosen
 * @param vocab      a vocabulary found beside the weights (vocab.txt or tokenizer.json), or null
 * @param tensors    every tensor read, with its source name and what became of it
 * @param warnings   tensors ignored and other things a user may want to know
 */
public record LoadedModel(Path source, String format, BertWeights weights, String configFrom, String geluFrom, Path vocab,
                          List<TensorInfo> tensors, List<String> warnings) {

    public BertConfig config() {
        return weights.config();
    }

    /** One tensor of the file: its name there, canonical name (null when unused), dtype and shape. */
    public record TensorInfo(String sourceName, String canonicalName, String dtype, int[] shape) {
    }
}
