// tc_probe.cl — the start-up probe that decides whether the tensor-core kernels may run on a device.
//
// Two warps (one work-group of 64), each with its own small-integer inputs, exercise every step of
// tensor_core.clh the kernels use, and write what each lane got:
//   d16  = A·Bᵀ + C      A [16][16], B [8][16] ([n][k], as weights and keys lie): ldsm_x4 + ldsm_x2 + mma_16816
//   d8   = A8·B8ᵀ + C    A8 [16][8], B8 [8][8]: ldsm_x2 + ldsm_x1 + mma_1688
//   dt   = A·V + C       V [16][8] ([k][n], as values lie): ldsm_x4 + ldsm_x2_trans + mma_16816
//   lanes: lane_id() and get_local_id(0) % 32 (warps must be consecutive local ids, lanes in order)
//   quad:  quad_max and quad_sum of a value per lane
//   pack:  pack_half2 of two values per lane
// Every input is an integer of magnitude ≤ 4 (results ≤ 16·16 + 3), so every product and sum is exact in half
// and float: the host knows the one right answer (TensorCores.probe) and compares bit for bit. A device
// passes only if every element matches; then the kernels' fragment layouts, shared addresses, lane numbering
// and shuffles are the ones the portable emulation (checked on PoCL against float64) assumes.
// Memory: in: per warp 16·16 + 8·16 + 16·8 + 8·8 + 16·8 halves (A, B, A8, B8, V); c: per warp 16·8 floats;
//   d: per warp 3·16·8 floats; ints: 64·2 (lane ids); floats: 64·2 (quad); packs: 64 uint.
// Tiles are staged in local memory with a 12-word (48-byte) row stride, 16-byte aligned, as the kernels do.

#define PROBE_IN (16 * 16 + 8 * 16 + 16 * 8 + 8 * 8 + 16 * 8)
#define LD 12

__kernel __attribute__((reqd_work_group_size(64, 1, 1)))
void tc_probe(__global const ushort *in, __global const float *c, __global float *d, __global int *lanes,
              __global float *quad, __global uint *packs) {
    __local uint a[2][16 * LD] __attribute__((aligned(16)));
    __local uint b[2][8 * LD] __attribute__((aligned(16)));
    __local uint a8[2][16 * LD] __attribute__((aligned(16)));
    __local uint b8[2][8 * LD] __attribute__((aligned(16)));
    __local uint v[2][16 * LD] __attribute__((aligned(16)));
    TC_SCRATCH_DECLARE(2);
    const int lid = get_local_id(0), warp = lid / 32;
    const uint lane = lane_id(), g = lane / 4, t = lane % 4;
    __local uint *scr = tc_scratch(warp);
    __global const ushort *src = in + warp * PROBE_IN;

    // Stage the halves two at a time (word w of row r holds columns 2w, 2w + 1).
    for (int e = lane; e < 16 * 8; e += 32) { // A: 16 rows × 8 words
        const int r = e / 8, w = e % 8;
        a[warp][r * LD + w] = src[r * 16 + 2 * w] | ((uint) src[r * 16 + 2 * w + 1] << 16);
    }
    src += 16 * 16;
    for (int e = lane; e < 8 * 8; e += 32) { // B: 8 rows × 8 words
        const int r = e / 8, w = e % 8;
        b[warp][r * LD + w] = src[r * 16 + 2 * w] | ((uint) src[r * 16 + 2 * w + 1] << 16);
    }
    src += 8 * 16;
    for (int e = lane; e < 16 * 4; e += 32) { // A8: 16 rows × 4 words
        const int r = e / 4, w = e % 4;
        a8[warp][r * LD + w] = src[r * 8 + 2 * w] | ((uint) src[r * 8 + 2 * w + 1] << 16);
    }
    src += 16 * 8;
    for (int e = lane; e < 8 * 4; e += 32) { // B8: 8 rows × 4 words
        const int r = e / 4, w = e % 4;
        b8[warp][r * LD + w] = src[r * 8 + 2 * w] | ((uint) src[r * 8 + 2 * w + 1] << 16);
    }
    src += 8 * 8;
    for (int e = lane; e < 16 * 4; e += 32) { // V: 16 rows (k) × 4 words (n)
        const int r = e / 4, w = e % 4;
        v[warp][r * LD + w] = src[r * 8 + 2 * w] | ((uint) src[r * 8 + 2 * w + 1] << 16);
    }
    barrier(CLK_LOCAL_MEM_FENCE);

    __global const float *cw = c + warp * 128;
    float acc[3][4];
    for (int m = 0; m < 3; m++)
        for (int e = 0; e < 4; e++) acc[m][e] = cw[(g + 8 * (e / 2)) * 8 + 2 * t + e % 2];

    uint fa[4], fb[2], fa8[2], fb8[1], fv[2];
    // A quarters: lanes 0–7 rows 0–7 cols 0–7, 8–15 rows 8–15, 16–23 rows 0–7 cols 8–15, 24–31 rows 8–15 cols 8–15.
    ldsm_x4(fa, a[warp], ((lane & 7) + ((lane >> 3) & 1) * 8) * LD + (lane >> 4) * 4, scr);
    ldsm_x2(fb, b[warp], (lane & 7) * LD + ((lane >> 3) & 1) * 4, scr);
    mma_16816(acc[0], fa, fb, scr);
    ldsm_x2(fa8, a8[warp], (lane & 15) * LD, scr);
    ldsm_x1(fb8, b8[warp], (lane & 7) * LD, scr);
    mma_1688(acc[1], fa8, fb8, scr);
    ldsm_x2_trans(fv, v[warp], (lane & 15) * LD, scr);
    mma_16816(acc[2], fa, fv, scr);

    __global float *dw = d + warp * 3 * 128;
    for (int m = 0; m < 3; m++)
        for (int e = 0; e < 4; e++) dw[m * 128 + (g + 8 * (e / 2)) * 8 + 2 * t + e % 2] = acc[m][e];

    lanes[2 * lid] = lane;
    lanes[2 * lid + 1] = lid % 32;
    const float x = (float) ((lid * 7) % 13) - 6.0f;
    const float mx = quad_max(x, scr);
    const float sm = quad_sum(x, scr);
    quad[2 * lid] = mx;
    quad[2 * lid + 1] = sm;
    // The second value, 1 + lid·2^-13, is exact in float but not in half (spacing 2^-10 there): it checks the
    // rounding to nearest, ties (lid % 8 = 4) to even.
    packs[lid] = pack_half2(0.5f * lid - 3.0f, 1.0f + lid * 0x1p-13f);
}
