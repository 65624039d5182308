package bertj.qa;

import bertj.backend.Batch;
import bertj.encoder.BertEncoder;

import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Runs features through the model in batches padded to the longest feature of each batch (not always to
 * max_seq_length). Features are taken longest first, so that each batch holds features of similar length and
 * little padding; the logits come back in the callers' order. Padding is [PAD] with mask 0: padded keys get
 * −10000 added to their attention scores, which makes their weight exp(−10000) = 0 in floating point, so a
 * feature's logits do not depend on how far its batch is padded.
 */
public final class Batches {
    private Batches() {
    }

    /** Told after each batch: features and tokens (unpadded) done so far, of the totals. */
    public interface Progress {
        void update(int featuresDone, int featuresTotal, long tokensDone, long tokensTotal);
    }

    /** Start and end logits of each feature, {@link Feature#length()} values each, in the order given. */
    public record Logits(double[][] start, double[][] end) {
    }

    /**
     * @param lock the forward pass runs synchronized on it (a backend serves one pass at a time)
     */
    public static Logits run(BertEncoder encoder, Object lock, List<Feature> features, int batchSize, int padId, Progress progress) {
        if (batchSize < 1) throw new IllegalArgumentException("batch size must be at least 1 (got " + batchSize + ")");
        int n = features.size();
        Integer[] order = new Integer[n];
        long totalTokens = 0;
        for (int i = 0; i < n; i++) {
            order[i] = i;
            totalTokens += features.get(i).length();
        }
        Arrays.sort(order, Comparator.comparingInt((Integer i) -> features.get(i).length()).reversed());
        double[][] start = new double[n][], end = new double[n][];
        long doneTokens = 0;
        for (int from = 0; from < n; from += batchSize) {
            int size = Math.min(batchSize, n - from);
            java.util.List<int[]> ids = new java.util.ArrayList<>(size), types = new java.util.ArrayList<>(size);
            for (int k = 0; k < size; k++) {
                Feature f = features.get(order[from + k]);
                ids.add(f.inputIds());
                types.add(f.tokenTypeIds());
            }
            Batch batch = Batch.rightPadded(ids, types, padId);
            int seq = batch.seqLen();
            BertEncoder.Output out;
            synchronized (lock) {
                out = encoder.forward(batch);
            }
            for (int k = 0; k < size; k++) {
                int fi = order[from + k];
                int len = features.get(fi).length();
                start[fi] = Arrays.copyOfRange(out.startLogits(), k * seq, k * seq + len);
                end[fi] = Arrays.copyOfRange(out.endLogits(), k * seq, k * seq + len);
                doneTokens += len;
            }
            if (progress != null) progress.update(from + size, n, doneTokens, totalTokens);
        }
        return new Logits(start, end);
    }
}
