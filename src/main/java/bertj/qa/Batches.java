package bertj.qa;

import bertj.backend.Batch;
import bertj.encoder.BertEncoder;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Runs features through the model in batches padded to the longest feature of each batch (not always to
 * max_seq_length). Features are grouped by length ({@link Batch#byLength}: longest first, at most
 * {@code batchSize} features and {@code tokenBudget} padded tokens per forward pass), so that each batch holds
 * features of similar length and little padding; the logits come back in the callers' order. Padding is [PAD]
 * with mask 0: padded keys get −10000 added to their attention scores, which makes their weight exp(−10000) = 0
 * in floating point, so a feature's logits do not depend on how far its batch is padded (bit for bit on the cpu
 * and reference backends).
 */
public final class Batches {
    private Batches() {
    }

    /** Padded tokens per forward pass at most, by default (16 windows of 384 tokens fit). */
    public static final int DEFAULT_TOKEN_BUDGET = 8192;

    /** Told after each batch: features and tokens (unpadded) done so far, of the totals. */
    public interface Progress {
        void update(int featuresDone, int featuresTotal, long tokensDone, long tokensTotal);
    }

    /** Start and end logits of each feature, {@link Feature#length()} values each, in the order given. */
    public record Logits(double[][] start, double[][] end) {
    }

    /** {@link #run(BertEncoder, Object, List, int, int, int, Progress)} with the {@link #DEFAULT_TOKEN_BUDGET}. */
    public static Logits run(BertEncoder encoder, Object lock, List<Feature> features, int batchSize, int padId, Progress progress) {
        return run(encoder, lock, features, batchSize, DEFAULT_TOKEN_BUDGET, padId, progress);
    }

    /**
     * @param lock the forward pass runs synchronized on it (a backend serves one pass at a time)
     */
    public static Logits run(BertEncoder encoder, Object lock, List<Feature> features, int batchSize, int tokenBudget, int padId,
                             Progress progress) {
        if (batchSize < 1) throw new IllegalArgumentException("batch size must be at least 1 (got " + batchSize + ")");
        int n = features.size();
        int[] lengths = new int[n];
        long totalTokens = 0;
        for (int i = 0; i < n; i++) {
            lengths[i] = features.get(i).length();
            totalTokens += lengths[i];
        }
        double[][] start = new double[n][], end = new double[n][];
        long doneTokens = 0;
        int done = 0;
        for (int[] group : Batch.byLength(lengths, batchSize, tokenBudget)) {
            List<int[]> ids = new ArrayList<>(group.length), types = new ArrayList<>(group.length);
            for (int fi : group) {
                ids.add(features.get(fi).inputIds());
                types.add(features.get(fi).tokenTypeIds());
            }
            Batch batch = Batch.rightPadded(ids, types, padId);
            int seq = batch.seqLen();
            BertEncoder.Output out;
            synchronized (lock) {
                out = encoder.forward(batch);
            }
            for (int k = 0; k < group.length; k++) {
                int fi = group[k], len = lengths[fi];
                start[fi] = Arrays.copyOfRange(out.startLogits(), k * seq, k * seq + len);
                end[fi] = Arrays.copyOfRange(out.endLogits(), k * seq, k * seq + len);
                doneTokens += len;
            }
            done += group.length;
            if (progress != null) progress.update(done, n, doneTokens, totalTokens);
        }
        return new Logits(start, end);
    }
}
