// tc_attention.cl — fused scaled dot-product attention on tensor cores: BertSelfAttention after the packed
// q|k|v product. The tensor-core variant of attention.cl (STYLE.md §7), chosen by TensorCores' device probe;
// built on tensor_core.clh, so with TC_ASM=0 the same text runs anywhere with each PTX step emulated.
//
// Math, for sequence b, head h, query i (d = HEAD_DIM, keys j < S), in base 2 (λ = log2 e):
//   s_j = λ·(q_i · k_j)/√d − λ·10000·[mask_j = 0]
//   ctx_i = Σ_j 2^(s_j − m) v_j / Σ_j 2^(s_j − m),   m = max_j s_j      (= softmax(q kᵀ/√d − 10000·pad) v)
// in one pass over tiles of KT keys with the running maximum m and sum l of the online softmax: per tile
// m' = max(m, max s), l and the context are rescaled by 2^(m − m'), then 2^(s_j − m') and 2^(s_j − m')·v_j
// are added. Scores, probabilities, m and l never leave registers.
// Both products run as mma.sync: S = Q·Kᵀ per 16 queries × 8 keys with k = d, and ctx += P·V per 16 queries ×
// 8 dims with k = 16 keys. Head size 24 (4L-288D) is one k16 step plus one k8 step (mma m16n8k8): nothing is
// padded, no multiply is wasted — padding d to 32 would spend a third more tensor-core work and local
// memory on zeros. So HEAD_DIM must be a multiple of 8 (the host falls back to attention.cl otherwise).
// The S accumulators of two neighbouring key fragments are, lane by lane, the A fragment of P for the next
// product (c0, c1 | c2, c3 of keys 0–7 and 8–15 ↔ a0 | a1 and a2 | a3): P goes from registers to the mma
// rounded to half (pack_half2), as flash attention does; l sums the unrounded probabilities.
// Memory: qkv [B·S, 3H] half: q in columns [0, H), k in [H, 2H), v in [2H, 3H), head h in columns
//   [h·d, (h+1)·d) of each; mask int32 [B·S] (1 real, 0 padding); ctx [B·S, H] half. ctx may not alias qkv.
// Work-group: QW warps (32·QW work-items), warp w owning queries q0 + 16w … q0 + 16w + 15 of one (b, h);
//   global size (⌈S/(16·QW)⌉·32·QW, heads, B). The group stages each tile's KT keys and values in local
//   memory (rows of d halves, padded by 8 halves when d/8 is even so that an ldmatrix's 8 rows fall in
//   different banks; 16-byte chunks, H % 8 = 0 makes every row 16-byte aligned), double-buffered: the next
//   tile is loaded into registers before this tile's mma and stored after it, one barrier per tile. Keys past
//   S score −∞ (add exactly 0); queries past S are computed from zero rows and not stored.
// Precision: q, k, v are halves; q·k accumulates in float on the tensor cores; scores, exp2 (full-precision
//   builtin), m, l and the rescaling are float; P is rounded to half for P·V (relative 2^-11 per
//   probability); the context accumulates in float; one rounding to half at the store.
// Reference: ReferenceBackend#attention (float64). Test: kernels-tests TensorCoreAttentionKernelTest.

#define THREADS (32 * QW)
#define DK16 (HEAD_DIM / 16)            // k16 steps of q·k over the head
#define DK8 ((HEAD_DIM % 16) / 8)        // and a k8 step when d % 16 = 8
#define DN (HEAD_DIM / 8)                // 8-wide fragments of the context
#define KN (KT / 8)                      // 8-key fragments of scores per tile
#define LDK (HEAD_DIM / 2 + ((HEAD_DIM / 8) % 2 == 0 ? 4 : 0)) // words per staged key / value row
#define ROW_CHUNKS (HEAD_DIM / 8)
#define T_CHUNKS (KT * ROW_CHUNKS)
#define T_PER ((T_CHUNKS + THREADS - 1) / THREADS)
#define LOG2E 1.4426950408889634f

