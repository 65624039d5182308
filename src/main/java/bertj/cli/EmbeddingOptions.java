package bertj.cli;

import bertj.backend.Backend;
import bertj.embed.SentenceEmbedder;
import bertj.embed.SentenceEmbedder.Embedding;
import bertj.embed.SentenceEmbedder.Pooling;
import bertj.encoder.BertEncoder;
import bertj.model.LoadedModel;
import bertj.tokenizer.BertTokenizer;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Options and steps that {@code embed} and {@code similarity} share: vocabulary, pooling, lengths, a second backend. */
public class EmbeddingOptions {
    @Mixin
    VocabularyOptions vocabulary;

    @Option(names = "--pooling", paramLabel = "mean|cls", defaultValue = "mean", converter = PoolingConverter.class,
            description = "mean: average of the token vectors over the attention mask (sentence-transformers); cls: the [CLS] vector. Default: ${DEFAULT-VALUE}.")
    Pooling pooling;

    @Option(names = "--max-length", paramLabel = "N",
            description = "Cut texts to N tokens, [CLS] and [SEP] included (default: the model's positions; 256 for minilm, as sentence-transformers cuts it; 'bertj info' says).")
    Integer maxLength;

    @Option(names = "--batch-size", paramLabel = "N", defaultValue = "32", converter = Converters.Positive.class,
            description = "Texts per forward pass. Default: ${DEFAULT-VALUE}.")
    int batchSize;

    @Option(names = "--compare", paramLabel = "BACKEND", converter = Converters.BackendName.class,
            description = "Also run BACKEND (e.g. opencl) and report how well its embeddings agree; a backend that cannot run here is reported, not fatal.")
    String compare;

    /** The model and its tokenizer, read at once ({@link VocabularyOptions#load}). */
    VocabularyOptions.Loaded load(ModelShapeOptions model) {
        return vocabulary.load(model.path(), model::load, bertj.tokenizer.LowerCasing.HF);
    }

    Pooling pooling() {
        return pooling;
    }

    /** --max-length, checked against the model's positions (a usage error of {@code cmd}). */
    int maxLength(CommandLine cmd, LoadedModel m) {
        int positions = m.config().maxPositions();
        if (maxLength == null) return defaultMaxLength(m);
        if (maxLength < 2 || maxLength > positions) {
            throw Converters.usage(cmd, "--max-length must be between 2 and the model's " + positions + " positions, got " + maxLength);
        }
        return maxLength;
    }

    /** The cut texts get without --max-length: a built-in model's own recipe, else the model's positions. */
    static int defaultMaxLength(LoadedModel m) {
        return bertj.embed.SentenceEmbedder.defaultMaxLength(m);
    }

    /**
     * Checks what needs no model, with the backend options (a --compare equal to --backend; --device or --threads
     * that neither backend uses): call before loading one, so that usage errors come first.
     */
    void check(CommandLine cmd, BackendOptions primary) {
        if (compare != null && compare.equals(primary.backend)) {
            throw Converters.usage(cmd, "--compare " + compare + " is the backend already running; choose another");
        }
        primary.check(cmd, compare);
    }

    static final class PoolingConverter implements CommandLine.ITypeConverter<Pooling> {
        @Override
        public Pooling convert(String value) {
            try {
                return Pooling.parse(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }

    /** The embeddings of one backend, and the wall time of its forward passes (weights upload excluded). */
    record Run(String backend, String precision, List<Embedding> embeddings, double seconds) {
    }

    static Run run(LoadedModel m, Backend backend, BertTokenizer tok, Pooling pooling, boolean normalize, int maxLen,
                   int batchSize, List<String> texts) {
        try (BertEncoder encoder = new BertEncoder(m.weights(), backend)) {
            SentenceEmbedder e = new SentenceEmbedder(encoder, tok, pooling, normalize, maxLen);
            long t0 = System.nanoTime();
            List<Embedding> out = e.embed(texts, batchSize);
            return new Run(backend.name(), backend.precision(), out, (System.nanoTime() - t0) / 1e9);
        }
    }

    /**
     * The second backend's run, or why it could not run here (no device, no driver, a native library missing).
     * Either way the answer is explicit: {@code run} is null exactly when {@code unavailable} says why.
     */
    record Comparison(String backend, Run run, String unavailable, double[] cosines) {
        double minCosine() {
            double m = Double.POSITIVE_INFINITY;
            for (double c : cosines) m = Math.min(m, c);
            return m;
        }
    }

    Comparison compare(LoadedModel m, BackendOptions primary, BertTokenizer tok, boolean normalize, int maxLen,
                       List<String> texts, Run first) {
        if (compare == null) return null;
        Run second;
        try {
            Backend b = primary.create(compare);
            second = run(m, b, tok, pooling(), normalize, maxLen, batchSize, texts);
        } catch (RuntimeException | LinkageError e) {
            return new Comparison(compare, null, Main.describe(e), null);
        }
        double[] cos = new double[texts.size()];
        for (int i = 0; i < cos.length; i++) {
            cos[i] = SentenceEmbedder.cosine(first.embeddings().get(i).vector(), second.embeddings().get(i).vector());
        }
        return new Comparison(compare, second, null, cos);
    }

    /** A cosine for people: 0.9994731, or 1 - 4.1e-13 when seven decimals would round it to 1. */
    static String cosine(double c) {
        return c > 0.9999999 && c <= 1 ? String.format(java.util.Locale.ROOT, "1 - %.1e", 1 - c)
                : String.format(java.util.Locale.ROOT, "%.7f", c);
    }

    static void putRun(ObjectNode n, Run r) {
        n.put("backend", r.backend());
        n.put("precision", r.precision());
        n.put("seconds", r.seconds());
    }

    static ObjectNode compareJson(ObjectNode root, Comparison c) {
        ObjectNode n = root.putObject("compare");
        n.put("backend", c.backend());
        n.put("available", c.run() != null);
        if (c.run() == null) {
            n.put("reason", c.unavailable());
            return n;
        }
        n.put("precision", c.run().precision());
        n.put("seconds", c.run().seconds());
        ArrayNode cos = n.putArray("embedding_cosine");
        for (double x : c.cosines()) cos.add(x);
        n.put("min_embedding_cosine", c.minCosine());
        return n;
    }
}
