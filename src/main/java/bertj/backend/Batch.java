package bertj.backend;

/**
 * Token ids of {@code size} sequences padded to {@code seqLen}, row-major [size, seqLen].
 * attentionMask is 1 for real tokens and 0 for padding; padded keys get −10000 added to their attention scores.
 */
public record Batch(int size, int seqLen, int[] inputIds, int[] tokenTypeIds, int[] attentionMask) {
    public Batch {
        if (size <= 0 || seqLen <= 0) {
            throw new IllegalArgumentException("batch needs at least one sequence of at least one token");
        }
        int n = size * seqLen;
        if (inputIds.length != n || tokenTypeIds.length != n || attentionMask.length != n) {
            throw new IllegalArgumentException("input_ids, token_type_ids and attention_mask must each hold " + size + " x " + seqLen + " values");
        }
    }

    /**
     * Sequences of different lengths right-padded to the longest: {@code padId} after each sequence, mask 1 on its
     * real tokens and 0 on padding. {@code tokenTypeIds} may be null (type 0 throughout). The pad id's value does not
     * matter (padded keys are masked) as long as it is in the vocabulary.
     */
    public static Batch rightPadded(java.util.List<int[]> inputIds, java.util.List<int[]> tokenTypeIds, int padId) {
        return rightPadded(inputIds, tokenTypeIds, padId, 0);
    }

    /**
     * As {@link #rightPadded(java.util.List, java.util.List, int)}, padded to at least {@code minLength} (NVIDIA's
     * run_squad.py pads every window to max_seq_length; the padded positions' own outputs depend on how far).
     * Padding has token type 0.
     */
    public static Batch rightPadded(java.util.List<int[]> inputIds, java.util.List<int[]> tokenTypeIds, int padId, int minLength) {
        int b = inputIds.size(), seq = minLength;
        for (int[] s : inputIds) seq = Math.max(seq, s.length);
        int[] ids = new int[b * seq], types = new int[b * seq], mask = new int[b * seq];
        java.util.Arrays.fill(ids, padId);
        for (int i = 0; i < b; i++) {
            int[] s = inputIds.get(i);
            System.arraycopy(s, 0, ids, i * seq, s.length);
            if (tokenTypeIds != null) System.arraycopy(tokenTypeIds.get(i), 0, types, i * seq, s.length);
            java.util.Arrays.fill(mask, i * seq, i * seq + s.length, 1);
        }
        return new Batch(b, seq, ids, types, mask);
    }

    /**
     * Length-aware batching: the indices of sequences with the given lengths, longest first (ties in the given
     * order), cut into groups of at most {@code maxSequences} sequences and at most {@code tokenBudget} padded
     * tokens (group size × its longest length; a sequence longer than the budget goes alone). Each group padded to
     * its own longest member carries little padding, and the budget bounds the memory of a pass. Callers run
     * the groups and put the results back in their own order.
     */
    public static java.util.List<int[]> byLength(int[] lengths, int maxSequences, int tokenBudget) {
        if (maxSequences < 1) throw new IllegalArgumentException("a batch needs room for at least one sequence (got " + maxSequences + ")");
        if (tokenBudget < 1) throw new IllegalArgumentException("the token budget must be positive (got " + tokenBudget + ")");
        Integer[] order = new Integer[lengths.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        java.util.Arrays.sort(order, (a, b) -> Integer.compare(lengths[b], lengths[a])); // stable: ties keep their order
        java.util.List<int[]> groups = new java.util.ArrayList<>();
        for (int from = 0; from < order.length; ) {
            int longest = Math.max(1, lengths[order[from]]);
            int n = Math.max(1, Math.min(maxSequences, Math.min(order.length - from, tokenBudget / longest)));
            int[] g = new int[n];
            for (int k = 0; k < n; k++) g[k] = order[from + k];
            groups.add(g);
            from += n;
        }
        return groups;
    }

    /** Rows of every activation: one per token. */
    public int tokens() {
        return size * seqLen;
    }

    public boolean masked(int sequence, int key) {
        return attentionMask[sequence * seqLen + key] == 0;
    }
}
