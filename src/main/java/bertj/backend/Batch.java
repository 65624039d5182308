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

    /** Rows of every activation: one per token. */
    public int tokens() {
        return size * seqLen;
    }

    public boolean masked(int sequence, int key) {
        return attentionMask[sequence * seqLen + key] == 0;
    }
}
