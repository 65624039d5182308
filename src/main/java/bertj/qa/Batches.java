package bertj.qa;

import bertj.backend.Batch;
import bertj.encoder.BertEncoder;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Runs features (windows) through the model in batches and hands back each one's start/end logits; what is ranked
 * afterwards is {@link SpanDecoder}'s business. Features are grouped by length ({@link Batch#byLength}: longest
 * first, at most {@code batchSize} features and {@code tokenBudget} padded tokens per forward pass), so that each
 * batch holds features of similar length; the logits come back in the callers' order.
 * <p>
 * Two paddings:
 * <ul>
 *   <li>to the longest feature of each batch ({@code padTo} 0, for {@link Decoding#MASKED}): padding is [PAD] with
 *       mask 0; padded keys get −10000 added to their attention scores, which makes their weight exp(−10000) = 0
 *       in floating point, so a feature's logits at its real tokens do not depend on how far its batch is padded
 *       (bit for bit on the cpu and reference backends). Only those are returned, {@link Feature#length()} values;</li>
 *   <li>every feature to {@code padTo} = max_seq_length ({@link Decoding#NVIDIA}), with id 0, segment 0, mask 0 as
 *       run_squad.py pads: the padded positions are queries too (each with its own position embedding, attending
 *       to the real tokens), and their logits compete in NVIDIA's ranking, so all {@code padTo} values are
 *       returned. They are NVIDIA's only if the window is padded to exactly that length.</li>
 * </ul>
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

    /** Start and end logits of each feature, in the order given: its real tokens, or all padTo positions. */
    public record Logits(double[][] start, double[][] end) {
    }

    /** Padded to each batch's longest feature, the {@link #DEFAULT_TOKEN_BUDGET}; logits at real tokens only. */
    public static Logits run(BertEncoder encoder, Object lock, List<Feature> features, int batchSize, int padId, Progress progress) {
        return run(encoder, lock, features, batchSize, DEFAULT_TOKEN_BUDGET, padId, 0, progress);
    }

    /**
     * Padded as {@code settings}' decoding needs: with {@link Decoding#NVIDIA} every feature to max_seq_length with
     * id 0 (all positions' logits), with {@link Decoding#MASKED} each batch to its longest feature with {@code padId}
     * (real tokens' logits).
     */
    public static Logits run(BertEncoder encoder, Object lock, List<Feature> features, int batchSize, int tokenBudget, QaSettings settings,
                             int padId, Progress progress) {
        boolean nvidia = settings.decoding() == Decoding.NVIDIA;
        return run(encoder, lock, features, batchSize, tokenBudget, nvidia ? 0 : padId, nvidia ? settings.maxSeqLength() : 0, progress);
    }

    /**
     * @param lock        the forward pass runs synchronized on it (a backend serves one pass at a time)
     * @param tokenBudget padded tokens per forward pass at most (a longer feature runs alone)
     * @param padTo       0: pad each batch to its longest feature and return the logits of real tokens; otherwise pad
     *                    every feature to exactly this length (no feature may be longer) and return all of its logits
     */
    public static Logits run(BertEncoder encoder, Object lock, List<Feature> features, int batchSize, int tokenBudget, int padId, int padTo,
                             Progress progress) {
        if (batchSize < 1) throw new IllegalArgumentException("batch size must be at least 1 (got " + batchSize + ")");
        if (padTo < 0) throw new IllegalArgumentException("padTo must be 0 or a length (got " + padTo + ")");
        int n = features.size();
        int[] lengths = new int[n];
        long totalTokens = 0;
        for (int i = 0; i < n; i++) {
            lengths[i] = features.get(i).length();
            if (padTo > 0 && lengths[i] > padTo) {
                throw new IllegalArgumentException("a window of " + lengths[i] + " tokens cannot be padded to " + padTo);
            }
            totalTokens += lengths[i];
        }
        double[][] start = new double[n][], end = new double[n][];
        long doneTokens = 0;
        // padded to padTo, every feature costs padTo tokens of the budget (and all sort equal: the callers' order)
        int[] padded = lengths;
        if (padTo > 0) {
            padded = new int[n];
            Arrays.fill(padded, padTo);
        }
        int done = 0;
        for (int[] group : Batch.byLength(padded, batchSize, tokenBudget)) {
            List<int[]> ids = new ArrayList<>(group.length), types = new ArrayList<>(group.length);
            for (int fi : group) {
                ids.add(features.get(fi).inputIds());
                types.add(features.get(fi).tokenTypeIds());
            }
            Batch batch = Batch.rightPadded(ids, types, padId, padTo);
            int seq = batch.seqLen();
            BertEncoder.Output out;
            synchronized (lock) {
                out = encoder.forward(batch);
            }
            for (int k = 0; k < group.length; k++) {
                int fi = group[k], len = lengths[fi], keep = padTo > 0 ? padTo : len;
                start[fi] = Arrays.copyOfRange(out.startLogits(), k * seq, k * seq + keep);
                end[fi] = Arrays.copyOfRange(out.endLogits(), k * seq, k * seq + keep);
                doneTokens += len;
            }
            done += group.length;
            if (progress != null) progress.update(done, n, doneTokens, totalTokens);
        }
        return new Logits(start, end);
    }
}
