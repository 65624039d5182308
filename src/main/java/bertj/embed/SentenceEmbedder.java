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

    /** Embeds the texts in order, {@code batchSize} at a time (each batch padded to its longest text). */
    public List<Embedding> embed(List<String> texts, int batchSize) {
        if (batchSize < 1) throw new IllegalArgumentException("batch size must be positive");
        List<Embedding> out = new ArrayList<>(texts.size());
        for (int from = 0; from < texts.size(); from += batchSize) {
            List<String> chunk = texts.subList(from, Math.min(texts.size(), from + batchSize));
            List<BertTokenizer.Sequence> enc = chunk.stream().map(this::sequence).toList();
            double[][] vectors = embedSequences(enc);
            for (int i = 0; i < chunk.size(); i++) {
                out.add(new Embedding(chunk.get(i), enc.get(i).ids().length, enc.get(i).truncated(), vectors[i]));
            }
        }
        return out;
    }

    /** The model's input for one text: [CLS], its tokens cut to this embedder's max length, [SEP]. */
    public BertTokenizer.Sequence sequence(String text) {
        return tokenizer.sequence(text, maxTokens);
    }

    /**
     * One forward pass over exactly these sequences, as one right-padded batch: their pooled embeddings, in order,
     * L2-normalised when this embedder normalises. A sequence's embedding does not depend on what else is in the
     * batch (padded keys are masked; on the cpu backend it is bit for bit the same as alone).
     */
    public double[][] embedSequences(List<BertTokenizer.Sequence> sequences) {
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

    public int maxTokens() {
        return maxTokens;
    }

    public BertTokenizer tokenizer() {
        return tokenizer;
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
