package bertj.embed;

import bertj.backend.Backend;
import bertj.backend.Backends;
import bertj.backend.Batch;
import bertj.encoder.BertEncoder;
import bertj.model.LoadedModel;
import bertj.model.ModelLoader;
import bertj.tokenizer.BertTokenizer;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Sentence embeddings the sentence-transformers way: tokenize ({@link BertTokenizer#sequence}: [CLS] tokens [SEP],
 * token type 0 throughout), run the encoder on padded batches, pool the last hidden state, optionally L2-normalise.
 * <pre>
 *   mean:  e = Σ_t m_t h_t / max(Σ_t m_t, 1e-9)      m = attention mask (1 = real token, [CLS] and [SEP] included)
 *   cls:   e = h_0                                    the [CLS] token's vector
 *   normalize:  e / max(‖e‖₂, 1e-12)
 * </pre>
 * all-MiniLM-L6-v2 is trained for mean pooling followed by normalisation; its cosine similarities are then dot
 * products.
 *
 * <pre>
 *   try (SentenceEmbedder embedder = SentenceEmbedder.load("minilm")) {        // or a model file, or a directory
 *       double[] a = embedder.embed("A man is eating food.").vector();
 *       double[] b = embedder.embed("A man is eating a piece of bread.").vector();
 *       System.out.println(SentenceEmbedder.cosine(a, b));                      // 0.7553
 *   }
 * </pre>
 *
 * <p>Safe for concurrent callers: tokenization and pooling run in the caller's thread, forward passes take turns on
 * the encoder (see {@link BertEncoder}), so results are the same as from sequential calls. Closing the encoder
 * while calls are in flight lets the running pass finish; later calls fail with IllegalStateException.
 */
public final class SentenceEmbedder implements AutoCloseable {

    public enum Pooling {
        MEAN, CLS;

        public static Pooling parse(String s) {
            return switch (s.toLowerCase(Locale.ROOT)) {
                case "mean" -> MEAN;
                case "cls" -> CLS;
                default -> throw new IllegalArgumentException("unknown pooling '" + s + "' (choose mean or cls)");
            };
        }

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * @param tokens    ids fed to the model, [CLS] and [SEP] included
     * @param truncated whether the text was cut to fit the model's positions (or --max-length)
     */
    public record Embedding(String text, int tokens, boolean truncated, double[] vector) {
    }

    /**
     * How {@link #load(Path, Options)} builds an embedder.
     *
     * @param backend        "reference", "cpu" or "opencl" (see {@link Backends})
     * @param backendOptions OpenCL device and CPU threads
     * @param pooling        mean (sentence-transformers) or cls
     * @param normalize      L2-normalise each embedding
     * @param maxLength      tokens per text, [CLS] and [SEP] included; 0: the model's default
     *                       ({@link SentenceEmbedder#defaultMaxLength}: 256 for all-MiniLM-L6-v2, else its positions)
     * @param batchSize      texts per forward pass for {@link #embed(List)}
     * @param cased          true/false to force the casing; null: the vocabulary decides
     * @param model          how to read the checkpoint (GELU form, heads, config)
     */
    public record Options(String backend, Backends.Options backendOptions, Pooling pooling, boolean normalize, int maxLength,
                          int batchSize, Boolean cased, ModelLoader.Options model) {
        /** cpu backend, mean pooling, normalised, the model's default length, batches of 32: as sentence-transformers. */
        public static Options defaults() {
            return new Options("cpu", Backends.Options.defaults(), Pooling.MEAN, true, 0, 32, null, ModelLoader.Options.defaults());
        }

        public Options withBackend(String name) {
            return new Options(name, backendOptions, pooling, normalize, maxLength, batchSize, cased, model);
        }

        public Options withPooling(Pooling p, boolean normalise) {
            return new Options(backend, backendOptions, p, normalise, maxLength, batchSize, cased, model);
        }

        public Options withMaxLength(int n) {
            return new Options(backend, backendOptions, pooling, normalize, n, batchSize, cased, model);
        }

        public Options withBatchSize(int n) {
            return new Options(backend, backendOptions, pooling, normalize, maxLength, n, cased, model);
        }
    }

    private final BertEncoder encoder;
    private final BertTokenizer tokenizer;
    private final Pooling pooling;
    private final boolean normalize;
    private final int maxTokens;
    private final boolean ownsEncoder;
    private final int defaultBatchSize;

    /** An embedder over an encoder the caller owns (and closes): {@link #close} leaves it open. */
    public SentenceEmbedder(BertEncoder encoder, BertTokenizer tokenizer, Pooling pooling, boolean normalize, int maxTokens) {
        this(encoder, tokenizer, pooling, normalize, maxTokens, false, 32);
    }

    private SentenceEmbedder(BertEncoder encoder, BertTokenizer tokenizer, Pooling pooling, boolean normalize, int maxTokens,
                             boolean ownsEncoder, int defaultBatchSize) {
        if (maxTokens < 2 || maxTokens > encoder.config().maxPositions()) {
            throw new IllegalArgumentException("max length " + maxTokens + " is outside 2.." + encoder.config().maxPositions()
                    + " (the model's positions)");
        }
        this.encoder = encoder;
        this.tokenizer = tokenizer;
        this.pooling = pooling;
        this.normalize = normalize;
        this.maxTokens = maxTokens;
        this.ownsEncoder = ownsEncoder;
        if (defaultBatchSize < 1) throw new IllegalArgumentException("batch size must be positive");
        this.defaultBatchSize = defaultBatchSize;
    }

    /** Loads a model by name ("minilm") or path with {@link Options#defaults()}. */
    public static SentenceEmbedder load(String modelNameOrPath) {
        return load(Path.of(modelNameOrPath), Options.defaults());
    }

    /**
     * Loads a model (a built-in name such as "minilm", a checkpoint file, a Hugging Face directory or an ONNX
     * export) with its vocabulary (the one beside or inside it) and a backend; the embedder owns both and frees
     * them in {@link #close}.
     */
    public static SentenceEmbedder load(Path model, Options o) {
        LoadedModel loaded = ModelLoader.load(model, o.model());
        BertTokenizer tok = BertTokenizer.load(loaded.vocabulary(null), o.cased());
        int max = o.maxLength() == 0 ? defaultMaxLength(loaded) : o.maxLength();
        Backend backend = Backends.create(o.backend(), o.backendOptions());
        BertEncoder encoder;
        try {
            encoder = new BertEncoder(loaded.weights(), backend);
        } catch (RuntimeException e) {
            backend.close();
            throw e;
        }
        try {
            return new SentenceEmbedder(encoder, tok, o.pooling(), o.normalize(), max, true, o.batchSize());
        } catch (RuntimeException e) {
            encoder.close();
            throw e;
        }
    }

    /**
     * Tokens a text is cut to by default: a built-in model's own recipe (256 for all-MiniLM-L6-v2, as
     * sentence-transformers cuts it), else the model's positions.
     */
    public static int defaultMaxLength(LoadedModel m) {
        bertj.model.BuiltinModels.Builtin b = bertj.model.BuiltinModels.of(m);
        return b != null ? Math.min(b.maxLength(), m.config().maxPositions()) : m.config().maxPositions();
    }

    /** The width of the embeddings (the model's hidden size). */
    public int dimension() {
        return encoder.config().hiddenSize();
    }

    /** Tokens a text is cut to, [CLS] and [SEP] included. */
    public int maxLength() {
        return maxTokens;
    }

    public BertTokenizer tokenizer() {
        return tokenizer;
    }

    /** The embedding of one text. */
    public Embedding embed(String text) {
        return embed(List.of(text), 1).get(0);
    }

    /** The embeddings of the texts, in order, in batches of the options' size. */
    public List<Embedding> embed(List<String> texts) {
        return embed(texts, defaultBatchSize);
    }

    /** Frees the encoder and its backend when this embedder loaded them ({@link #load}); otherwise nothing. */
    @Override
    public void close() {
        if (ownsEncoder) encoder.close();
    }

    /** Padded tokens per forward pass at most, by default: about 100 MB of activations for all-MiniLM-L6-v2. */
    public static final int DEFAULT_TOKEN_BUDGET = 8192;

    /** {@link #embed(List, int, int)} with the {@link #DEFAULT_TOKEN_BUDGET}. */
    public List<Embedding> embed(List<String> texts, int batchSize) {
        return embed(texts, batchSize, DEFAULT_TOKEN_BUDGET);
    }

    /**
     * Embeds the texts; the result is in the texts' order. The texts are tokenized, grouped by length (longest
     * first, at most {@code batchSize} texts and {@code tokenBudget} padded tokens per forward pass, see
     * {@link Batch#byLength}) and each group is padded only to its own longest text. Padding never changes a
     * result: padded keys get weight exp(−10000) = 0 in attention and pooling skips them, so each embedding is
     * the one the text gets alone (bit for bit on the cpu and reference backends).
     */
    public List<Embedding> embed(List<String> texts, int batchSize, int tokenBudget) {
        if (batchSize < 1) throw new IllegalArgumentException("batch size must be positive");
        int n = texts.size();
        List<BertTokenizer.Sequence> enc = new ArrayList<>(n);
        int[] lengths = new int[n];
        for (int i = 0; i < n; i++) {
            enc.add(tokenizer.sequence(texts.get(i), maxTokens));
            lengths[i] = enc.get(i).ids().length;
        }
        Embedding[] out = new Embedding[n];
        for (int[] group : Batch.byLength(lengths, batchSize, tokenBudget)) {
            List<BertTokenizer.Sequence> members = new ArrayList<>(group.length);
            for (int i : group) members.add(enc.get(i));
            double[][] vectors = embedSequences(members);
            for (int k = 0; k < group.length; k++) {
                int i = group[k];
                out[i] = new Embedding(texts.get(i), lengths[i], enc.get(i).truncated(), vectors[k]);
            }
        }
        return List.of(out);
    }

    /** The model's input for a text: [CLS] its tokens [SEP], cut to the max length ({@code truncated} says so). */
    public BertTokenizer.Sequence sequence(String text) {
        return tokenizer.sequence(text, maxTokens);
    }

    /**
     * Embeds texts already turned into {@link #sequence}s, in one forward pass padded to the longest, for callers
     * that group texts into batches themselves (by length, by a token budget). The results, in order, carry the
     * given texts. A text's embedding does not depend on the batch it rides in.
     */
    public List<Embedding> embedSequences(List<String> texts, List<BertTokenizer.Sequence> sequences) {
        if (texts.size() != sequences.size()) {
            throw new IllegalArgumentException(texts.size() + " texts but " + sequences.size() + " sequences");
        }
        List<Embedding> out = new ArrayList<>(texts.size());
        if (texts.isEmpty()) return out;
        double[][] vectors = embedSequences(sequences);
        for (int i = 0; i < texts.size(); i++) {
            out.add(new Embedding(texts.get(i), sequences.get(i).ids().length, sequences.get(i).truncated(), vectors[i]));
        }
        return out;
    }

    /**
     * One forward pass over exactly these sequences, as one right-padded batch: their pooled embeddings, in order,
     * L2-normalised when this embedder normalises. A sequence's embedding does not depend on what else is in the
     * batch (padded keys are masked; on the cpu backend it is bit for bit the same as alone).
     */
    public double[][] embedSequences(List<BertTokenizer.Sequence> sequences) {
        if (sequences.isEmpty()) return new double[0][];
        Batch batch = batch(sequences, tokenizer.vocab().padId());
        double[] hidden = encoder.forward(batch, true, null).lastHidden();
        double[][] pooled = pool(hidden, batch, encoder.config().hiddenSize(), pooling);
        if (normalize) {
            for (int i = 0; i < pooled.length; i++) pooled[i] = normalized(pooled[i]);
        }
        return pooled;
    }

    public Pooling pooling() {
        return pooling;
    }

    /** The most ids a text is given, [CLS] and [SEP] included (the same as {@link #maxLength()}). */
    public int maxTokens() {
        return maxTokens;
    }

    /**
     * Right-padded batch of encoded texts: token types 0, mask 1 on real tokens. The pad id's value does not matter
     * (its mask is 0), as long as it is in the vocabulary.
     */
    public static Batch batch(List<BertTokenizer.Sequence> enc, int padId) {
        return Batch.rightPadded(enc.stream().map(BertTokenizer.Sequence::ids).toList(), null, padId);
    }

    /** Pools a last hidden state [batch, seqLen, hidden] (row-major) per sequence. */
    public static double[][] pool(double[] hidden, Batch batch, int width, Pooling pooling) {
        int s = batch.seqLen();
        double[][] out = new double[batch.size()][width];
        for (int b = 0; b < batch.size(); b++) {
            if (pooling == Pooling.CLS) {
                System.arraycopy(hidden, b * s * width, out[b], 0, width);
                continue;
            }
            double count = 0;
            for (int t = 0; t < s; t++) {
                if (batch.attentionMask()[b * s + t] == 0) continue;
                count++;
                int row = (b * s + t) * width;
                for (int j = 0; j < width; j++) out[b][j] += hidden[row + j];
            }
            double div = Math.max(count, 1e-9);
            for (int j = 0; j < width; j++) out[b][j] /= div;
        }
        return out;
    }

    public static double[] normalized(double[] v) {
        double n = Math.max(norm(v), 1e-12);
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) out[i] = v[i] / n;
        return out;
    }

    public static double norm(double[] v) {
        double s = 0;
        for (double x : v) s += x * x;
        return Math.sqrt(s);
    }

    /** cos(a, b) = a·b / (‖a‖ ‖b‖). */
    public static double cosine(double[] a, double[] b) {
        if (a.length != b.length) throw new IllegalArgumentException("vectors of " + a.length + " and " + b.length + " values");
        double dot = 0;
        for (int i = 0; i < a.length; i++) dot += a[i] * b[i];
        return dot / (Math.max(norm(a), 1e-300) * Math.max(norm(b), 1e-300));
    }
}
