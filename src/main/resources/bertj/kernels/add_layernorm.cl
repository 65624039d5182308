// add_layernorm.cl — residual add + LayerNorm (BertSelfOutput / BertOutput after their dense layer).
//
// Math, for each row r:
//   z = x[r] + residual[r]
//   out[r] = (z − mean(z)) / √(var(z) + eps) · γ + β          (biased variance, two passes, as torch.nn.LayerNorm)
// Memory: x, residual, out [rows, H] half, row-major; γ, β [H] half. out may not alias x or residual.
// Work-group: one per row, LN_GROUP work-items (a power of two) striding over the H columns; global size
//   rows · LN_GROUP. Local memory: z (H floats) and the reduction scratch (LN_GROUP floats).
// Precision: inputs loaded from half, the sum and the statistics in float, the result rounded to half once
//   (error ≤ 2^-11 relative plus float rounding, ~1e-6).
// Reference: ReferenceBackend#addLayerNorm (float64). Test: kernels-tests AddLayerNormKernelTest.

__kernel void add_layernorm(const int hidden, const float eps,
                            __global const half *x, __global const half *residual,
                            __global const half *gamma, __global const half *beta,
                            __global half *out, __local float *z, __local float *scratch) {
    const size_t row = (size_t) get_group_id(0) * hidden;
    for (int c = get_local_id(0); c < hidden; c += get_local_size(0)) {
        z[c] = LOAD(x, row + c) + LOAD(residual, row + c);
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    layer_norm_row(z, hidden, gamma, beta, eps, out, row, scratch);
}