__kernel __attribute__((reqd_work_group_size(THREADS, 1, 1)))
void tc_attention(const int seq_len, const int hidden, const float scale_log2,
                  __global const ushort *qkv, __global const int *mask, __global half *ctx) {
    __local uint ks[2][KT * LDK] __attribute__((aligned(16)));
    __local uint vs[2][KT * LDK] __attribute__((aligned(16)));
    __local float kbias[2][KT];
    TC_SCRATCH_DECLARE(QW);
    const int tid = get_local_id(0), warp = tid / 32;
    const uint lane = lane_id(), g = lane / 4, t = lane % 4;
    const int h = get_group_id(1), b = get_group_id(2);
    const int q0 = get_group_id(0) * 16 * QW + warp * 16;
    const size_t first = (size_t) b * seq_len, ld = 3 * (size_t) hidden;
    const int col = h * HEAD_DIM;
    __local uint *scr = tc_scratch(warp);

    // Q fragments straight from global memory: rows q0 + g and q0 + g + 8, two halves (one word) at a time.
    uint qa[DK16 + DK8][4];
    {
        const int ra = q0 + g, rb = q0 + g + 8;
        __global const uint *qrow_a = (__global const uint *) (qkv + (first + min(ra, seq_len - 1)) * ld + col);
        __global const uint *qrow_b = (__global const uint *) (qkv + (first + min(rb, seq_len - 1)) * ld + col);
        TC_UNROLL
        for (int c = 0; c < DK16 + DK8; c++) {
            qa[c][0] = ra < seq_len ? qrow_a[c * 8 + t] : 0;
            qa[c][1] = rb < seq_len ? qrow_b[c * 8 + t] : 0;
            qa[c][2] = (c < DK16 && ra < seq_len) ? qrow_a[c * 8 + 4 + t] : 0;
            qa[c][3] = (c < DK16 && rb < seq_len) ? qrow_b[c * 8 + 4 + t] : 0;
        }
    }

    float o[DN][4];
    TC_UNROLL
    for (int n = 0; n < DN; n++)
        TC_UNROLL
        for (int e = 0; e < 4; e++) o[n][e] = 0.0f;
    float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.0f, 0.0f};

    // Keys and values travel through registers (loaded before the mma, stored after); the mask's bias per key
    // is read when the tile is stored. (A register copy of it, loaded with the keys, kept its previous tile's
    // value across the emulation's barriers under PoCL 3.1 — measured: keys past S scored 0 instead of −∞ — while
    // the keys' and values' registers were right; the cause was not pinned down, reading late avoids it.)
    uint4 rk[T_PER], rv[T_PER];
    const int tiles = (seq_len + KT - 1) / KT;
#define LOAD_TILE(j0)                                                                                     \
    TC_UNROLL                                                                                             \
    for (int c = 0; c < T_PER; c++) {                                                                     \
        const int e = tid + c * THREADS, key = (j0) + e / ROW_CHUNKS;                                     \
        const bool in = e < T_CHUNKS && key < seq_len;                                                    \
        __global const ushort *p = qkv + (first + (in ? key : 0)) * ld + col + 8 * (e % ROW_CHUNKS);      \
        rk[c] = in ? *(__global const uint4 *) (p + hidden) : (uint4) (0);                                \
        rv[c] = in ? *(__global const uint4 *) (p + 2 * hidden) : (uint4) (0);                            \
    }
