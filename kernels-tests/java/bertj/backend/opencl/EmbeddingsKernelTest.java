package bertj.backend.opencl;

import bertj.backend.Backend;
import bertj.backend.Batch;
import bertj.backend.reference.ReferenceBackend;
import bertj.readers.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static bertj.backend.opencl.KernelTesting.*;

/**
 * embeddings.cl (via {@link LayerNormKernels#embeddings}) against {@link ReferenceBackend#embed}, float64, on the
 * same half tables, for batches 1 … 16 and sequences 1 … 512 with padded rows (padding ids are 0, as the
 * tokenizer pads) and both token types.
 *
 * <p>Tolerance: that of {@link AddLayerNormKernelTest} (the same LayerNorm code) with z = word + position + type.
 */
class EmbeddingsKernelTest {

    @Test
    void matchesTheFloat64ReferenceAtManyShapes() {
        Random r = random("EmbeddingsKernelTest");
        LayerNormKernels kernels = new LayerNormKernels(device());
        int[][] shapes = {{1, 1, 288}, {1, 512, 288}, {16, 64, 288}, {3, 33, 288}, {2, 10, 7}, {4, 20, 1000}};
        for (int[] s : shapes) runCase(kernels, r, s[0], s[1], s[2]);
    }

    static void runCase(LayerNormKernels kernels, Random r, int batch, int seq, int hidden) {
        int vocab = 1000, positions = 512, types = 2, tokens = batch * seq;
        double[] word = halves(r, vocab * hidden, 0, 0.5), pos = halves(r, positions * hidden, 0, 0.2);
        double[] type = halves(r, types * hidden, 0, 0.2), gamma = halves(r, hidden, 1, 0.1), beta = halves(r, hidden, 0, 0.1);
        int[] ids = new int[tokens], tt = new int[tokens], mask = new int[tokens];
        for (int b = 0; b < batch; b++) {
            int len = b == 0 ? seq : 1 + r.nextInt(seq);
            int split = r.nextInt(len);
            for (int j = 0; j < seq; j++) {
                int t = b * seq + j;
                if (j < len) {
                    ids[t] = j == 0 ? vocab - 1 : r.nextInt(vocab);
                    tt[t] = j > split ? 1 : 0;
                    mask[t] = 1;
                }
            }
        }
        double eps = 1e-12;
        double[] got;
        try (KernelTesting.Buffers buf = new KernelTesting.Buffers()) {
            KernelTesting.Output out = buf.output(tokens * hidden, 2);
            kernels.embeddings(tokens, seq, hidden, (float) eps, buf.ints(ids), buf.ints(tt), buf.halves(word), buf.halves(pos),
                    buf.halves(type), buf.halves(gamma), buf.halves(beta), out.mem());
            got = buf.read(out, "embeddings");
        }
        Batch b = new Batch(batch, seq, ids, tt, mask);
        double[] want;
        try (ReferenceBackend ref = new ReferenceBackend()) {
            Backend.Param w = ref.table(Tensor.ofFloats(new int[] {vocab, hidden}, floats(word)));
            Backend.Param p = ref.table(Tensor.ofFloats(new int[] {positions, hidden}, floats(pos)));
            Backend.Param t = ref.table(Tensor.ofFloats(new int[] {types, hidden}, floats(type)));
            want = ref.read(ref.embed(b, w, p, t, ref.vector(Tensor.ofFloats(new int[] {hidden}, floats(gamma))),
                    ref.vector(Tensor.ofFloats(new int[] {hidden}, floats(beta))), eps));
        }
        double[] z = new double[tokens * hidden];
        for (int i = 0; i < tokens; i++) {
            for (int c = 0; c < hidden; c++) {
                z[i * hidden + c] = word[ids[i] * hidden + c] + pos[(i % seq) * hidden + c] + type[tt[i] * hidden + c];
            }
        }
        check(String.format("embeddings batch %d seq %d hidden %d", batch, seq, hidden), got, want, HALF_ROUNDING,
                AddLayerNormKernelTest.allowance(z, tokens, hidden, gamma, beta, eps));
    }
}
