// linear_layernorm.cl — a linear layer whose output feeds residual add + LayerNorm, in one kernel
// (BertSelfOutput, BertOutput: Backend#linearAddLayerNorm). One launch and no [M, N] intermediate instead of
// linear.cl then add_layernorm.cl; the tile spans whole rows (TN ≥ N: a 288-wide row is one tile).
//
// Math:  z[m][n] = Σ_k x[m][k] · w[n][k] + b[n] + residual[m][n]
//        y[m][n] = (z[m][n] − μ_m) / √(σ²_m + eps) · γ[n] + β[n]     μ_m, σ²_m: mean, biased variance of row m (two passes)
// Memory: x [M, K], w [N, K] (PyTorch layout), b [N], residual [M, N], γ, β [N], y [M, N], all half, row-major.
//   y may not alias x or residual.
// Work-group: RX × RY work-items for TM = RY·WM rows and all TN = RX·WN ≥ N columns; work-item (tx, ty) owns
//   rows ty + i·RY and columns tx + j·RX (strided, as in linear.cl). Per TK-wide step of k the group stages
//   x[TM][TK] and w[TN][TK] in local memory as float (transposed, padded by one word), then each work-item
//   does WM·WN fused multiply-adds per k. Then z stays in registers: each work-item sums its columns of each
//   of its rows, the RX partial sums of a row meet in local memory (TM·RX floats), and every work-item of the
//   row adds them up (the mean; then the same for Σ (z − μ)²). Global size (RX, ⌈M/TM⌉·RY).
//   TM, TN, TK, WM, WN are compile-time (-D); LinearLayerNormKernel picks them from N and the device limits.
// Precision: operands loaded from half, products, bias, residual and the LayerNorm in float; one rounding to
//   half at the store (the product is not rounded before the residual is added: one rounding fewer than
//   linear.cl then add_layernorm.cl).
// Reference: ReferenceBackend#linear then #addLayerNorm (float64). Test: kernels-tests LinearLayerNormKernelTest.

#define RX (TN / WN)
#define RY (TM / WM)

__kernel __attribute__((reqd_work_group_size(RX, RY, 1)))
void linear_layernorm(const int M, const int N, const int K,
                      __global const half *x, __global const half *w, __global const half *bias,
                      __global const half *residual, __global const half *gamma, __global const half *beta,
                      const float eps, __global half *y) {
    __local float xs[TK][TM + 1];
    __local float ws[TK][TN + 1];
    __local float partial[TM][RX];
    const int tx = get_local_id(0), ty = get_local_id(1);
    const int tid = ty * RX + tx;
    const int m0 = get_group_id(1) * TM;

    float acc[WM][WN];
    for (int i = 0; i < WM; i++)
        for (int j = 0; j < WN; j++) acc[i][j] = 0.0f;

    for (int k0 = 0; k0 < K; k0 += TK) {
        for (int e = tid; e < TM * TK; e += RX * RY) {
            const int m = e / TK, k = e % TK;
            const int gm = m0 + m, gk = k0 + k;
            xs[k][m] = (gm < M && gk < K) ? LOAD(x, (size_t) gm * K + gk) : 0.0f;
        }
        for (int e = tid; e < TN * TK; e += RX * RY) {
            const int n = e / TK, k = e % TK;
            const int gk = k0 + k;
            ws[k][n] = (n < N && gk < K) ? LOAD(w, (size_t) n * K + gk) : 0.0f;
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

    // z in place; zero outside the matrix, so that it adds nothing to the row sums.
    for (int i = 0; i < WM; i++) {
        const int m = m0 + ty + i * RY;
        for (int j = 0; j < WN; j++) {
            const int n = tx + j * RX;
            acc[i][j] = (m < M && n < N) ? acc[i][j] + LOAD(bias, n) + LOAD(residual, (size_t) m * N + n) : 0.0f;
        }
    }
    float mean[WM], inv[WM];
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < WM; i++) {
            float s = 0.0f;
            for (int j = 0; j < WN; j++) {
                if (pass == 0) {
                    s += acc[i][j];
                } else if (tx + j * RX < N) {
                    const float d = acc[i][j] - mean[i];
                    s = fma(d, d, s);
                }
            }
            partial[ty + i * RY][tx] = s;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int i = 0; i < WM; i++) {
            float s = 0.0f;
            for (int v = 0; v < RX; v++) s += partial[ty + i * RY][v];
            if (pass == 0) mean[i] = s / N;
            else inv[i] = 1.0f / sqrt(s / N + eps);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    for (int i = 0; i < WM; i++) {
        const int m = m0 + ty + i * RY;
        if (m >= M) continue;
        for (int j = 0; j < WN; j++) {
            const int n = tx + j * RX;
            if (n < N) STORE((acc[i][j] - mean[i]) * inv[i] * LOAD(gamma, n) + LOAD(beta, n), y, (size_t) m * N + n);
        }
    }
}
