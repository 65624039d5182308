// tc_linear.cl — nn.Linear on tensor cores (mma.sync m16n8k16, fp16 in, float accumulate), with the epilogues
// the encoder needs: bias, bias + GELU (BertIntermediate), or bias + residual + LayerNorm (BertSelfOutput,
// BertOutput: Backend#linearAddLayerNorm). The tensor-core variant of linear.cl / linear_layernorm.cl
// (STYLE.md §7), chosen by TensorCores' device probe; built on tensor_core.clh, so with TC_ASM=0 the same
// text runs anywhere with each PTX step emulated (how kernels-tests check it on PoCL).
//
// Math:  y[m][n] = act( Σ_k x[m][k] · w[n][k] + b[n] )                       EPILOGUE 0 none, 1 GELU erf, 2 GELU tanh
//        y[m][n] = (z[m][n] − μ_m) / √(σ²_m + eps) · γ[n] + β[n],  z = x wᵀ + b + residual,
//                  μ_m, σ²_m the mean and biased variance of row m of z (two passes)         EPILOGUE 3
// Memory: x [M, K], w [N, K] (PyTorch's layout: both operands read along k), b [N], residual [M, N], γ, β [N]
//   and y [M, N], all half, row-major. y may not alias x or residual.
// Work-group: WARPS_M × WARPS_N warps (32·WARPS_M·WARPS_N work-items, one dimension) compute a BM × BN tile
//   of y; warp (wm, wn) owns BM/WARPS_M rows × BN/WARPS_N columns as FM × FN fragments of 16 × 8. Global size
//   (⌈N/BN⌉·⌈M/BM⌉·threads): groups run along n fastest, so neighbouring groups share their rows of x.
//   EPILOGUE 3 needs the whole row in one tile (the host makes BN ≥ N; a 288-wide row is 36 fragments).
// Staging: per step of BK columns of k, the x rows and w rows of the tile are copied to local memory as they
//   are (half bits, 8 halves per 16-byte chunk; with ALIGNED = K % 8 == 0 one 16-byte load each, else half by
//   half) into rows of BK + 8 halves — the 8 halves of padding put the 8 rows an ldmatrix reads in different
//   banks. Two buffers: the next step's chunks are loaded into registers before the current step's mma and
//   stored after it, so one barrier per step and the global loads' latency hides behind the tensor cores.
//   (cp.async does not deliver through NVIDIA's OpenCL, per pjrt-ocl; ordinary loads it is.) Rows past M or
//   N and k past K load as zeros; outputs past M or N are not stored.
// Precision: products of halves exact, sums in float (the tensor cores' accumulation); bias, GELU, residual,
//   LayerNorm statistics in float; one rounding to half at the store (≤ 2^-11 relative). The residual is added
//   to the unrounded product: one rounding fewer than linear then add_layernorm.
// Reference: ReferenceBackend#linear, and #linear then #addLayerNorm for EPILOGUE 3 (float64).
// Test: kernels-tests TensorCoreLinearKernelTest.

#define THREADS (32 * WARPS_M * WARPS_N)
#define FM (BM / (16 * WARPS_M))
#define FN (BN / (8 * WARPS_N))
#define KSTEPS (BK / 16)
#define LDT (BK / 2 + 4)              // words per staged row: BK halves + 8 halves of padding
#define ROW_CHUNKS (BK / 8)
#define A_CHUNKS (BM * ROW_CHUNKS)
#define B_CHUNKS (BN * ROW_CHUNKS)
#define A_PER ((A_CHUNKS + THREADS - 1) / THREADS)
#define B_PER ((B_CHUNKS + THREADS - 1) / THREADS)

// 8 halves of row `row` (of `rows`), columns k … k+7 (of K), as four words; zeros outside.
uint4 load_chunk(__global const ushort *p, const int row, const int rows, const int k, const int K) {
#if ALIGNED
    if (row < rows && k < K) return *(__global const uint4 *) (p + (size_t) row * K + k);
    return (uint4) (0);
#else
    uint w[4];
    TC_UNROLL
    for (int e = 0; e < 4; e++) {
        const int k0 = k + 2 * e;
        const uint lo = (row < rows && k0 < K) ? p[(size_t) row * K + k0] : 0;
        const uint hi = (row < rows && k0 + 1 < K) ? p[(size_t) row * K + k0 + 1] : 0;
        w[e] = lo | (hi << 16);
    }
    return (uint4) (w[0], w[1], w[2], w[3]);
#endif
}

float activate(float v) {
#if EPILOGUE == 1
    return 0.5f * v * (1.0f + erf(v * 0.70710678118654752f));
#elif EPILOGUE == 2
    return 0.5f * v * (1.0f + tanh(0.79788456080286536f * (v + 0.044715f * v * v * v)));
#else
    return v;
#endif
}

