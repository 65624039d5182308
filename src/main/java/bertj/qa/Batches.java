package bertj.qa;

import bertj.backend.Batch;
import bertj.encoder.BertEncoder;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Runs features (windows) through the model in batches and hands back each one's start/end logits; what is ranked
 * afterwards is {@link SpanDecoder}'s business. Features are taken longest first, so that each batch holds features
 * of similar length; the logits come back in the callers' order.
 * <p>
 * Two paddings:
 * <ul>
 *   <li>to the longest feature of each batch ({@code padTo} 0, for {@link Decoding#MASKED}): padding is [PAD] with
 *       mask 0; padded keys get −10000 added to their attention scores, which makes their weight exp(−10000) = 0
 *       in floating point, so a feature's logits at its real tokens do not depend on how far its batch is padded.
 *       Only those are returned, {@link Feature#length()} values;</li>
 *   <li>every feature to {@code padTo} = max_seq_length ({@link Decoding#NVIDIA}), with id 0, segment 0, mask 0 as
 *       run_squad.py pads: the padded positions are queries too (each with its own position embedding, attending
 *       to the real tokens), and their logits compete in NVIDIA's ranking, so all {@code padTo} values are
 *       returned. They are NVIDIA's only if the window is padded to exactly that length.</li>
 * </ul>
 */
public final class Batches {
    private Batches() {
    }

    /** Told after each batch: features and tokens (unpadded) done so far, of the totals. */
    public interface Progress {
        void update(int featuresDone, int featuresTotal, long tokensDone, long tokensTotal);
    }

    /** Start and end logits of each feature, in the order given: its real tokens, or all padTo positions. */
    public record Logits(double[][] start, double[][] end) {
    }

    /** Padded to each batch's longest feature; logits at real tokens only. */
    public static Logits run(BertEncoder encoder, Object lock, List<Feature> features, int batchSize, int padId, Progress progress) {
        return run(encoder, lock, features, batchSize, padId, 0, progress);
    }

    /**
     * @param lock  the forward pass runs synchronized on it
     * @param padTo 0: pad each batch to its longest feature and return the logits of real tokens; otherwise pad
     *              every feature to exactly this length (no feature may be longer) and return all of its logits
     */
    public static Logits run(BertEncoder encoder, Object lock, List<Feature> features, int batchSize, int padId, int padTo,
                             Progress progress) {
        if (batchSize < 1) throw new IllegalArgumentException("batch size must be at least 1 (got " + batchSize + ")");
        if (padTo < 0) throw new IllegalArgumentException("padTo must be 0 or a length (got " + padTo + ")");
        int n = features.size();
        Integer[] order = new Integer[n];
        long totalTokens = 0;
        for (int i = 0; i < n; i++) {
            order[i] = i;
            int len = features.get(i).length();
            if (padTo > 0 && len > padTo) {
                throw new IllegalArgumentException("a window of " + len + " tokens cannot be padded to " + padTo);
            }
            totalTokens += len;
        }
        Arrays.sort(order, Comparator.comparingInt((Integer i) -> features.get(i).length()).reversed());
        double[][] start = new double[n][], end = new double[n][];
        long doneTokens = 0;
        for (int from = 0; from < n; from += batchSize) {
            int size = Math.min(batchSize, n - from);
            List<int[]> ids = new ArrayList<>(size), types = new ArrayList<>(size);
            for (int k = 0; k < size; k++) {
                Feature f = features.get(order[from + k]);
                ids.add(f.inputIds());
                types.add(f.tokenTypeIds());
            }
            Batch batch = Batch.rightPadded(ids, types, padId, padTo);
            int seq = batch.seqLen();
            BertEncoder.Output out;
            synchronized (lock) {
                out = encoder.forward(batch);
            }
            for (int k = 0; k < size; k++) {
                int fi = order[from + k];
                int len = features.get(fi).length(), keep = padTo > 0 ? padTo : len;
                start[fi] = Arrays.copyOfRange(out.startLogits(), k * seq, k * seq + keep);
                end[fi] = Arrays.copyOfRange(out.endLogits(), k * seq, k * seq + keep);
                doneTokens += len;
            }
            if (progress != null) progress.update(from + size, n, doneTokens, totalTokens);
        }
        return new Logits(start, end);
    }
}
