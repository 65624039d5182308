// embeddings.cl — BertEmbeddings: gather three table rows, sum, LayerNorm.
//
// Math, for token t = b·S + p of the batch (sequence b, position p):
//   z[c]   = word[ids[t]][c] + position[p][c] + tokenType[types[t]][c]        c = 0 … H−1
//   out[t] = LayerNorm(z) = (z − mean(z)) / √(var(z) + eps) · γ + β            (biased variance, two passes)
// Memory: ids, types int32 [tokens]; word [V, H], position [P, H], tokenType [T, H], γ, β [H] and out
//   [tokens, H] half, row-major. The caller guarantees ids < V, types < T and S ≤ P.
// Work-group: one per token, LN_GROUP work-items (a power of two) striding over the H columns;
//   global size tokens · LN_GROUP. Local memory: z (H floats) and the reduction scratch (LN_GROUP floats).
// Precision: table entries are loaded from half, summed and normalised in float, the result rounded to half
//   once (error ≤ 2^-11 relative plus float rounding, ~1e-6).
// Reference: ReferenceBackend#embed (float64). Test: kernels-tests EmbeddingsKernelTest.

__kernel void embeddings(const int seq_len, const int hidden, const float eps,
                         __global const int *ids, __global const int *types,
                         __global const half *word, __global const half *position, __global const half *token_type,
                         __global const half *gamma, __global const half *beta,
                         __global half *out, __local float *z, __local float *scratch) {
    const int t = get_group_id(0);
    const size_t w = (size_t) ids[t] * hidden;
    const size_t p = (size_t) (t % seq_len) * hidden;
    const size_t y = (size_t) types[t] * hidden;
    for (int c = get_local_id(0); c < hidden; c += get_local_size(0)) {
        z[c] = LOAD(word, w + c) + LOAD(position, p + c) + LOAD(token_type, y + c);
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    layer_norm_row(z, hidden, gamma, beta, eps, out, (size_t) t * hidden, scratch);
}
