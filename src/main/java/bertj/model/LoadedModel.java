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

    /**
     * The vocabulary to tokenize with: {@code given} (--vocab) when not null, else the one found beside the
     * weights; neither is an error that says what to pass.
     */
    public Path vocabulary(Path given) {
        Path v = given != null ? given : vocab;
        if (v == null) {
            throw new bertj.readers.ModelFileException(source + ": no vocabulary found beside the model; pass one with --vocab"
                    + " (a vocab.txt or tokenizer.json; NVIDIA's checkpoints use BERT's uncased vocab.txt)");
        }
        if (!java.nio.file.Files.isRegularFile(v)) {
            throw new bertj.readers.ModelFileException(v + ": no such vocabulary file");
        }
        return v;
    }

    /** One tensor of the file: its name there, canonical name (null when unused), dtype and shape. */
    public record TensorInfo(String sourceName, String canonicalName, String dtype, int[] shape) {
    }
}