__kernel __attribute__((reqd_work_group_size(THREADS, 1, 1)))
void tc_linear(const int M, const int N, const int K,
               __global const ushort *x, __global const ushort *w, __global const half *bias,
               __global const half *residual, __global const half *gamma, __global const half *beta, const float eps,
               __global half *y) {
    __local uint as[2][BM * LDT] __attribute__((aligned(16)));
    __local uint bs[2][BN * LDT] __attribute__((aligned(16)));
#if EPILOGUE == 3
    __local float partial[BM * WARPS_N];
#endif
    TC_SCRATCH_DECLARE(WARPS_M * WARPS_N);
    const int tid = get_local_id(0), warp = tid / 32;
    const uint lane = lane_id(), g = lane / 4, t = lane % 4;
    const int wm = warp % WARPS_M, wn = warp / WARPS_M;
    const int tiles_n = (N + BN - 1) / BN;
    const int m0 = (get_group_id(0) / tiles_n) * BM, n0 = (get_group_id(0) % tiles_n) * BN;
    __local uint *scr = tc_scratch(warp);

    float acc[FM][FN][4];
    TC_UNROLL
    for (int i = 0; i < FM; i++)
        TC_UNROLL
        for (int j = 0; j < FN; j++)
            TC_UNROLL
            for (int e = 0; e < 4; e++) acc[i][j][e] = 0.0f;

    uint4 ra[A_PER], rb[B_PER];
    const int steps = (K + BK - 1) / BK;
    // Chunk c of a tile: row c / ROW_CHUNKS, columns 8·(c % ROW_CHUNKS) …
#define LOAD_TILES(k0)                                                                                    \
    TC_UNROLL                                                                                             \
    for (int c = 0; c < A_PER; c++) {                                                                     \
        const int e = tid + c * THREADS;                                                                  \
        ra[c] = e < A_CHUNKS ? load_chunk(x, m0 + e / ROW_CHUNKS, M, (k0) + 8 * (e % ROW_CHUNKS), K) : (uint4) (0); \
    }                                                                                                     \
    TC_UNROLL                                                                                             \
    for (int c = 0; c < B_PER; c++) {                                                                     \
        const int e = tid + c * THREADS;                                                                  \
        rb[c] = e < B_CHUNKS ? load_chunk(w, n0 + e / ROW_CHUNKS, N, (k0) + 8 * (e % ROW_CHUNKS), K) : (uint4) (0); \
    }
#define STORE_TILES(buf)                                                                                  \
    TC_UNROLL                                                                                             \
    for (int c = 0; c < A_PER; c++) {                                                                     \
        const int e = tid + c * THREADS;                                                                  \
        if (e < A_CHUNKS) *(__local uint4 *) (as[buf] + (e / ROW_CHUNKS) * LDT + 4 * (e % ROW_CHUNKS)) = ra[c]; \
    }                                                                                                     \
    TC_UNROLL                                                                                             \
    for (int c = 0; c < B_PER; c++) {                                                                     \
        const int e = tid + c * THREADS;                                                                  \
        if (e < B_CHUNKS) *(__local uint4 *) (bs[buf] + (e / ROW_CHUNKS) * LDT + 4 * (e % ROW_CHUNKS)) = rb[c]; \
    }

    if (steps > 0) {
        LOAD_TILES(0)
        STORE_TILES(0)
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = 0; s < steps; s++) {
        const int cur = s & 1;
        const bool more = s + 1 < steps; // the same for the whole group
        if (more) {
            LOAD_TILES((s + 1) * BK)
        }
        TC_UNROLL
        for (int ks = 0; ks < KSTEPS; ks++) {
            uint fa[FM][4], fb[FN][2];
            TC_UNROLL
            for (int i = 0; i < FM; i++) {
                // x4 over the tile's four 8×8 quarters: lanes 0–7 rows 0–7, 8–15 rows 8–15 (k 0–7), 16–31 the same at k 8–15.
                const int row = wm * FM * 16 + i * 16 + (lane & 7) + ((lane >> 3) & 1) * 8;
                ldsm_x4(fa[i], as[cur], row * LDT + ks * 8 + (lane >> 4) * 4, scr);
            }
            TC_UNROLL
            for (int j = 0; j + 1 < FN; j += 2) {
                // x4 over w rows n … n+15: lanes 0–7 rows n…n+7 k 0–7, 8–15 the same rows k 8–15 (fragment j),
                // 16–31 rows n+8…n+15 (fragment j+1).
                const int row = wn * FN * 8 + j * 8 + (lane & 7) + (lane >> 4) * 8;
                uint f[4];
                ldsm_x4(f, bs[cur], row * LDT + ks * 8 + ((lane >> 3) & 1) * 4, scr);
                fb[j][0] = f[0];
                fb[j][1] = f[1];
                fb[j + 1][0] = f[2];
                fb[j + 1][1] = f[3];
            }
            if (FN % 2) {
                // x2 over the last fragment's w rows: lanes 0–7 k 0–7, lanes 8–15 k 8–15.
                const int row = wn * FN * 8 + (FN - 1) * 8 + (lane & 7);
                ldsm_x2(fb[FN - 1], bs[cur], row * LDT + ks * 8 + ((lane >> 3) & 1) * 4, scr);
            }
            TC_UNROLL
            for (int i = 0; i < FM; i++)
                TC_UNROLL
                for (int j = 0; j < FN; j++) mma_16816(acc[i][j], fa[i], fb[j], scr);
        }
        if (more) {
            STORE_TILES(cur ^ 1)
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }

    // Lane (g, t) holds, in fragment (i, j), rows r0 + g and r0 + g + 8, columns c0 + 2t and c0 + 2t + 1.
    const int r0 = m0 + wm * FM * 16, c0 = n0 + wn * FN * 8;
#if EPILOGUE < 3
    TC_UNROLL
    for (int i = 0; i < FM; i++)
        TC_UNROLL
        for (int j = 0; j < FN; j++)
            TC_UNROLL
            for (int e = 0; e < 4; e++) {
                const int row = r0 + i * 16 + g + 8 * (e / 2), col = c0 + j * 8 + 2 * t + e % 2;
                if (row < M && col < N) vstore_half_rte(activate(acc[i][j][e] + vload_half(col, bias)), (size_t) row * N + col, y);
            }
#else
    // z = product + bias + residual, in place; zero outside the matrix so that it adds nothing to the sums.
    TC_UNROLL
    for (int i = 0; i < FM; i++)
        TC_UNROLL
        for (int j = 0; j < FN; j++)
            TC_UNROLL
            for (int e = 0; e < 4; e++) {
                const int row = r0 + i * 16 + g + 8 * (e / 2), col = c0 + j * 8 + 2 * t + e % 2;
                acc[i][j][e] = (row < M && col < N)
                        ? acc[i][j][e] + vload_half(col, bias) + vload_half((size_t) row * N + col, residual) : 0.0f;
            }
    // Row statistics: this lane's columns, then its quad's (quad_sum), then the WARPS_N warps side by side
    // (local memory). Row slot (i, h) is local row wm·FM·16 + i·16 + g + 8h.
    float mean[FM][2], inv[FM][2];
    TC_UNROLL
    for (int pass = 0; pass < 2; pass++) {
        TC_UNROLL
        for (int i = 0; i < FM; i++)
            TC_UNROLL
            for (int h = 0; h < 2; h++) {
                float s = 0.0f;
                TC_UNROLL
                for (int j = 0; j < FN; j++)
                    TC_UNROLL
                    for (int e = 0; e < 2; e++) {
                        const int col = c0 + j * 8 + 2 * t + e;
                        const float z = acc[i][j][2 * h + e];
                        if (pass == 0) {
                            s += z;
                        } else if (col < N) {
                            const float dz = z - mean[i][h];
                            s = fma(dz, dz, s);
                        }
                    }
                s = quad_sum(s, scr);
                if (t == 0) partial[(wm * FM * 16 + i * 16 + g + 8 * h) * WARPS_N + wn] = s;
            }
        barrier(CLK_LOCAL_MEM_FENCE);
        TC_UNROLL
        for (int i = 0; i < FM; i++)
            TC_UNROLL
            for (int h = 0; h < 2; h++) {
                float s = 0.0f;
                TC_UNROLL
                for (int v = 0; v < WARPS_N; v++) s += partial[(wm * FM * 16 + i * 16 + g + 8 * h) * WARPS_N + v];
                if (pass == 0) mean[i][h] = s / N;
                else inv[i][h] = 1.0f / sqrt(s / N + eps);
            }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    TC_UNROLL
    for (int i = 0; i < FM; i++)
        TC_UNROLL
        for (int j = 0; j < FN; j++)
            TC_UNROLL
            for (int e = 0; e < 4; e++) {
                const int row = r0 + i * 16 + g + 8 * (e / 2), col = c0 + j * 8 + 2 * t + e % 2;
                if (row < M && col < N) {
                    const float v = (acc[i][j][e] - mean[i][e / 2]) * inv[i][e / 2] * vload_half(col, gamma) + vload_half(col, beta);
                    vstore_half_rte(v, (size_t) row * N + col, y);
                }
            }
#endif
}
