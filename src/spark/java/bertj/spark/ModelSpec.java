package bertj.spark;

import java.io.Serializable;
import java.util.Locale;

/**
 * Which model an executor loads and how: what the driver sends to every task. Two tasks with equal specs share one
 * loaded model in their JVM ({@link ExecutorModels}).
 *
 * @param model   a local path, a Hadoop-filesystem URI (hdfs://, s3a://, file://, …; copied to the executor once),
 *                a file shipped with spark-submit --files (found by name), or a built-in model name (minilm)
 * @param vocab   vocab.txt or tokenizer.json, the same kinds of location; null: the one beside the model
 * @param config  a config.json to read the model's shape from, or null
 * @param gelu    "erf" or "tanh" to override the GELU form, or null
 * @param heads   attention heads when no config tells them, or null
 * @param cased   true/false forces the tokenizer's casing; null: the vocabulary decides
 * @param lowerCasing "hf" or "python": how an uncased tokenizer lower-cases ({@link bertj.tokenizer.LowerCasing});
 *                null: hf
 * @param backend "reference", "cpu" or "opencl"
 * @param device  OpenCL device index
 * @param threads CPU threads for the cpu backend; 0: spark.executor.cores when set, else all cores
 */
public record ModelSpec(String model, String vocab, String config, String gelu, Integer heads, Boolean cased, String lowerCasing,
                        String backend, int device, int threads) implements Serializable {
    public ModelSpec {
        if (model == null || model.isBlank()) throw new IllegalArgumentException("a model is required");
        if (backend == null) backend = "cpu";
        if (gelu != null) gelu = gelu.toLowerCase(Locale.ROOT);
        if (lowerCasing != null) lowerCasing = bertj.tokenizer.LowerCasing.parse(lowerCasing).cliName();
        if (heads != null && heads < 1) throw new IllegalArgumentException("heads must be positive (got " + heads + ")");
        if (device < 0) throw new IllegalArgumentException("the device index must be 0 or positive (got " + device + ")");
        if (threads < 0) throw new IllegalArgumentException("threads must be 0 (the executor's cores) or positive (got " + threads + ")");
    }

    /** A model on the cpu backend, everything else as bertj's commands default it. */
    public static ModelSpec of(String model) {
        return new ModelSpec(model, null, null, null, null, null, null, "cpu", 0, 0);
    }

    public ModelSpec withVocab(String v) {
        return new ModelSpec(model, v, config, gelu, heads, cased, lowerCasing, backend, device, threads);
    }

    public ModelSpec withBackend(String b) {
        return new ModelSpec(model, vocab, config, gelu, heads, cased, lowerCasing, b, device, threads);
    }

    public ModelSpec withThreads(int t) {
        return new ModelSpec(model, vocab, config, gelu, heads, cased, lowerCasing, backend, device, t);
    }

    /** The same, lower-casing as {@code l} says ("hf", "python"; null: hf). */
    public ModelSpec withLowerCasing(String l) {
        return new ModelSpec(model, vocab, config, gelu, heads, cased, l, backend, device, threads);
    }
}
