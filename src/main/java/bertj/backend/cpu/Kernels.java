package bertj.backend.cpu;

import bertj.backend.Backend.Epilogue;

/**
 * The inner loops of the cpu backend, on plain float arrays. {@link CpuBackend} owns the memory and splits
 * the work into tasks; a Kernels implementation does one task. Two implementations compute the same thing:
 * {@link VectorKernels} (jdk.incubator.vector, the fast path) and {@link ScalarKernels} (plain Java, used when
 * the Vector API module is not available, and for a JVM's first small ops while the vector kernels compile), with
 * the same results bit for bit for the same vector length.
 *
 * <p>Layouts shared by both:
 * <ul>
 *   <li>Activations are row-major [rows, cols].</li>
 *   <li>A linear layer's weight W [N, K] is stored packed in panels of {@link #panelWidth()} = NR output
 *       columns: panel p holds, for k = 0..K−1, the NR values W[p·NR + j][k], j = 0..NR−1, contiguously
 *       (zeros past N). The micro-kernel then reads one contiguous run of NR floats per k. The bias is padded
 *       to the same width.</li>
 * </ul>
 */
interface Kernels {

    /** Which path this is, for reports: e.g. "Vector API, 512-bit". */
    String description();

    /** NR: output columns per packed weight panel. */
    int panelWidth();

    /** MR: rows the linear micro-kernel computes at once (tasks are cut at multiples of it). */
    int rowBlock();

    /** Queries per attention block. */
    int queryBlock();

    /**
     * y[r, n] = epilogue(Σ_k x[r, k] · W[n, k] + bias[n]) for rows [row0, row1) and output columns of panels
     * [panel0, panel1). x is [rows, K], y is [rows, N], w (from index wBase) and bias are packed (see above).
     */
    void linear(float[] x, int k, float[] w, int wBase, float[] bias, float[] y, int n, int row0, int row1, int panel0, int panel1,
                Epilogue epilogue, float[] scratch, int s0);

    /** Floats of thread-private scratch {@link #linear} needs (from index s0 of its scratch array). */
    int linearScratch();

    /**
     * Prepares the keys and values of one (sequence, head) in {@code scratch} for the {@link #attention} blocks
     * that follow on the same thread with the same scratch, sequence, head and {@code keys} (a layout of the
     * implementation's choosing; it may do nothing).
     */
    void attentionKeys(float[] qkv, int hidden, int d, int rowBase, int col0, int keys, float[] scratch, int s0);

    /**
     * One block of fused attention, after {@link #attentionKeys} for its sequence and head: for one sequence (its rows start at {@code rowBase}), one head (columns
     * [col0, col0 + d) of q, k, v and ctx) and queries i0 ≤ i &lt; min(i0 + {@link #queryBlock()}, seqLen):
     * <pre>
     *   ctx[i] = Σ_j p_ij v_j,   p_ij = exp(s_ij − max_j s_ij) / Σ_j exp(s_ij − max_j s_ij),
     *   s_ij = (scale · q_i) · k_j + mask[rowBase + j]                   j = 0 .. keys−1
     * </pre>
     * qkv is [tokens, 3·hidden]: q in columns [0, hidden), k in [hidden, 2·hidden), v in [2·hidden, 3·hidden)
     * (the packed query/key/value product); ctx is [tokens, hidden]; mask holds 0 or −10000 per token. Keys past
     * {@code keys} are padding whose weight exp(−10000 + …) is exactly 0 in float and are not visited.
     *
     * @param scratch at least {@link #attentionScratch(int, int)} floats from index {@code s0}, private to the
     *                calling thread (the cpu backend's workers' scratch lie in shared arrays, each from a line
     *                boundary: {@link Aligned})
     */
    void attention(float[] qkv, float[] ctx, int hidden, int d, int seqLen, int rowBase, int col0,
                   int keys, float[] mask, int i0, float scale, float[] scratch, int s0);

    /** Floats of scratch one attention block needs for head size d and up to {@code keys} keys. */
    default int attentionScratch(int d, int keys) {
        return queryBlock() * (d + keys + 8);
    }

    /**
     * y = LayerNorm(x + r) for rows [row0, row1) of [rows, cols] matrices: (z − mean) / √(var + eps) · γ + β,
     * var the biased variance. r may be null (y = LayerNorm(x)); y may be x.
     */
    void addLayerNorm(float[] x, float[] r, float[] y, int cols, int row0, int row1, float[] gamma, float[] beta, float eps);
}
