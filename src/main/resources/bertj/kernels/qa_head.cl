// qa_head.cl — a linear layer with very few outputs: BertForQuestionAnswering's qa_outputs (N = 2).
//
// Math:  logits[m][o] = Σ_k x[m][k] · w[o][k] + b[o]        o < N ≤ MAX_OUT; column 0 = start, 1 = end
// Memory: x [M, K], w [N, K] (PyTorch layout), b [N] half, row-major; logits [M, N] FLOAT, row-major, so that
//   the logits the span decoder compares are not rounded to half (a half rounding of ~1e-3 absolute would
//   decide near-ties between positions).
// Work-group: one per row m, QA_GROUP work-items (a power of two) striding over k; each keeps N partial
//   sums, then the group reduces them in local memory (scratch of QA_GROUP floats). A tiled matrix multiply
//   would leave all but N of its tile's columns idle.
// Precision: operands loaded from half, products and sums in float, result float (error ~1e-6 relative to
//   Σ|x||w|).
// Reference: ReferenceBackend#linear (float64). Test: kernels-tests QaHeadKernelTest.

__kernel void qa_head(const int K, const int N,
                      __global const half *x, __global const half *w, __global const half *bias,
                      __global float *logits, __local float *scratch) {
    const int m = get_group_id(0);
    const size_t row = (size_t) m * K;
    float acc[MAX_OUT];
    for (int o = 0; o < MAX_OUT; o++) acc[o] = 0.0f;
    for (int k = get_local_id(0); k < K; k += get_local_size(0)) {
        const float xk = LOAD(x, row + k);
        for (int o = 0; o < MAX_OUT; o++) {
            if (o < N) acc[o] = fma(xk, LOAD(w, (size_t) o * K + k), acc[o]);
        }
    }
    for (int o = 0; o < MAX_OUT; o++) {
        if (o >= N) break; // N is the same for the whole group, so every work-item takes the same barriers
        const float total = work_group_total(acc[o], scratch);
        if (get_local_id(0) == 0) logits[(size_t) m * N + o] = total + LOAD(bias, o);
    }
}
