// attention_probs.cl — the attention probabilities alone, for traces (`bertj trace`); the forward pass uses
// the fused attention.cl and never materialises them.
//
// Math, for sequence b, head h, query i (d = head size, keys j < S):
//   s_j = (q_i · k_j) / √d − 10000 · [mask_j = 0],   probs[b][h][i][j] = exp(s_j − max s) / Σ_j exp(s_j − max s)
// Memory: qkv [B·S, 3H] half (q in columns [0, H), k in [H, 2H), v unused), head h in columns [h·d, (h+1)·d)
//   of each; mask int32 [B·S]; probs [B, heads, S, S] half.
// Work-item: one per (i, h, b), global size (S, heads, B), any work-group shape (no local memory). Three passes
//   over the keys — maximum, sum, write — recompute the dot products instead of storing S scores: simple,
//   and traces are not timed.
// Precision: float arithmetic, one rounding to half per probability (≤ 2^-11 relative).
// Reference: ReferenceBackend#attentionProbs (float64). Test: kernels-tests AttentionProbsKernelTest.

float score(__global const half *q, __global const half *k, const size_t qi, const size_t kj, const int d,
                   const float scale) {
    float dot = 0.0f;
    for (int c = 0; c < d; c++) dot = fma(LOAD(q, qi + c), LOAD(k, kj + c), dot);
    return dot * scale;
}

__kernel void attention_probs(const int seq_len, const int hidden, const int head_dim, const float scale,
                              __global const half *qkv, __global const int *mask, __global half *probs) {
    const int i = get_global_id(0), h = get_global_id(1), b = get_global_id(2);
    const int heads = get_global_size(1);
    const size_t first = (size_t) b * seq_len;
    const size_t ld = 3 * (size_t) hidden;
    const size_t qi = (first + i) * ld + (size_t) h * head_dim;
    float max_s = -INFINITY;
    for (int j = 0; j < seq_len; j++) {
        const float s = score(qkv, qkv, qi, (first + j) * ld + hidden + (size_t) h * head_dim, head_dim, scale)
                        + (mask[first + j] ? 0.0f : -10000.0f);
        max_s = fmax(max_s, s);
    }
    float total = 0.0f;
    for (int j = 0; j < seq_len; j++) {
        const float s = score(qkv, qkv, qi, (first + j) * ld + hidden + (size_t) h * head_dim, head_dim, scale)
                        + (mask[first + j] ? 0.0f : -10000.0f);
        total += exp(s - max_s);
    }
    const float inv = 1.0f / total;
    const size_t row = (((size_t) b * heads + h) * seq_len + i) * seq_len;
    for (int j = 0; j < seq_len; j++) {
        const float s = score(qkv, qkv, qi, (first + j) * ld + hidden + (size_t) h * head_dim, head_dim, scale)
                        + (mask[first + j] ? 0.0f : -10000.0f);
        STORE(exp(s - max_s) * inv, probs, row + j);
    }
}
