// attention.cl — fused scaled dot-product attention per (sequence, head): BertSelfAttention after q, k, v.
//
// Math, for sequence b, head h, query i (d = HEAD_DIM, keys j < S):
//   s_j   = (q_i · k_j) / √d − 10000 · [mask_j = 0]
//   p_j   = exp(s_j − max_j s_j) / Σ_j exp(s_j − max_j s_j)         (softmax shifted by its maximum: no overflow)
//   ctx_i = Σ_j p_j v_j
// computed in one pass over the keys with a running maximum m and running sum l ("online softmax"): for each
// tile of KT keys, m' = max(m, max s), rescale l and the accumulator by exp(m − m'), then add exp(s_j − m')
// and exp(s_j − m') v_j. The S×S probabilities never leave the work-item's registers.
// Memory: qkv [B·S, 3H] half, row-major: q in columns [0, H), k in [H, 2H), v in [2H, 3H) (the packed
//   query/key/value product); ctx [B·S, H] half; head h in columns [h·d, (h+1)·d) of each; mask int32 [B·S]
//   (1 real, 0 padding). ctx may not alias qkv.
// Work-group: QB work-items (the host's choice, ≤ the device limit), one query row each, for one (b, h) and
//   QB consecutive queries; global size (⌈S/QB⌉·QB, heads, B). The group stages KT keys and values of its
//   head in local memory (2·KT·d floats) and every work-item scores its query against them; the last tile
//   is padded with zero vectors whose score is −∞, so they add exactly 0. HEAD_DIM and KT are compile-time
//   (-D) so that q_i, the accumulator and the tile's scores stay in registers.
// Precision: q, k, v loaded from half, everything else float (exp is the full-precision builtin), one
//   rounding to half at the store (≤ 2^-11 relative). Padded query rows are computed like real ones.
// Reference: ReferenceBackend#attention (float64). Test: kernels-tests AttentionKernelTest (+ PyTorch golden).

__kernel void attention(const int seq_len, const int hidden, const float scale,
                        __global const half *qkv, __global const int *mask, __global half *ctx) {
    __local float ks[KT][HEAD_DIM];
    __local float vs[KT][HEAD_DIM];
    __local float bias[KT];
    const int lid = get_local_id(0), group = get_local_size(0);
    const int i = get_global_id(0), h = get_group_id(1), b = get_group_id(2);
    const bool active = i < seq_len;
    const size_t first = (size_t) b * seq_len; // token index of (b, 0)
    const int col = h * HEAD_DIM;
    const size_t ld = 3 * (size_t) hidden; // qkv row stride

    float qi[HEAD_DIM], acc[HEAD_DIM];
    for (int c = 0; c < HEAD_DIM; c++) {
        qi[c] = active ? LOAD(qkv, (first + i) * ld + col + c) * scale : 0.0f;
        acc[c] = 0.0f;
    }
    float m = -INFINITY, l = 0.0f;

    for (int j0 = 0; j0 < seq_len; j0 += KT) {
        const int n = min(KT, seq_len - j0);
        for (int e = lid; e < KT * HEAD_DIM; e += group) {
            const int jj = e / HEAD_DIM, c = e % HEAD_DIM;
            const size_t g = (first + j0 + jj) * ld + col + c;
            ks[jj][c] = jj < n ? LOAD(qkv, g + hidden) : 0.0f;
            vs[jj][c] = jj < n ? LOAD(qkv, g + 2 * hidden) : 0.0f;
        }
        for (int jj = lid; jj < KT; jj += group) {
            bias[jj] = jj < n ? (mask[first + j0 + jj] ? 0.0f : -10000.0f) : -INFINITY;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        if (active) {
            float s[KT];
            float tile_max = -INFINITY;
            for (int jj = 0; jj < KT; jj++) {
                float dot = 0.0f;
                for (int c = 0; c < HEAD_DIM; c++) dot = fma(qi[c], ks[jj][c], dot);
                s[jj] = dot + bias[jj];
                tile_max = fmax(tile_max, s[jj]);
            }
            const float m_new = fmax(m, tile_max); // finite: every tile holds at least one real key
            const float shrink = exp(m - m_new);   // exp(−∞) = 0 on the first tile
            l *= shrink;
            for (int c = 0; c < HEAD_DIM; c++) acc[c] *= shrink;
            for (int jj = 0; jj < KT; jj++) {
                const float p = exp(s[jj] - m_new);
                l += p;
                for (int c = 0; c < HEAD_DIM; c++) acc[c] = fma(p, vs[jj][c], acc[c]);
            }
            m = m_new;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (active) {
        const float inv = 1.0f / l;
        for (int c = 0; c < HEAD_DIM; c++) STORE(acc[c] * inv, ctx, (first + i) * hidden + col + c);
    }
}
