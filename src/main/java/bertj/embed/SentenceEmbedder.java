package bertj.embed;

import bertj.backend.Batch;
import bertj.encoder.BertEncoder;
import bertj.tokenizer.BertTokenizer;

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
 */
public final class SentenceEmbedder {

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

    private final BertEncoder encoder;
    private final BertTokenizer tokenizer;
    private final Pooling pooling;
    private final boolean normalize;
    private final int maxTokens;

    public SentenceEmbedder(BertEncoder encoder, BertTokenizer tokenizer, Pooling pooling, boolean normalize, int maxTokens) {
        if (maxTokens < 2 || maxTokens > encoder.config().maxPositions()) {
            throw new IllegalArgumentException("max length " + maxTokens + " is outside 2.." + encoder.config().maxPositions()
                    + " (the model's positions)");
        }
        this.encoder = encoder;
        this.tokenizer = tokenizer;
        this.pooling = pooling;
        this.normalize = normalize;
        this.maxTokens = maxTokens;
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
            Batch batch = batch(members, tokenizer.vocab().padId());
            double[] hidden = encoder.forward(batch, true, null).lastHidden();
            double[][] pooled = pool(hidden, batch, encoder.config().hiddenSize(), pooling);
            for (int k = 0; k < group.length; k++) {
                int i = group[k];
                double[] v = normalize ? normalized(pooled[k]) : pooled[k];
                out[i] = new Embedding(texts.get(i), lengths[i], enc.get(i).truncated(), v);
            }
        }
        return List.of(out);
    }

    /** The longest input, in tokens with [CLS] and [SEP], that texts are cut to. */
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
