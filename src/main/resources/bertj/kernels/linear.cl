// linear.cl — tiled matrix multiply with bias and an optional fused GELU: nn.Linear (+ BertIntermediate's GELU).
//
// Math:  y[m][n] = act( Σ_k x[m][k] · w[n][k] + b[n] )        m < M rows (tokens), n < N outputs, k < K inputs
//   act = identity (epilogue 0),
//         GELU erf  (epilogue 1): v · ½ (1 + erf(v / √2)),
//         GELU tanh (epilogue 2): v · ½ (1 + tanh(√(2/π) (v + 0.044715 v³))).
// Memory: x [M, K], w [N, K] (PyTorch's nn.Linear layout, so both operands are read along k), b [N] and
//   y [M, N], all half, row-major. y may not alias x.
// Work-group: RX × RY work-items compute a TM × TN tile of y; work-item (tx, ty) owns the WM × WN outputs
//   at rows ty + i·RY and columns tx + j·RX (strided, so that neighbouring work-items read neighbouring
//   local-memory words). Per TK-wide step of k the group stages x[TM][TK] and w[TN][TK] in local memory as
//   float (transposed to [k][m] / [k][n], padded by one word against bank conflicts), then each work-item
//   does WM·WN fused multiply-adds per k. Edges (M, N, K not multiples of the tile) load zeros and skip
//   stores. TM, TN, TK, WM, WN are compile-time (-D); the host picks them from the device's work-group and
//   local-memory limits (LinearKernel.Tiling).
// Precision: operands loaded from half, products accumulated in float (error ≲ K·2^-24·Σ|x||w|, ~1e-6 here),
//   bias and GELU in float, one rounding to half at the store (≤ 2^-11 relative).
// Reference: ReferenceBackend#linear (float64). Test: kernels-tests LinearKernelTest (+ PyTorch golden vectors).

#define RX (TN / WN)
#define RY (TM / WM)

__kernel __attribute__((reqd_work_group_size(RX, RY, 1)))
void linear(const int M, const int N, const int K,
            __global const half *x, __global const half *w, __global const half *bias,
            __global half *y, const int epilogue) {
    __local float xs[TK][TM + 1];
    __local float ws[TK][TN + 1];
    const int tx = get_local_id(0), ty = get_local_id(1);
    const int tid = ty * RX + tx;
    const int m0 = get_group_id(1) * TM, n0 = get_group_id(0) * TN;

    float acc[WM][WN];
    for (int i = 0; i < WM; i++)
        for (int j = 0; j < WN; j++) acc[i][j] = 0.0f;

    for (int k0 = 0; k0 < K; k0 += TK) {
        // Consecutive work-items read consecutive k of one row: TK halves in a row are contiguous in memory.
        for (int e = tid; e < TM * TK; e += RX * RY) {
            const int m = e / TK, k = e % TK;
            const int gm = m0 + m, gk = k0 + k;
            xs[k][m] = (gm < M && gk < K) ? LOAD(x, (size_t) gm * K + gk) : 0.0f;
        }
        for (int e = tid; e < TN * TK; e += RX * RY) {
            const int n = e / TK, k = e % TK;
            const int gn = n0 + n, gk = k0 + k;
            ws[k][n] = (gn < N && gk < K) ? LOAD(w, (size_t) gn * K + gk) : 0.0f;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int k = 0; k < TK; k++) {
            float a[WM], b[WN];
            for (int i = 0; i < WM; i++) a[i] = xs[k][ty + i * RY];
            for (int j = 0; j < WN; j++) b[j] = ws[k][tx + j * RX];
            for (int i = 0; i < WM; i++)
                for (int j = 0; j < WN; j++) acc[i][j] = fma(a[i], b[j], acc[i][j]);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }

    for (int i = 0; i < WM; i++) {
        const int m = m0 + ty + i * RY;
        if (m >= M) continue;
        for (int j = 0; j < WN; j++) {
            const int n = n0 + tx + j * RX;
            if (n >= N) continue;
            float v = acc[i][j] + LOAD(bias, n);
            if (epilogue == 1) {
                v = 0.5f * v * (1.0f + erf(v * 0.70710678118654752f));
            } else if (epilogue == 2) {
                v = 0.5f * v * (1.0f + tanh(0.79788456080286536f * (v + 0.044715f * v * v * v)));
            }
            STORE(v, y, (size_t) m * N + n);
        }
    }
}