#define STORE_TILE(buf, j0)                                                                               \
    TC_UNROLL                                                                                             \
    for (int c = 0; c < T_PER; c++) {                                                                     \
        const int e = tid + c * THREADS;                                                                  \
        if (e < T_CHUNKS) {                                                                               \
            *(__local uint4 *) (ks[buf] + (e / ROW_CHUNKS) * LDK + 4 * (e % ROW_CHUNKS)) = rk[c];        \
            *(__local uint4 *) (vs[buf] + (e / ROW_CHUNKS) * LDK + 4 * (e % ROW_CHUNKS)) = rv[c];        \
        }                                                                                                 \
    }                                                                                                     \
    for (int j = tid; j < KT; j += THREADS) {                                                             \
        const int key = (j0) + j;                                                                         \
        kbias[buf][j] = key < seq_len ? (mask[first + key] ? 0.0f : -10000.0f * LOG2E) : -INFINITY;      \
    }

    LOAD_TILE(0)
    STORE_TILE(0, 0)
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int kt = 0; kt < tiles; kt++) {
        const int cur = kt & 1;
        const bool more = kt + 1 < tiles; // the same for the whole group
        if (more) {
            LOAD_TILE((kt + 1) * KT)
        }
        // Scores: fragment n covers keys 8n … 8n+7 of the tile; lane holds keys 8n + 2t, 8n + 2t + 1 of rows g, g+8.
        float s[KN][4];
        TC_UNROLL
        for (int n = 0; n < KN; n++) {
            TC_UNROLL
            for (int e = 0; e < 4; e++) s[n][e] = 0.0f;
            const int row = n * 8 + (lane & 7);
            TC_UNROLL
            for (int c = 0; c < DK16; c++) {
                uint fb[2];
                ldsm_x2(fb, ks[cur], row * LDK + c * 8 + ((lane >> 3) & 1) * 4, scr);
                mma_16816(s[n], qa[c], fb, scr);
            }
#if DK8
            uint fb8[1];
            ldsm_x1(fb8, ks[cur], row * LDK + DK16 * 8, scr);
            mma_1688(s[n], qa[DK16], fb8, scr);
#endif
        }
        float mx[2] = {-INFINITY, -INFINITY};
        TC_UNROLL
        for (int n = 0; n < KN; n++)
            TC_UNROLL
            for (int e = 0; e < 4; e++) {
                s[n][e] = fma(s[n][e], scale_log2, kbias[cur][n * 8 + 2 * t + e % 2]);
                mx[e / 2] = fmax(mx[e / 2], s[n][e]);
            }
        TC_UNROLL
        for (int r = 0; r < 2; r++) {
            const float m_new = fmax(m[r], quad_max(mx[r], scr)); // finite: every tile holds a key < S
            const float shrink = exp2(m[r] - m_new);                // 2^−∞ = 0 on the first tile
            l[r] *= shrink;
            TC_UNROLL
            for (int n = 0; n < DN; n++) {
                o[n][2 * r] *= shrink;
                o[n][2 * r + 1] *= shrink;
            }
            m[r] = m_new;
        }
        TC_UNROLL
        for (int n = 0; n < KN; n++)
            TC_UNROLL
            for (int e = 0; e < 4; e++) {
                s[n][e] = exp2(s[n][e] - m[e / 2]);
                l[e / 2] += s[n][e];
            }
        // Context: P (16 queries × 16 keys, A fragment from two score fragments) times V (16 keys × 8 dims).
        TC_UNROLL
        for (int kk = 0; kk < KT / 16; kk++) {
            uint pa[4];
            pa[0] = pack_half2(s[2 * kk][0], s[2 * kk][1]);
            pa[1] = pack_half2(s[2 * kk][2], s[2 * kk][3]);
            pa[2] = pack_half2(s[2 * kk + 1][0], s[2 * kk + 1][1]);
            pa[3] = pack_half2(s[2 * kk + 1][2], s[2 * kk + 1][3]);
            TC_UNROLL
            for (int n = 0; n < DN; n++) {
                uint fv[2];
                // x2.trans over value rows (keys) 16kk … 16kk+15, dims 8n … 8n+7: lanes 0–7 keys 0–7, 8–15 keys 8–15.
                ldsm_x2_trans(fv, vs[cur], (kk * 16 + (lane & 15)) * LDK + n * 4, scr);
                mma_16816(o[n], pa, fv, scr);
            }
        }
        if (more) {
            STORE_TILE(cur ^ 1, (kt + 1) * KT)
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }

    TC_UNROLL
    for (int r = 0; r < 2; r++) {
        const float inv = 1.0f / quad_sum(l[r], scr);
        const int q = q0 + g + 8 * r;
        if (q < seq_len) {
            TC_UNROLL
            for (int n = 0; n < DN; n++) {
                const size_t at = (first + q) * hidden + col + n * 8 + 2 * t;
                vstore_half_rte(o[n][2 * r] * inv, at, ctx);
                vstore_half_rte(o[n][2 * r + 1] * inv, at + 1, ctx);
            }
        }
    }
}
