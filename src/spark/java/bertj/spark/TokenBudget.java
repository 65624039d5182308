package bertj.spark;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Groups inputs of known lengths into forward passes under a budget of padded tokens. A batch is padded to its
 * longest input, so it costs
 * <pre>
 *   cost(batch) = rows × max length          (the tokens the backend computes, padding included)
 * </pre>
 * Inputs are taken longest first, so that each batch holds inputs of similar length, and a batch grows while
 * <ul>
 *   <li>its cost stays within the budget (an input longer than the budget by itself rides alone), and</li>
 *   <li>the next input is at least 3/4 as long as the batch's first: no row is more than a quarter padding, so
 *       every batch computes at least 75% real tokens, and a few long inputs among many short ones get batches of
 *       their own instead of padding the short ones to their length. On the cpu backend a pass costs about the
 *       same per token from a few rows to hundreds (docs/performance.md), so more, smaller passes cost little
 *       and padding is pure loss.</li>
 * </ul>
 * Only the grouping is decided here; callers put their results back in input order.
 */
public final class TokenBudget {
    private TokenBudget() {
    }

    /**
     * The batches, as indices into {@code lengths}: every index exactly once, each batch's indices longest first
     * (ties in input order), batches longest first.
     *
     * @param lengths tokens of each input (at least 1)
     * @param budget  padded tokens per batch (at least 1)
     */
    public static List<int[]> plan(int[] lengths, int budget) {
        if (budget < 1) throw new IllegalArgumentException("the token budget must be at least 1 (got " + budget + ")");
        Integer[] order = new Integer[lengths.length];
        for (int i = 0; i < order.length; i++) {
            if (lengths[i] < 1) throw new IllegalArgumentException("input " + i + " has length " + lengths[i] + "; lengths must be at least 1");
            order[i] = i;
        }
        // Stable: equal lengths keep their input order.
        Arrays.sort(order, Comparator.comparingInt((Integer i) -> lengths[i]).reversed());
        List<int[]> batches = new ArrayList<>();
        int from = 0;
        while (from < order.length) {
            int longest = lengths[order[from]];
            // Sorted longest first, so the first input sets the padded length of the whole batch.
            int rows = Math.max(1, budget / longest);
            int to = from + 1;
            while (to < order.length && to - from < rows && 4L * lengths[order[to]] >= 3L * longest) to++;
            int[] batch = new int[to - from];
            for (int k = from; k < to; k++) batch[k - from] = order[k];
            batches.add(batch);
            from = to;
        }
        return batches;
    }

    /** Σ rows × longest over the batches: what the backend computes, padding included. */
    public static long paddedTokens(int[] lengths, List<int[]> batches) {
        long total = 0;
        for (int[] b : batches) {
            int longest = 0;
            for (int i : b) longest = Math.max(longest, lengths[i]);
            total += (long) longest * b.length;
        }
        return total;
    }
}
