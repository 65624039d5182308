package bertj.backend.cpu;

import bertj.backend.Backend.Epilogue;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The fast path: {@link Kernels} with the Vector API (jdk.incubator.vector) at the CPU's widest float vector
 * (VL = 16 floats on AVX-512, 8 on AVX2). Everything is float32 with FMA accumulation.
 *
 * <p><b>Linear</b> (y = x Wᵀ + b): a register-tiled micro-kernel computes a block of MR rows × NR = NV·VL
 * columns of y with MR·NV accumulator vectors that stay in registers for the whole K loop; per k it loads the NV
 * vectors of the packed weight panel and broadcasts one x value per row (AVX-512: 6 × 4 vectors, 24 accumulators
 * of the 32 zmm registers, 24 FMAs per 4 loads and 6 broadcasts; AVX2: 6 × 2, 12 of the 16 ymm registers, 12 FMAs
 * per 2 loads and 6 broadcasts). The accumulators start at the bias, so bias costs nothing; GELU is applied to
 * the finished block while it is still in L1. Measured (JMH KernelBench) at 93–98% of the FMA peak, one core or
 * two (with the earlier 12 × 2 AVX-512 tile).
 *
 * <p><b>Attention</b> works on the transposed problem so that every vector runs over 2·VL queries and the
 * head size d (24 for 4L-288D) never has to be a multiple of VL: scores sᵀ[j][i] = Σ_c k[j][c] · qᵀ[c][i]
 * (8 keys × 2 vectors in registers), softmax down each column (the max is taken while the scores are stored),
 * then ctxᵀ[c][i] = Σ_j v[j][c] · eᵀ[j][i] (8 head columns × 2 vectors), times the inverse column sums.
 * Only a [keys × 2·VL] block of scores exists at a time, never the whole S × S matrix.
 *
 * <p>exp, tanh-GELU and erf-GELU are computed in float with our own vector code (see {@link #exp},
 * {@link #erf}, {@link #gelu}); their accuracy is checked against float64 in the tests. Methods take arrays,
 * never vectors: a vector passed to or returned from a call the JIT does not inline is boxed on the heap.
 *
 * <p>The same ops, written plainly: {@link bertj.backend.reference.ReferenceBackend} (float64) and
 * {@link ScalarKernels} (float32, this class's results bit for bit: {@link #twin()}, ColdStartTest); checked against float64 arithmetic at awkward shapes in CpuKernelsTest and against
 * PyTorch float32 in CpuBackendParityTest; timed by src/bench/java/bertj/backend/cpu/KernelBench (docs/performance.md).
 */
final class VectorKernels implements Kernels {
    /**
     * The CPU's widest float vector. The system property {@code bertj.cpu.vectorBits} (128, 256 or 512) forces
     * another, so that the code paths of other machines can be checked here (a shape the CPU lacks runs in
     * the Vector API's plain-Java fallback: correct and very slow).
     */
    static final VectorSpecies<Float> F = switch (Integer.getInteger("bertj.cpu.vectorBits", 0)) {
        case 128 -> FloatVector.SPECIES_128;
        case 256 -> FloatVector.SPECIES_256;
        case 512 -> FloatVector.SPECIES_512;
        default -> FloatVector.SPECIES_PREFERRED;
    };
    static final int VL = F.length();
    /**
     * Vectors per weight panel: 4 on AVX-512, 2 on AVX2. Per k the micro-kernel loads the panel's vectors and
     * broadcasts one x value per row, so the wider the panel, the fewer broadcasts per FMA: 6 per 24 FMAs at 6 rows
     * × 4 vectors, against 12 per 24 at 12 × 2 (the tile before). Measured (docs/performance.md): on AMD Zen 4,
     * where a 512-bit broadcast takes a vector pipe beside the FMAs, 1.00–1.08× the 12 × 2 tile on one core; on
     * AMD Zen 5 1.04–1.24× for MiniLM's products on one core, 0.90–1.01× for 4L-288D's there (whose 12 × 2 panel,
     * 288 × 32 floats, stays in Zen 5's L1), and with two threads 1.19× for {@code squad}, 1.13× for QA batches in
     * one process. AVX2's 16 registers hold 6 × 2 only. {@code -Dbertj.cpu.panelVectors=2} restores the 12 × 2 tile
     * on AVX-512, for A/B runs. One tile for every product: a JVM that ran both, per product, had its 6 × 4 kernel
     * compiled badly after an on-stack replacement (QA batches at 0.13× their speed).
     */
    static final int NV = VL >= 16 && Integer.getInteger("bertj.cpu.panelVectors", 4) != 2 ? 4 : 2;
    /** Columns per weight panel. */
    static final int NR = NV * VL;
    /**
     * Rows per micro-kernel call: on AVX-512 6 rows × 4 vectors, 24 accumulators + 5 (four weight vectors, a
     * broadcast) of the 32 registers, or 12 × 2, 24 + 3; on AVX2 6 × 2, 12 + 3 of the 16. (4 rows × 2, 8
     * accumulators, is what two FMA pipes of 4 cycles' latency need at the least, so any stall shows; 6 rows also
     * load 8 values per 12 FMAs, not 6 per 8.) With 4-vector panels, a last panel of at most 2 vectors' columns
     * (288 = 4 · 64 + 32) runs the 2-vector kernels, so that no FMA is spent on the zeros past N. Every output
     * element is the same chain of FMAs in k order whatever the tile, so neither MR nor NR changes a bit.
     * {@code -Dbertj.cpu.mr=4} restores the earlier AVX2 tile, for A/B runs (docs/performance.md).
     */
    static final int MR = NV == 4 ? 6 : VL >= 16 ? 12 : Integer.getInteger("bertj.cpu.mr", 6) == 4 ? 4 : 6;

    @Override
    public String description() {
        return "Vector API, " + F.vectorBitSize() + "-bit";
    }

    /** The plain-Java twin of these kernels, with the same results bit for bit: {@link ScalarKernels} for VL, NR and MR. */
    Kernels twin() {
        return new ScalarKernels(VL, NR, MR, description());
    }

    @Override
    public int panelWidth() {
        return NR;
    }

    @Override
    public int rowBlock() {
        return MR;
    }

    @Override
    public int queryBlock() {
        return 2 * VL;
    }

    // ---------------------------------------------------------------- linear

    @Override
    public void linear(float[] x, int kdim, float[] w, int wBase, float[] bias, float[] y, int n, int row0, int row1, int panel0, int panel1,
                       Epilogue epilogue, float[] scratch, int s0) {
        for (int p = panel0; p < panel1; p++) {
            int n0 = p * NR, cols = Math.min(NR, n - n0), wOff = wBase + p * kdim * NR;
            // A panel of at most two vectors' columns runs the 2-vector kernels (on AVX-512 the last one of 288
            // columns: 4 · 64 + 32); the columns of a panel narrower than its kernels' are computed into scratch,
            // a tile at a time, and copied out.
            boolean two = NV == 2 || cols <= 2 * VL;
            int width = two ? 2 * VL : NR;
            boolean edge = cols < width;
            for (int r = row0; r < row1; ) {
                int left = row1 - r, rows;
                float[] c = edge ? scratch : y;
                int cOff = edge ? s0 : r * n + n0, ldc = edge ? width : n;
                if (two) {
                    rows = left >= 12 && VL >= 16 ? 12 : left >= MR ? MR : left >= 4 ? 4 : 1; // 12, MR (6 or 12), 4, 1
                    switch (rows) {
                        case 12 -> kernel12(x, r * kdim, kdim, w, wOff, kdim, bias, n0, c, cOff, ldc);
                        case 6 -> kernel6(x, r * kdim, kdim, w, wOff, kdim, bias, n0, c, cOff, ldc);
                        case 4 -> kernel4(x, r * kdim, kdim, w, wOff, kdim, bias, n0, c, cOff, ldc);
                        default -> kernel1(x, r * kdim, w, wOff, kdim, bias, n0, c, cOff);
                    }
                } else {
                    rows = left >= 6 ? 6 : left >= 4 ? 4 : 1;
                    switch (rows) {
                        case 6 -> kernel6x4(x, r * kdim, kdim, w, wOff, kdim, bias, n0, c, cOff, ldc);
                        case 4 -> kernel4x4(x, r * kdim, kdim, w, wOff, kdim, bias, n0, c, cOff, ldc);
                        default -> kernel1x4(x, r * kdim, w, wOff, kdim, bias, n0, c, cOff);
                    }
                }
                if (edge) {
                    if (epilogue != Epilogue.NONE) gelu(c, s0, width, width, rows, epilogue, scratch, s0 + EDGE_TILE);
                    for (int i = 0; i < rows; i++) System.arraycopy(scratch, s0 + i * width, y, (r + i) * n + n0, cols);
                }
                r += rows;
            }
            // GELU on the panel's rows while they are in L1, GELU_ROWS rows per call, so that the constants of
            // exp and erf are set up once per GELU_ROWS · 2 · VL values rather than once per micro-kernel tile.
            if (!edge && epilogue != Epilogue.NONE) {
                for (int r = row0; r < row1; r += GELU_ROWS) {
                    gelu(y, r * n + n0, n, width, Math.min(GELU_ROWS, row1 - r), epilogue, scratch, s0 + EDGE_TILE);
                }
            }
        }
    }

    /** Floats of the largest tile of any kernel (12 rows × 2 vectors, or 6 × 4): an edge tile in scratch. */
    private static final int EDGE_TILE = 24 * VL;

    /** Rows of a panel per GELU call (the temporary tile is GELU_ROWS × 2 · VL floats of scratch). */
    private static final int GELU_ROWS = 16;

    @Override
    public int linearScratch() {
        return EDGE_TILE + GELU_ROWS * 2 * VL; // an edge tile, and GELU's temporary tile
    }

    /*
     * The 2-vector kernels read the first two vectors of each packed k row, NR floats apart. NR must stay a constant
     * in their k loops: C2 eliminates the range checks of w's loads only where wo steps by a constant (it rewrites wo
     * as wOff + k · NR). With the stride passed as a parameter (as it was for a day) the loads keep their checks (so
     * the timing says; the generated code was not inspected), and the 6-row AVX2 kernel took 1.10–1.16× as long
     * (one core of an AMD Zen 3, 288 → 864 over 384 rows, medians of 250 interleaved repetitions of both versions,
     * five runs; docs/performance.md); on AVX2 every product runs these kernels.
     */
    private static void kernel12(float[] a, int aOff, int lda, float[] w, int wOff, int kdim, float[] bias, int bOff,
                                float[] c, int cOff, int ldc) {
        FloatVector b0 = FloatVector.fromArray(F, bias, bOff), b1 = FloatVector.fromArray(F, bias, bOff + VL);
        FloatVector c0a = b0, c0b = b1, c1a = b0, c1b = b1, c2a = b0, c2b = b1, c3a = b0, c3b = b1;
        FloatVector c4a = b0, c4b = b1, c5a = b0, c5b = b1, c6a = b0, c6b = b1, c7a = b0, c7b = b1;
        FloatVector c8a = b0, c8b = b1, c9a = b0, c9b = b1, c10a = b0, c10b = b1, c11a = b0, c11b = b1;
        for (int k = 0, wo = wOff; k < kdim; k++, wo += NR) {
            FloatVector w0 = FloatVector.fromArray(F, w, wo), w1 = FloatVector.fromArray(F, w, wo + VL);
            FloatVector x;
            x = FloatVector.broadcast(F, a[aOff + k]); c0a = x.fma(w0, c0a); c0b = x.fma(w1, c0b);
            x = FloatVector.broadcast(F, a[aOff + lda + k]); c1a = x.fma(w0, c1a); c1b = x.fma(w1, c1b);
            x = FloatVector.broadcast(F, a[aOff + 2 * lda + k]); c2a = x.fma(w0, c2a); c2b = x.fma(w1, c2b);
            x = FloatVector.broadcast(F, a[aOff + 3 * lda + k]); c3a = x.fma(w0, c3a); c3b = x.fma(w1, c3b);
            x = FloatVector.broadcast(F, a[aOff + 4 * lda + k]); c4a = x.fma(w0, c4a); c4b = x.fma(w1, c4b);
            x = FloatVector.broadcast(F, a[aOff + 5 * lda + k]); c5a = x.fma(w0, c5a); c5b = x.fma(w1, c5b);
            x = FloatVector.broadcast(F, a[aOff + 6 * lda + k]); c6a = x.fma(w0, c6a); c6b = x.fma(w1, c6b);
            x = FloatVector.broadcast(F, a[aOff + 7 * lda + k]); c7a = x.fma(w0, c7a); c7b = x.fma(w1, c7b);
            x = FloatVector.broadcast(F, a[aOff + 8 * lda + k]); c8a = x.fma(w0, c8a); c8b = x.fma(w1, c8b);
            x = FloatVector.broadcast(F, a[aOff + 9 * lda + k]); c9a = x.fma(w0, c9a); c9b = x.fma(w1, c9b);
            x = FloatVector.broadcast(F, a[aOff + 10 * lda + k]); c10a = x.fma(w0, c10a); c10b = x.fma(w1, c10b);
            x = FloatVector.broadcast(F, a[aOff + 11 * lda + k]); c11a = x.fma(w0, c11a); c11b = x.fma(w1, c11b);
        }
        c0a.intoArray(c, cOff); c0b.intoArray(c, cOff + VL);
        c1a.intoArray(c, cOff + ldc); c1b.intoArray(c, cOff + ldc + VL);
        c2a.intoArray(c, cOff + 2 * ldc); c2b.intoArray(c, cOff + 2 * ldc + VL);
        c3a.intoArray(c, cOff + 3 * ldc); c3b.intoArray(c, cOff + 3 * ldc + VL);
        c4a.intoArray(c, cOff + 4 * ldc); c4b.intoArray(c, cOff + 4 * ldc + VL);
        c5a.intoArray(c, cOff + 5 * ldc); c5b.intoArray(c, cOff + 5 * ldc + VL);
        c6a.intoArray(c, cOff + 6 * ldc); c6b.intoArray(c, cOff + 6 * ldc + VL);
        c7a.intoArray(c, cOff + 7 * ldc); c7b.intoArray(c, cOff + 7 * ldc + VL);
        c8a.intoArray(c, cOff + 8 * ldc); c8b.intoArray(c, cOff + 8 * ldc + VL);
        c9a.intoArray(c, cOff + 9 * ldc); c9b.intoArray(c, cOff + 9 * ldc + VL);
        c10a.intoArray(c, cOff + 10 * ldc); c10b.intoArray(c, cOff + 10 * ldc + VL);
        c11a.intoArray(c, cOff + 11 * ldc); c11b.intoArray(c, cOff + 11 * ldc + VL);
    }

    private static void kernel6(float[] a, int aOff, int lda, float[] w, int wOff, int kdim, float[] bias, int bOff,
                                float[] c, int cOff, int ldc) {
        FloatVector b0 = FloatVector.fromArray(F, bias, bOff), b1 = FloatVector.fromArray(F, bias, bOff + VL);
        FloatVector c0a = b0, c0b = b1, c1a = b0, c1b = b1, c2a = b0, c2b = b1, c3a = b0, c3b = b1;
        FloatVector c4a = b0, c4b = b1, c5a = b0, c5b = b1;
        for (int k = 0, wo = wOff; k < kdim; k++, wo += NR) {
            FloatVector w0 = FloatVector.fromArray(F, w, wo), w1 = FloatVector.fromArray(F, w, wo + VL);
            FloatVector x;
            x = FloatVector.broadcast(F, a[aOff + k]); c0a = x.fma(w0, c0a); c0b = x.fma(w1, c0b);
            x = FloatVector.broadcast(F, a[aOff + lda + k]); c1a = x.fma(w0, c1a); c1b = x.fma(w1, c1b);
            x = FloatVector.broadcast(F, a[aOff + 2 * lda + k]); c2a = x.fma(w0, c2a); c2b = x.fma(w1, c2b);
            x = FloatVector.broadcast(F, a[aOff + 3 * lda + k]); c3a = x.fma(w0, c3a); c3b = x.fma(w1, c3b);
            x = FloatVector.broadcast(F, a[aOff + 4 * lda + k]); c4a = x.fma(w0, c4a); c4b = x.fma(w1, c4b);
            x = FloatVector.broadcast(F, a[aOff + 5 * lda + k]); c5a = x.fma(w0, c5a); c5b = x.fma(w1, c5b);
        }
        c0a.intoArray(c, cOff); c0b.intoArray(c, cOff + VL);
        c1a.intoArray(c, cOff + ldc); c1b.intoArray(c, cOff + ldc + VL);
        c2a.intoArray(c, cOff + 2 * ldc); c2b.intoArray(c, cOff + 2 * ldc + VL);
        c3a.intoArray(c, cOff + 3 * ldc); c3b.intoArray(c, cOff + 3 * ldc + VL);
        c4a.intoArray(c, cOff + 4 * ldc); c4b.intoArray(c, cOff + 4 * ldc + VL);
        c5a.intoArray(c, cOff + 5 * ldc); c5b.intoArray(c, cOff + 5 * ldc + VL);
    }

    private static void kernel4(float[] a, int aOff, int lda, float[] w, int wOff, int kdim, float[] bias, int bOff,
                                float[] c, int cOff, int ldc) {
        FloatVector b0 = FloatVector.fromArray(F, bias, bOff), b1 = FloatVector.fromArray(F, bias, bOff + VL);
        FloatVector c0a = b0, c0b = b1, c1a = b0, c1b = b1, c2a = b0, c2b = b1, c3a = b0, c3b = b1;
        for (int k = 0, wo = wOff; k < kdim; k++, wo += NR) {
            FloatVector w0 = FloatVector.fromArray(F, w, wo), w1 = FloatVector.fromArray(F, w, wo + VL);
            FloatVector x;
            x = FloatVector.broadcast(F, a[aOff + k]); c0a = x.fma(w0, c0a); c0b = x.fma(w1, c0b);
            x = FloatVector.broadcast(F, a[aOff + lda + k]); c1a = x.fma(w0, c1a); c1b = x.fma(w1, c1b);
            x = FloatVector.broadcast(F, a[aOff + 2 * lda + k]); c2a = x.fma(w0, c2a); c2b = x.fma(w1, c2b);
            x = FloatVector.broadcast(F, a[aOff + 3 * lda + k]); c3a = x.fma(w0, c3a); c3b = x.fma(w1, c3b);
        }
        c0a.intoArray(c, cOff); c0b.intoArray(c, cOff + VL);
        c1a.intoArray(c, cOff + ldc); c1b.intoArray(c, cOff + ldc + VL);
        c2a.intoArray(c, cOff + 2 * ldc); c2b.intoArray(c, cOff + 2 * ldc + VL);
        c3a.intoArray(c, cOff + 3 * ldc); c3b.intoArray(c, cOff + 3 * ldc + VL);
    }

    private static void kernel1(float[] a, int aOff, float[] w, int wOff, int kdim, float[] bias, int bOff, float[] c, int cOff) {
        FloatVector c0a = FloatVector.fromArray(F, bias, bOff), c0b = FloatVector.fromArray(F, bias, bOff + VL);
        for (int k = 0, wo = wOff; k < kdim; k++, wo += NR) {
            FloatVector x = FloatVector.broadcast(F, a[aOff + k]);
            c0a = x.fma(FloatVector.fromArray(F, w, wo), c0a);
            c0b = x.fma(FloatVector.fromArray(F, w, wo + VL), c0b);
        }
        c0a.intoArray(c, cOff);
        c0b.intoArray(c, cOff + VL);
    }

    private static void kernel6x4(float[] a, int aOff, int lda, float[] w, int wOff, int kdim, float[] bias, int bOff,
                                  float[] c, int cOff, int ldc) {
        FloatVector b0 = FloatVector.fromArray(F, bias, bOff), b1 = FloatVector.fromArray(F, bias, bOff + VL),
                b2 = FloatVector.fromArray(F, bias, bOff + 2 * VL), b3 = FloatVector.fromArray(F, bias, bOff + 3 * VL);
        FloatVector c00 = b0, c01 = b1, c02 = b2, c03 = b3, c10 = b0, c11 = b1, c12 = b2, c13 = b3;
        FloatVector c20 = b0, c21 = b1, c22 = b2, c23 = b3, c30 = b0, c31 = b1, c32 = b2, c33 = b3;
        FloatVector c40 = b0, c41 = b1, c42 = b2, c43 = b3, c50 = b0, c51 = b1, c52 = b2, c53 = b3;
        for (int k = 0, wo = wOff; k < kdim; k++, wo += NR) {
            FloatVector w0 = FloatVector.fromArray(F, w, wo), w1 = FloatVector.fromArray(F, w, wo + VL),
                    w2 = FloatVector.fromArray(F, w, wo + 2 * VL), w3 = FloatVector.fromArray(F, w, wo + 3 * VL);
            FloatVector x;
            x = FloatVector.broadcast(F, a[aOff + k]);
            c00 = x.fma(w0, c00); c01 = x.fma(w1, c01); c02 = x.fma(w2, c02); c03 = x.fma(w3, c03);
            x = FloatVector.broadcast(F, a[aOff + lda + k]);
            c10 = x.fma(w0, c10); c11 = x.fma(w1, c11); c12 = x.fma(w2, c12); c13 = x.fma(w3, c13);
            x = FloatVector.broadcast(F, a[aOff + 2 * lda + k]);
            c20 = x.fma(w0, c20); c21 = x.fma(w1, c21); c22 = x.fma(w2, c22); c23 = x.fma(w3, c23);
            x = FloatVector.broadcast(F, a[aOff + 3 * lda + k]);
            c30 = x.fma(w0, c30); c31 = x.fma(w1, c31); c32 = x.fma(w2, c32); c33 = x.fma(w3, c33);
            x = FloatVector.broadcast(F, a[aOff + 4 * lda + k]);
            c40 = x.fma(w0, c40); c41 = x.fma(w1, c41); c42 = x.fma(w2, c42); c43 = x.fma(w3, c43);
            x = FloatVector.broadcast(F, a[aOff + 5 * lda + k]);
            c50 = x.fma(w0, c50); c51 = x.fma(w1, c51); c52 = x.fma(w2, c52); c53 = x.fma(w3, c53);
        }
        c00.intoArray(c, cOff); c01.intoArray(c, cOff + VL); c02.intoArray(c, cOff + 2 * VL); c03.intoArray(c, cOff + 3 * VL);
        c10.intoArray(c, cOff + ldc); c11.intoArray(c, cOff + ldc + VL); c12.intoArray(c, cOff + ldc + 2 * VL); c13.intoArray(c, cOff + ldc + 3 * VL);
        c20.intoArray(c, cOff + 2 * ldc); c21.intoArray(c, cOff + 2 * ldc + VL); c22.intoArray(c, cOff + 2 * ldc + 2 * VL); c23.intoArray(c, cOff + 2 * ldc + 3 * VL);
        c30.intoArray(c, cOff + 3 * ldc); c31.intoArray(c, cOff + 3 * ldc + VL); c32.intoArray(c, cOff + 3 * ldc + 2 * VL); c33.intoArray(c, cOff + 3 * ldc + 3 * VL);
        c40.intoArray(c, cOff + 4 * ldc); c41.intoArray(c, cOff + 4 * ldc + VL); c42.intoArray(c, cOff + 4 * ldc + 2 * VL); c43.intoArray(c, cOff + 4 * ldc + 3 * VL);
        c50.intoArray(c, cOff + 5 * ldc); c51.intoArray(c, cOff + 5 * ldc + VL); c52.intoArray(c, cOff + 5 * ldc + 2 * VL); c53.intoArray(c, cOff + 5 * ldc + 3 * VL);
    }

    private static void kernel4x4(float[] a, int aOff, int lda, float[] w, int wOff, int kdim, float[] bias, int bOff,
                                  float[] c, int cOff, int ldc) {
        FloatVector b0 = FloatVector.fromArray(F, bias, bOff), b1 = FloatVector.fromArray(F, bias, bOff + VL),
                b2 = FloatVector.fromArray(F, bias, bOff + 2 * VL), b3 = FloatVector.fromArray(F, bias, bOff + 3 * VL);
        FloatVector c00 = b0, c01 = b1, c02 = b2, c03 = b3, c10 = b0, c11 = b1, c12 = b2, c13 = b3;
        FloatVector c20 = b0, c21 = b1, c22 = b2, c23 = b3, c30 = b0, c31 = b1, c32 = b2, c33 = b3;
        for (int k = 0, wo = wOff; k < kdim; k++, wo += NR) {
            FloatVector w0 = FloatVector.fromArray(F, w, wo), w1 = FloatVector.fromArray(F, w, wo + VL),
                    w2 = FloatVector.fromArray(F, w, wo + 2 * VL), w3 = FloatVector.fromArray(F, w, wo + 3 * VL);
            FloatVector x;
            x = FloatVector.broadcast(F, a[aOff + k]);
            c00 = x.fma(w0, c00); c01 = x.fma(w1, c01); c02 = x.fma(w2, c02); c03 = x.fma(w3, c03);
            x = FloatVector.broadcast(F, a[aOff + lda + k]);
            c10 = x.fma(w0, c10); c11 = x.fma(w1, c11); c12 = x.fma(w2, c12); c13 = x.fma(w3, c13);
            x = FloatVector.broadcast(F, a[aOff + 2 * lda + k]);
            c20 = x.fma(w0, c20); c21 = x.fma(w1, c21); c22 = x.fma(w2, c22); c23 = x.fma(w3, c23);
            x = FloatVector.broadcast(F, a[aOff + 3 * lda + k]);
            c30 = x.fma(w0, c30); c31 = x.fma(w1, c31); c32 = x.fma(w2, c32); c33 = x.fma(w3, c33);
        }
        c00.intoArray(c, cOff); c01.intoArray(c, cOff + VL); c02.intoArray(c, cOff + 2 * VL); c03.intoArray(c, cOff + 3 * VL);
        c10.intoArray(c, cOff + ldc); c11.intoArray(c, cOff + ldc + VL); c12.intoArray(c, cOff + ldc + 2 * VL); c13.intoArray(c, cOff + ldc + 3 * VL);
        c20.intoArray(c, cOff + 2 * ldc); c21.intoArray(c, cOff + 2 * ldc + VL); c22.intoArray(c, cOff + 2 * ldc + 2 * VL); c23.intoArray(c, cOff + 2 * ldc + 3 * VL);
        c30.intoArray(c, cOff + 3 * ldc); c31.intoArray(c, cOff + 3 * ldc + VL); c32.intoArray(c, cOff + 3 * ldc + 2 * VL); c33.intoArray(c, cOff + 3 * ldc + 3 * VL);
    }

    private static void kernel1x4(float[] a, int aOff, float[] w, int wOff, int kdim, float[] bias, int bOff, float[] c, int cOff) {
        FloatVector c0 = FloatVector.fromArray(F, bias, bOff), c1 = FloatVector.fromArray(F, bias, bOff + VL),
                c2 = FloatVector.fromArray(F, bias, bOff + 2 * VL), c3 = FloatVector.fromArray(F, bias, bOff + 3 * VL);
        for (int k = 0, wo = wOff; k < kdim; k++, wo += NR) {
            FloatVector x = FloatVector.broadcast(F, a[aOff + k]);
            c0 = x.fma(FloatVector.fromArray(F, w, wo), c0);
            c1 = x.fma(FloatVector.fromArray(F, w, wo + VL), c1);
            c2 = x.fma(FloatVector.fromArray(F, w, wo + 2 * VL), c2);
            c3 = x.fma(FloatVector.fromArray(F, w, wo + 3 * VL), c3);
        }
        c0.intoArray(c, cOff); c1.intoArray(c, cOff + VL); c2.intoArray(c, cOff + 2 * VL); c3.intoArray(c, cOff + 3 * VL);
    }

    // ---------------------------------------------------------------- attention

    /** Keys per step of the scores kernel and head columns per step of the weighted sum: 8 × 2 accumulators fit
     *  AVX-512's 32 registers; on AVX2 4 × 2 (6 × 2 + 3 fits the 16 registers too, but with the running column
     *  maxima it measured no faster, within this machine's noise, so it was not kept). */
    static final int KU = VL >= 16 ? 8 : 4;

    /** Copies KU floats at a time when laying out v (a vector species of KU lanes: 128 or 256 bits). */
    private static final VectorSpecies<Float> KS = KU == 8 ? FloatVector.SPECIES_256 : FloatVector.SPECIES_128;

    /**
     * k and v of one (sequence, head), laid out for the inner loops from scratch index s0: k as contiguous
     * [keys][d], v in column groups of widths KU, …, KU, then 2s, then 1 (the order {@link #attention} visits
     * them), the group that starts at column c0 with width w holding v[j][c0 + r] at keys·d + keys·c0 + j·w + r.
     * Every inner-loop index is then loop variable × constant + invariant (with the head size as the stride of
     * the key loop it would not be), which the JIT's range-check elimination hoists out of the loop; and each
     * query block reads contiguous memory instead of a few floats from each of 2·keys rows 3·hidden floats apart.
     */
    @Override
    public void attentionKeys(float[] qkv, int hidden, int d, int rowBase, int col0, int keys, float[] s, int s0) {
        final int ld = 3 * hidden, vp = s0 + keys * d;
        for (int j = 0; j < keys; j++) System.arraycopy(qkv, (rowBase + j) * ld + hidden + col0, s, s0 + j * d, d);
        int c0 = 0;
        for (; c0 + KU <= d; c0 += KU) {
            for (int j = 0, src = rowBase * ld + 2 * hidden + col0 + c0, vg = vp + keys * c0; j < keys; j++, src += ld, vg += KU) {
                FloatVector.fromArray(KS, qkv, src).intoArray(s, vg);
            }
        }
        for (; c0 + 2 <= d; c0 += 2) {
            for (int j = 0, src = rowBase * ld + 2 * hidden + col0 + c0, vg = vp + keys * c0; j < keys; j++, src += ld, vg += 2) {
                s[vg] = qkv[src];
                s[vg + 1] = qkv[src + 1];
            }
        }
        if (c0 < d) {
            for (int j = 0, src = rowBase * ld + 2 * hidden + col0 + c0, vg = vp + keys * c0; j < keys; j++, src += ld) {
                s[vg + j] = qkv[src];
            }
        }
    }

    @Override
    public void attention(float[] qkv, float[] ctx, int hidden, int d, int seqLen, int rowBase, int col0,
                          int keys, float[] mask, int i0, float scale, float[] s, int s0) {
        final int qb = 2 * VL, ld = 3 * hidden;
        // scratch: k, v (attentionKeys; 2·keys·d) | qᵀ [d][qb] | scores [keys][qb] | column max [qb]
        //          | 1 / column sums [qb] | output tile [KU][qb]
        final int vp = s0 + keys * d, qt = s0 + Aligned.lines(2 * keys * d), st = qt + d * qb, max = st + keys * qb, inv = max + qb, out = inv + qb;
        final int valid = Math.min(qb, seqLen - i0);
        // qᵀ, scaled first as PyTorch does (q / √d, then q · kᵀ); lanes past the sequence's end are zero.
        for (int i = 0; i < valid; i++) {
            int src = (rowBase + i0 + i) * ld + col0;
            for (int c = 0; c < d; c++) s[qt + c * qb + i] = qkv[src + c] * scale;
        }
        for (int i = valid; i < qb; i++) {
            for (int c = 0; c < d; c++) s[qt + c * qb + i] = 0f;
        }
        if (KU == 8) scores8(s, s0, d, keys, mask, rowBase, qt, st, max);
        else scores4(s, s0, d, keys, mask, rowBase, qt, st, max);
        // e = exp(s − max) in place, the column sums, and their inverses
        exp(s, st, keys, s, max, s, inv);
        FloatVector one = FloatVector.broadcast(F, 1f);
        one.div(FloatVector.fromArray(F, s, inv)).intoArray(s, inv);
        one.div(FloatVector.fromArray(F, s, inv + VL)).intoArray(s, inv + VL);
        // ctxᵀ = vᵀ e / Σ e, KU head columns at a time (then 2, then 1), written back into ctx's rows
        int c0 = 0;
        for (; c0 + KU <= d; c0 += KU) {
            if (KU == 8) weightedSum8(s, vp + keys * c0, keys, st, inv, out);
            else weightedSum4(s, vp + keys * c0, keys, st, inv, out);
            scatter(s, out, KU, ctx, hidden, rowBase + i0, col0 + c0, valid, qb);
        }
        for (; c0 + 2 <= d; c0 += 2) {
            weightedSum2(s, vp + keys * c0, keys, st, inv, out);
            scatter(s, out, 2, ctx, hidden, rowBase + i0, col0 + c0, valid, qb);
        }
        if (c0 < d) {
            weightedSum1(s, vp + keys * c0, keys, st, inv, out);
            scatter(s, out, 1, ctx, hidden, rowBase + i0, col0 + c0, valid, qb);
        }
    }

    /**
     * s[st + j·qb + i] = Σ_c k[j][c] · qᵀ[c][i] + mask[maskOff + j] for all keys j and the block's qb = 2·VL queries
     * i, 8 keys × two vectors in registers; k [keys][d] at s[0 ..] (see attentionKeys), qᵀ [d][qb]
     * at s[qt ..]. The column maxima go to s[max ..].
     */
    static void scores8(float[] s, int kb, int d, int keys, float[] mask, int maskOff, int qt, int st, int max) {
        final int qb = 2 * VL;
        final FloatVector z = FloatVector.zero(F);
        FloatVector m0 = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY), m1 = m0, sa, sb;
        int j = 0;
        for (; j + 8 <= keys; j += 8) {
            FloatVector s0a = z, s0b = z, s1a = z, s1b = z, s2a = z, s2b = z, s3a = z, s3b = z;
            FloatVector s4a = z, s4b = z, s5a = z, s5b = z, s6a = z, s6b = z, s7a = z, s7b = z;
            final int k0 = kb + j * d, k1 = k0 + d, k2 = k1 + d, k3 = k2 + d, k4 = k3 + d, k5 = k4 + d, k6 = k5 + d, k7 = k6 + d; // rows of k
            for (int c = 0; c < d; c++) {
                FloatVector q0 = FloatVector.fromArray(F, s, qt + c * qb), q1 = FloatVector.fromArray(F, s, qt + c * qb + VL), x;
                x = FloatVector.broadcast(F, s[k0 + c]); s0a = x.fma(q0, s0a); s0b = x.fma(q1, s0b);
                x = FloatVector.broadcast(F, s[k1 + c]); s1a = x.fma(q0, s1a); s1b = x.fma(q1, s1b);
                x = FloatVector.broadcast(F, s[k2 + c]); s2a = x.fma(q0, s2a); s2b = x.fma(q1, s2b);
                x = FloatVector.broadcast(F, s[k3 + c]); s3a = x.fma(q0, s3a); s3b = x.fma(q1, s3b);
                x = FloatVector.broadcast(F, s[k4 + c]); s4a = x.fma(q0, s4a); s4b = x.fma(q1, s4b);
                x = FloatVector.broadcast(F, s[k5 + c]); s5a = x.fma(q0, s5a); s5b = x.fma(q1, s5b);
                x = FloatVector.broadcast(F, s[k6 + c]); s6a = x.fma(q0, s6a); s6b = x.fma(q1, s6b);
                x = FloatVector.broadcast(F, s[k7 + c]); s7a = x.fma(q0, s7a); s7b = x.fma(q1, s7b);
            }
            int so = st + j * qb;
            sa = s0a.add(mask[maskOff + j]); sb = s0b.add(mask[maskOff + j]);
            sa.intoArray(s, so + 0 * qb); sb.intoArray(s, so + 0 * qb + VL); m0 = m0.blend(sa, m0.lt(sa)); m1 = m1.blend(sb, m1.lt(sb));
            sa = s1a.add(mask[maskOff + j + 1]); sb = s1b.add(mask[maskOff + j + 1]);
            sa.intoArray(s, so + 1 * qb); sb.intoArray(s, so + 1 * qb + VL); m0 = m0.blend(sa, m0.lt(sa)); m1 = m1.blend(sb, m1.lt(sb));
            sa = s2a.add(mask[maskOff + j + 2]); sb = s2b.add(mask[maskOff + j + 2]);
            sa.intoArray(s, so + 2 * qb); sb.intoArray(s, so + 2 * qb + VL); m0 = m0.blend(sa, m0.lt(sa)); m1 = m1.blend(sb, m1.lt(sb));
            sa = s3a.add(mask[maskOff + j + 3]); sb = s3b.add(mask[maskOff + j + 3]);
            sa.intoArray(s, so + 3 * qb); sb.intoArray(s, so + 3 * qb + VL); m0 = m0.blend(sa, m0.lt(sa)); m1 = m1.blend(sb, m1.lt(sb));
            sa = s4a.add(mask[maskOff + j + 4]); sb = s4b.add(mask[maskOff + j + 4]);
            sa.intoArray(s, so + 4 * qb); sb.intoArray(s, so + 4 * qb + VL); m0 = m0.blend(sa, m0.lt(sa)); m1 = m1.blend(sb, m1.lt(sb));
            sa = s5a.add(mask[maskOff + j + 5]); sb = s5b.add(mask[maskOff + j + 5]);
            sa.intoArray(s, so + 5 * qb); sb.intoArray(s, so + 5 * qb + VL); m0 = m0.blend(sa, m0.lt(sa)); m1 = m1.blend(sb, m1.lt(sb));
            sa = s6a.add(mask[maskOff + j + 6]); sb = s6b.add(mask[maskOff + j + 6]);
            sa.intoArray(s, so + 6 * qb); sb.intoArray(s, so + 6 * qb + VL); m0 = m0.blend(sa, m0.lt(sa)); m1 = m1.blend(sb, m1.lt(sb));
            sa = s7a.add(mask[maskOff + j + 7]); sb = s7b.add(mask[maskOff + j + 7]);
            sa.intoArray(s, so + 7 * qb); sb.intoArray(s, so + 7 * qb + VL); m0 = m0.blend(sa, m0.lt(sa)); m1 = m1.blend(sb, m1.lt(sb));
        }
        // the last keys % 8
        for (; j < keys; j++) {
            final int k0 = kb + j * d;
            FloatVector s0a = z, s0b = z;
            for (int c = 0; c < d; c++) {
                FloatVector x = FloatVector.broadcast(F, s[k0 + c]);
                s0a = x.fma(FloatVector.fromArray(F, s, qt + c * qb), s0a);
                s0b = x.fma(FloatVector.fromArray(F, s, qt + c * qb + VL), s0b);
            }
            sa = s0a.add(mask[maskOff + j]);
            sb = s0b.add(mask[maskOff + j]);
            sa.intoArray(s, st + j * qb);
            sb.intoArray(s, st + j * qb + VL);
            m0 = m0.blend(sa, m0.lt(sa));
            m1 = m1.blend(sb, m1.lt(sb));
        }
        m0.intoArray(s, max);
        m1.intoArray(s, max + VL);
    }

    /**
     * s[st + j·qb + i] = Σ_c k[j][c] · qᵀ[c][i] + mask[maskOff + j] for all keys j and the block's qb = 2·VL queries
     * i, 4 keys × two vectors in registers; k [keys][d] at s[0 ..] (see attentionKeys), qᵀ [d][qb]
     * at s[qt ..]. The column maxima go to s[max ..].
     */
    static void scores4(float[] s, int kb, int d, int keys, float[] mask, int maskOff, int qt, int st, int max) {
        final int qb = 2 * VL;
        final FloatVector z = FloatVector.zero(F);
        FloatVector m0 = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY), m1 = m0, sa, sb;
        int j = 0;
        for (; j + 4 <= keys; j += 4) {
            FloatVector s0a = z, s0b = z, s1a = z, s1b = z, s2a = z, s2b = z, s3a = z, s3b = z;
            final int k0 = kb + j * d, k1 = k0 + d, k2 = k1 + d, k3 = k2 + d; // rows of k
            for (int c = 0; c < d; c++) {
                FloatVector q0 = FloatVector.fromArray(F, s, qt + c * qb), q1 = FloatVector.fromArray(F, s, qt + c * qb + VL), x;
                x = FloatVector.broadcast(F, s[k0 + c]); s0a = x.fma(q0, s0a); s0b = x.fma(q1, s0b);
                x = FloatVector.broadcast(F, s[k1 + c]); s1a = x.fma(q0, s1a); s1b = x.fma(q1, s1b);
                x = FloatVector.broadcast(F, s[k2 + c]); s2a = x.fma(q0, s2a); s2b = x.fma(q1, s2b);
                x = FloatVector.broadcast(F, s[k3 + c]); s3a = x.fma(q0, s3a); s3b = x.fma(q1, s3b);
            }
            int so = st + j * qb;
            sa = s0a.add(mask[maskOff + j]); sb = s0b.add(mask[maskOff + j]);
            sa.intoArray(s, so + 0 * qb); sb.intoArray(s, so + 0 * qb + VL); m0 = m0.blend(sa, m0.lt(sa)); m1 = m1.blend(sb, m1.lt(sb));
            sa = s1a.add(mask[maskOff + j + 1]); sb = s1b.add(mask[maskOff + j + 1]);
            sa.intoArray(s, so + 1 * qb); sb.intoArray(s, so + 1 * qb + VL); m0 = m0.blend(sa, m0.lt(sa)); m1 = m1.blend(sb, m1.lt(sb));
            sa = s2a.add(mask[maskOff + j + 2]); sb = s2b.add(mask[maskOff + j + 2]);
            sa.intoArray(s, so + 2 * qb); sb.intoArray(s, so + 2 * qb + VL); m0 = m0.blend(sa, m0.lt(sa)); m1 = m1.blend(sb, m1.lt(sb));
            sa = s3a.add(mask[maskOff + j + 3]); sb = s3b.add(mask[maskOff + j + 3]);
            sa.intoArray(s, so + 3 * qb); sb.intoArray(s, so + 3 * qb + VL); m0 = m0.blend(sa, m0.lt(sa)); m1 = m1.blend(sb, m1.lt(sb));
        }
        // the last keys % 4
        for (; j < keys; j++) {
            final int k0 = kb + j * d;
            FloatVector s0a = z, s0b = z;
            for (int c = 0; c < d; c++) {
                FloatVector x = FloatVector.broadcast(F, s[k0 + c]);
                s0a = x.fma(FloatVector.fromArray(F, s, qt + c * qb), s0a);
                s0b = x.fma(FloatVector.fromArray(F, s, qt + c * qb + VL), s0b);
            }
            sa = s0a.add(mask[maskOff + j]);
            sb = s0b.add(mask[maskOff + j]);
            sa.intoArray(s, st + j * qb);
            sb.intoArray(s, st + j * qb + VL);
            m0 = m0.blend(sa, m0.lt(sa));
            m1 = m1.blend(sb, m1.lt(sb));
        }
        m0.intoArray(s, max);
        m1.intoArray(s, max + VL);
    }

    /**
     * s[out + c·qb + i] = inv[i] · Σ_j v[j][c] · e[j][i] for the 8 head columns c packed as [keys][8] at s[vg ..]
     * (see attentionKeys), e the [keys][qb] exponentials at s[st ..].
     */
    static void weightedSum8(float[] s, int vg, int keys, int st, int inv, int out) {
        final int qb = 2 * VL;
        final FloatVector z = FloatVector.zero(F);
        FloatVector o0a = z, o0b = z, o1a = z, o1b = z, o2a = z, o2b = z, o3a = z, o3b = z;
        FloatVector o4a = z, o4b = z, o5a = z, o5b = z, o6a = z, o6b = z, o7a = z, o7b = z;
        for (int j = 0; j < keys; j++) {
            FloatVector e0 = FloatVector.fromArray(F, s, st + j * qb), e1 = FloatVector.fromArray(F, s, st + j * qb + VL), x;
            x = FloatVector.broadcast(F, s[vg + j * 8 + 0]); o0a = x.fma(e0, o0a); o0b = x.fma(e1, o0b);
            x = FloatVector.broadcast(F, s[vg + j * 8 + 1]); o1a = x.fma(e0, o1a); o1b = x.fma(e1, o1b);
            x = FloatVector.broadcast(F, s[vg + j * 8 + 2]); o2a = x.fma(e0, o2a); o2b = x.fma(e1, o2b);
            x = FloatVector.broadcast(F, s[vg + j * 8 + 3]); o3a = x.fma(e0, o3a); o3b = x.fma(e1, o3b);
            x = FloatVector.broadcast(F, s[vg + j * 8 + 4]); o4a = x.fma(e0, o4a); o4b = x.fma(e1, o4b);
            x = FloatVector.broadcast(F, s[vg + j * 8 + 5]); o5a = x.fma(e0, o5a); o5b = x.fma(e1, o5b);
            x = FloatVector.broadcast(F, s[vg + j * 8 + 6]); o6a = x.fma(e0, o6a); o6b = x.fma(e1, o6b);
            x = FloatVector.broadcast(F, s[vg + j * 8 + 7]); o7a = x.fma(e0, o7a); o7b = x.fma(e1, o7b);
        }
        FloatVector inv0 = FloatVector.fromArray(F, s, inv), inv1 = FloatVector.fromArray(F, s, inv + VL);
        o0a.mul(inv0).intoArray(s, out + 0 * qb); o0b.mul(inv1).intoArray(s, out + 0 * qb + VL);
        o1a.mul(inv0).intoArray(s, out + 1 * qb); o1b.mul(inv1).intoArray(s, out + 1 * qb + VL);
        o2a.mul(inv0).intoArray(s, out + 2 * qb); o2b.mul(inv1).intoArray(s, out + 2 * qb + VL);
        o3a.mul(inv0).intoArray(s, out + 3 * qb); o3b.mul(inv1).intoArray(s, out + 3 * qb + VL);
        o4a.mul(inv0).intoArray(s, out + 4 * qb); o4b.mul(inv1).intoArray(s, out + 4 * qb + VL);
        o5a.mul(inv0).intoArray(s, out + 5 * qb); o5b.mul(inv1).intoArray(s, out + 5 * qb + VL);
        o6a.mul(inv0).intoArray(s, out + 6 * qb); o6b.mul(inv1).intoArray(s, out + 6 * qb + VL);
        o7a.mul(inv0).intoArray(s, out + 7 * qb); o7b.mul(inv1).intoArray(s, out + 7 * qb + VL);
    }
    /**
     * s[out + c·qb + i] = inv[i] · Σ_j v[j][c] · e[j][i] for the 4 head columns c packed as [keys][4] at s[vg ..]
     * (see attentionKeys), e the [keys][qb] exponentials at s[st ..].
     */
    static void weightedSum4(float[] s, int vg, int keys, int st, int inv, int out) {
        final int qb = 2 * VL;
        final FloatVector z = FloatVector.zero(F);
        FloatVector o0a = z, o0b = z, o1a = z, o1b = z, o2a = z, o2b = z, o3a = z, o3b = z;
        for (int j = 0; j < keys; j++) {
            FloatVector e0 = FloatVector.fromArray(F, s, st + j * qb), e1 = FloatVector.fromArray(F, s, st + j * qb + VL), x;
            x = FloatVector.broadcast(F, s[vg + j * 4 + 0]); o0a = x.fma(e0, o0a); o0b = x.fma(e1, o0b);
            x = FloatVector.broadcast(F, s[vg + j * 4 + 1]); o1a = x.fma(e0, o1a); o1b = x.fma(e1, o1b);
            x = FloatVector.broadcast(F, s[vg + j * 4 + 2]); o2a = x.fma(e0, o2a); o2b = x.fma(e1, o2b);
            x = FloatVector.broadcast(F, s[vg + j * 4 + 3]); o3a = x.fma(e0, o3a); o3b = x.fma(e1, o3b);
        }
        FloatVector inv0 = FloatVector.fromArray(F, s, inv), inv1 = FloatVector.fromArray(F, s, inv + VL);
        o0a.mul(inv0).intoArray(s, out + 0 * qb); o0b.mul(inv1).intoArray(s, out + 0 * qb + VL);
        o1a.mul(inv0).intoArray(s, out + 1 * qb); o1b.mul(inv1).intoArray(s, out + 1 * qb + VL);
        o2a.mul(inv0).intoArray(s, out + 2 * qb); o2b.mul(inv1).intoArray(s, out + 2 * qb + VL);
        o3a.mul(inv0).intoArray(s, out + 3 * qb); o3b.mul(inv1).intoArray(s, out + 3 * qb + VL);
    }
    /**
     * s[out + c·qb + i] = inv[i] · Σ_j v[j][c] · e[j][i] for the 2 head columns c packed as [keys][2] at s[vg ..]
     * (see attentionKeys), e the [keys][qb] exponentials at s[st ..].
     */
    static void weightedSum2(float[] s, int vg, int keys, int st, int inv, int out) {
        final int qb = 2 * VL;
        final FloatVector z = FloatVector.zero(F);
        FloatVector o0a = z, o0b = z, o1a = z, o1b = z;
        for (int j = 0; j < keys; j++) {
            FloatVector e0 = FloatVector.fromArray(F, s, st + j * qb), e1 = FloatVector.fromArray(F, s, st + j * qb + VL), x;
            x = FloatVector.broadcast(F, s[vg + j * 2 + 0]); o0a = x.fma(e0, o0a); o0b = x.fma(e1, o0b);
            x = FloatVector.broadcast(F, s[vg + j * 2 + 1]); o1a = x.fma(e0, o1a); o1b = x.fma(e1, o1b);
        }
        FloatVector inv0 = FloatVector.fromArray(F, s, inv), inv1 = FloatVector.fromArray(F, s, inv + VL);
        o0a.mul(inv0).intoArray(s, out + 0 * qb); o0b.mul(inv1).intoArray(s, out + 0 * qb + VL);
        o1a.mul(inv0).intoArray(s, out + 1 * qb); o1b.mul(inv1).intoArray(s, out + 1 * qb + VL);
    }
    /**
     * s[out + c·qb + i] = inv[i] · Σ_j v[j][c] · e[j][i] for the 1 head column c packed as [keys][1] at s[vg ..]
     * (see attentionKeys), e the [keys][qb] exponentials at s[st ..].
     */
    static void weightedSum1(float[] s, int vg, int keys, int st, int inv, int out) {
        final int qb = 2 * VL;
        final FloatVector z = FloatVector.zero(F);
        FloatVector o0a = z, o0b = z;
        for (int j = 0; j < keys; j++) {
            FloatVector e0 = FloatVector.fromArray(F, s, st + j * qb), e1 = FloatVector.fromArray(F, s, st + j * qb + VL), x;
            x = FloatVector.broadcast(F, s[vg + j * 1 + 0]); o0a = x.fma(e0, o0a); o0b = x.fma(e1, o0b);
        }
        FloatVector inv0 = FloatVector.fromArray(F, s, inv), inv1 = FloatVector.fromArray(F, s, inv + VL);
        o0a.mul(inv0).intoArray(s, out + 0 * qb); o0b.mul(inv1).intoArray(s, out + 0 * qb + VL);
    }
    /** ctx[row0 + i][col + c] = tile[c][i] for c < cols, i < valid. */
    private static void scatter(float[] tile, int off, int cols, float[] ctx, int hidden, int row0, int col, int valid, int qb) {
        for (int i = 0; i < valid; i++) {
            int o = (row0 + i) * hidden + col;
            for (int c = 0; c < cols; c++) ctx[o + c] = tile[off + c * qb + i];
        }
    }

    @Override
    public int attentionScratch(int d, int keys) {
        return Aligned.lines(2 * keys * d) + 2 * VL * (d + keys + 2 + KU);
    }

    // ---------------------------------------------------------------- LayerNorm

    @Override
    public void addLayerNorm(float[] x, float[] r, float[] y, int cols, int row0, int row1, float[] gamma, float[] beta, float eps) {
        int vecEnd = F.loopBound(cols);
        for (int row = row0; row < row1; row++) {
            int o = row * cols;
            // z = x + r, stored in y; Σ z
            FloatVector acc = FloatVector.zero(F);
            float tail = 0;
            int c = 0;
            for (; c < vecEnd; c += VL) {
                FloatVector zv = FloatVector.fromArray(F, x, o + c);
                if (r != null) zv = zv.add(FloatVector.fromArray(F, r, o + c));
                zv.intoArray(y, o + c);
                acc = acc.add(zv);
            }
            for (; c < cols; c++) {
                float zs = r != null ? x[o + c] + r[o + c] : x[o + c];
                y[o + c] = zs;
                tail += zs;
            }
            float mean = (sum(acc) + tail) / cols;
            // biased variance Σ (z − mean)² / n, two-pass as the reference computes it
            FloatVector mv = FloatVector.broadcast(F, mean);
            acc = FloatVector.zero(F);
            tail = 0;
            for (c = 0; c < vecEnd; c += VL) {
                FloatVector dev = FloatVector.fromArray(F, y, o + c).sub(mv);
                acc = dev.fma(dev, acc);
            }
            for (; c < cols; c++) {
                float dev = y[o + c] - mean;
                tail += dev * dev;
            }
            float var = (sum(acc) + tail) / cols;
            float inv = (float) (1.0 / Math.sqrt(var + eps));
            for (c = 0; c < vecEnd; c += VL) {
                FloatVector g = FloatVector.fromArray(F, gamma, c), b = FloatVector.fromArray(F, beta, c);
                FloatVector.fromArray(F, y, o + c).sub(mv).mul(inv).fma(g, b).intoArray(y, o + c);
            }
            for (; c < cols; c++) y[o + c] = (y[o + c] - mean) * inv * gamma[c] + beta[c];
        }
    }

    /**
     * Σ lanes, left to right. Not reduceLanes(ADD): its order is left to the implementation, and the JIT's
     * tree and the interpreter's loop round differently, so outputs would depend on how warm the JVM is.
     */
    private static float sum(FloatVector v) {
        float s = 0;
        for (int i = 0; i < VL; i++) s += v.lane(i);
        return s;
    }

    // ---------------------------------------------------------------- float math
    //
    // Clamps and running maxima use compare + blend, not FloatVector.max/min: those follow Math.max's rules
    // for NaN and −0.0, which x86 has no single instruction for, and cost several instructions each.

    private static final float LOG2E = 1.44269504f;
    /** 1.5 · 2²³: adding it rounds a float of magnitude below 2²² to an integer, held in the low mantissa bits. */
    private static final float ROUND = 12582912f;
    /** ln 2 split so that n · LN2_HI is exact for |n| ≤ 2⁹ (Cody and Waite). */
    private static final float LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f;

    /**
     * e^x in float on rows of two vectors: a[off + r·2VL + l] = e^(a[…] − shift[shiftOff + l]) for r &lt; rows,
     * l &lt; 2VL, and sums[sumOff + l] = Σ_r of the results (softmax needs both; GELU passes a zero shift and
     * no sums). e^x = 2ⁿ · e^t with n = round(x · log₂e) and t = x − n ln 2 ∈ [−0.347, 0.347], e^t by its
     * Taylor series to t⁷/7! (truncation below 6e-9 relative), 2ⁿ built in the exponent bits. x is clamped to
     * [−87, 88] so that 2ⁿ stays a normal float (n ∈ [−126, 127]): e^−87 ≈ 1.6e-38 stands in for anything
     * smaller, which moves no softmax sum and no GELU by more than 1e-37.
     */
    static void exp(float[] a, int off, int rows, float[] shift, int shiftOff, float[] sums, int sumOff) {
        final FloatVector lo = FloatVector.broadcast(F, -87f), hi = FloatVector.broadcast(F, 88f);
        final FloatVector log2e = FloatVector.broadcast(F, LOG2E), round = FloatVector.broadcast(F, ROUND);
        final FloatVector ln2hi = FloatVector.broadcast(F, -LN2_HI), ln2lo = FloatVector.broadcast(F, -LN2_LO);
        final FloatVector c2 = FloatVector.broadcast(F, 1f / 2), c3 = FloatVector.broadcast(F, 1f / 6),
                c4 = FloatVector.broadcast(F, 1f / 24), c5 = FloatVector.broadcast(F, 1f / 120),
                c6 = FloatVector.broadcast(F, 1f / 720), c7 = FloatVector.broadcast(F, 1f / 5040), one = FloatVector.broadcast(F, 1f);
        final FloatVector m0 = FloatVector.fromArray(F, shift, shiftOff), m1 = FloatVector.fromArray(F, shift, shiftOff + VL);
        FloatVector sum0 = FloatVector.zero(F), sum1 = sum0;
        for (int r = 0, i = off; r < rows; r++, i += 2 * VL) {
            FloatVector x0 = FloatVector.fromArray(F, a, i).sub(m0), x1 = FloatVector.fromArray(F, a, i + VL).sub(m1);
            x0 = x0.blend(lo, x0.lt(lo)).blend(hi, hi.lt(x0));
            x1 = x1.blend(lo, x1.lt(lo)).blend(hi, hi.lt(x1));
            FloatVector t0 = x0.fma(log2e, round), t1 = x1.fma(log2e, round);
            FloatVector n0 = t0.sub(round), n1 = t1.sub(round);
            FloatVector r0 = n0.fma(ln2lo, n0.fma(ln2hi, x0)), r1 = n1.fma(ln2lo, n1.fma(ln2hi, x1));
            FloatVector p0 = r0.fma(c7, c6), p1 = r1.fma(c7, c6);
            p0 = p0.fma(r0, c5);
            p1 = p1.fma(r1, c5);
            p0 = p0.fma(r0, c4);
            p1 = p1.fma(r1, c4);
            p0 = p0.fma(r0, c3);
            p1 = p1.fma(r1, c3);
            p0 = p0.fma(r0, c2);
            p1 = p1.fma(r1, c2);
            p0 = p0.fma(r0, one);
            p1 = p1.fma(r1, one);
            p0 = p0.fma(r0, one);
            p1 = p1.fma(r1, one);
            // t's bits are 0x4B400000 + n; the float 2ⁿ has bits (n + 127) << 23
            FloatVector e0 = p0.mul(((IntVector) t0.reinterpretAsInts()).sub(0x4B400000 - 127).lanewise(VectorOperators.LSHL, 23)
                    .reinterpretAsFloats());
            FloatVector e1 = p1.mul(((IntVector) t1.reinterpretAsInts()).sub(0x4B400000 - 127).lanewise(VectorOperators.LSHL, 23)
                    .reinterpretAsFloats());
            e0.intoArray(a, i);
            e1.intoArray(a, i + VL);
            sum0 = sum0.add(e0);
            sum1 = sum1.add(e1);
        }
        if (sums != null) {
            sum0.intoArray(sums, sumOff);
            sum1.intoArray(sums, sumOff + VL);
        }
    }

    /** 2·VL zeros: the shift of an unshifted {@link #exp}. */
    private static final float[] ZERO = new float[2 * VL];

    /** Coefficients of erf(z) ≈ z · P(z²) / Q(z²) on [−4, 4]; fitted by scripts/fit_erf.py (max error 5.4e-8). */
    private static final float P0 = 1.1283786774044480f, P1 = 2.1395205222048985e-01f, P2 = 5.2434462759924756e-02f,
            P3 = 4.2933623712779843e-03f, P4 = 1.5554380060933269e-04f, P5 = -1.9903368150241130e-06f,
            P6 = 1.9216846613989702e-08f;
    private static final float Q1 = 0.5229377261798972f, Q2 = 0.12080267757184321f, Q3 = 0.01555172632035783f,
            Q4 = 0.00109811149970287f;

    /**
     * a[off .. off+n) = erf(a) in float, n a multiple of VL: a rational z · P(z²) / Q(z²) of degrees 6 and 4
     * on z clamped to [−4, 4] (past 4, erf rounds to ±1 in float). Absolute error about 3e-7 in float
     * arithmetic, against 6e-8 for one rounding of 1 + erf.
     */
    static void erf(float[] a, int off, int n) {
        final FloatVector lo = FloatVector.broadcast(F, -4f), hi = FloatVector.broadcast(F, 4f);
        final FloatVector p0 = FloatVector.broadcast(F, P0), p1 = FloatVector.broadcast(F, P1), p2 = FloatVector.broadcast(F, P2),
                p3 = FloatVector.broadcast(F, P3), p4 = FloatVector.broadcast(F, P4), p5 = FloatVector.broadcast(F, P5),
                p6 = FloatVector.broadcast(F, P6);
        final FloatVector q1 = FloatVector.broadcast(F, Q1), q2 = FloatVector.broadcast(F, Q2), q3 = FloatVector.broadcast(F, Q3),
                q4 = FloatVector.broadcast(F, Q4), one = FloatVector.broadcast(F, 1f);
        for (int i = off, end = off + n; i < end; i += VL) {
            FloatVector z = FloatVector.fromArray(F, a, i);
            z = z.blend(lo, z.lt(lo)).blend(hi, hi.lt(z));
            FloatVector t = z.mul(z);
            FloatVector p = t.fma(p6, p5);
            p = p.fma(t, p4);
            p = p.fma(t, p3);
            p = p.fma(t, p2);
            p = p.fma(t, p1);
            p = p.fma(t, p0);
            FloatVector qv = t.fma(q4, q3);
            qv = qv.fma(t, q2);
            qv = qv.fma(t, q1);
            qv = qv.fma(t, one);
            z.mul(p).div(qv).intoArray(a, i);
        }
    }

    private static final float SQRT_2_OVER_PI = (float) Math.sqrt(2.0 / Math.PI);
    private static final float INV_SQRT_2 = (float) (1.0 / Math.sqrt(2.0));

    /** {@link #gelu} on {@code cols} columns (a multiple of 2·VL), one 2·VL-column slab at a time. */
    private static void gelu(float[] y, int off, int ld, int cols, int rows, Epilogue e, float[] tmp, int tmpOff) {
        for (int h = 0; h < cols; h += 2 * VL) gelu(y, off + h, ld, rows, e, tmp, tmpOff);
    }

    /**
     * GELU in place on a tile of {@code rows} rows × 2·VL columns of y (row r at off + r·ld), using
     * tmp[tmpOff ..] for rows × 2·VL floats:
     * <pre>
     *   erf:  ½ x (1 + erf(x / √2))
     *   tanh: ½ x (1 + tanh u) = x / (1 + e^(−2u)),  u = √(2/π) (x + 0.044715 x³)
     * </pre>
     * The second form of tanh needs one exp and has no cancellation in 1 + tanh u for negative x. A whole tile
     * at a time, so that exp's and erf's constants are set up once per tile.
     */
    static void gelu(float[] y, int off, int ld, int rows, Epilogue e, float[] tmp, int tmpOff) {
        final int w = 2 * VL;
        if (e == Epilogue.GELU_ERF) {
            for (int r = 0; r < rows; r++) {
                for (int i = 0; i < w; i += VL) FloatVector.fromArray(F, y, off + r * ld + i).mul(INV_SQRT_2).intoArray(tmp, tmpOff + r * w + i);
            }
            erf(tmp, tmpOff, rows * w);
            for (int r = 0; r < rows; r++) {
                for (int i = 0; i < w; i += VL) {
                    FloatVector x = FloatVector.fromArray(F, y, off + r * ld + i);
                    x.mul(0.5f).mul(FloatVector.fromArray(F, tmp, tmpOff + r * w + i).add(1f)).intoArray(y, off + r * ld + i);
                }
            }
        } else {
            for (int r = 0; r < rows; r++) {
                for (int i = 0; i < w; i += VL) {
                    FloatVector x = FloatVector.fromArray(F, y, off + r * ld + i);
                    x.mul(x).fma(-2f * SQRT_2_OVER_PI * 0.044715f, -2f * SQRT_2_OVER_PI).mul(x).intoArray(tmp, tmpOff + r * w + i);
                }
            }
            exp(tmp, tmpOff, rows, ZERO, 0, null, 0);
            for (int r = 0; r < rows; r++) {
                for (int i = 0; i < w; i += VL) {
                    FloatVector x = FloatVector.fromArray(F, y, off + r * ld + i);
                    x.div(FloatVector.fromArray(F, tmp, tmpOff + r * w + i).add(1f)).intoArray(y, off + r * ld + i);
                }
            }
        }
    }
}
