package bertj.backend.opencl;

import bertj.backend.Backend;
import bertj.backend.Backend.Epilogue;
import bertj.backend.Batch;
import bertj.backend.reference.ReferenceBackend;
import bertj.readers.SafeTensors;
import bertj.readers.Tensor;
import bertj.testing.PyTorch;
import bertj.testing.Qkv;
import org.jocl.cl_mem;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;

import static bertj.backend.opencl.KernelTesting.*;

/**
 * The kernels against golden vectors computed by PyTorch's functional ops in float64 (weights/kernel_golden.py:
 * F.linear + F.gelu in both forms, softmax attention with padding, F.layer_norm, F.embedding): each kernel
 * within its own tolerance (the one its kernel test states), and the Java float64 reference op within 1e-12 —
 * so PyTorch, the reference and the kernel agree on each op.
 */
class PyTorchGoldenTest {
    private static Map<String, Tensor> golden;

    @BeforeAll
    static void computeGoldenVectors(@TempDir Path dir) {
        long seed = PyTorch.seed("PyTorchGoldenTest (weights/kernel_golden.py)");
        Path file = dir.resolve("golden.safetensors");
        PyTorch.run("kernel_golden.py", "--out", file.toString(), "--seed", Long.toString(seed));
        golden = SafeTensors.read(file).tensors();
    }

    private static double[] d(String name) {
        return golden.get(name).toDoubles();
    }

    private static int[] ints(String name) {
        long[] l = golden.get(name).toLongs();
        int[] out = new int[l.length];
        for (int i = 0; i < l.length; i++) out[i] = (int) l[i];
        return out;
    }

    /** The Java float64 reference equals PyTorch's float64 to 1e-12 relative to the output's scale. */
    private static void referenceAgrees(String what, double[] javaRef, double[] torch) {
        double scale = 0, maxErr = 0;
        for (int i = 0; i < torch.length; i++) {
            scale = Math.max(scale, Math.abs(torch[i]));
            maxErr = Math.max(maxErr, Math.abs(javaRef[i] - torch[i]));
        }
        System.out.printf("[golden] %-40s Java float64 reference vs PyTorch float64: max|err| %.2e (scale %.2e)%n", what, maxErr, scale);
        if (!(maxErr <= 1e-12 * Math.max(scale, 1))) {
            throw new AssertionError(what + ": the Java reference differs from PyTorch by " + maxErr);
        }
    }

    @Test
    void linearWithAndWithoutGelu() {
        int m = golden.get("linear.x").dim(0), k = golden.get("linear.x").dim(1), n = golden.get("linear.w").dim(0);
        double[] x = d("linear.x"), w = d("linear.w"), b = d("linear.b"), pre = d("linear.y_none");
        LinearKernel kernel = new LinearKernel(device());
        String[] names = {"linear.y_none", "linear.y_gelu_erf", "linear.y_gelu_tanh"};
        Epilogue[] epilogues = {Epilogue.NONE, Epilogue.GELU_ERF, Epilogue.GELU_TANH};
        for (int e = 0; e < 3; e++) {
            double[] want = d(names[e]);
            double[] got;
            try (KernelTesting.Buffers buf = new KernelTesting.Buffers()) {
                KernelTesting.Output y = buf.output(m * n, 2);
                kernel.run(m, n, k, buf.halves(x), buf.halves(w), buf.halves(b), y.mem(), epilogues[e]);
                got = buf.read(y, "linear");
            }
            check("golden " + names[e] + " " + m + "x" + n + "x" + k, got, want, HALF_ROUNDING,
                    LinearKernelTest.allowance(x, w, b, pre, m, n, k, epilogues[e]));
            referenceAgrees(names[e], LinearKernelTest.reference(x, w, b, m, n, k, epilogues[e]), want);
        }
    }

    @Test
    void attentionWithPaddedSequences() {
        int[] shape = ints("attention.shape");
        int batch = shape[0], seq = shape[1], heads = shape[2], dh = shape[3], hidden = heads * dh, tokens = batch * seq;
        double[] q = d("attention.q"), k = d("attention.k"), v = d("attention.v"), probs = d("attention.probs"), ctx = d("attention.ctx");
        int[] mask = ints("attention.mask");
        AttentionKernels kernels = new AttentionKernels(device());
        double[] gotCtx, gotProbs;
        try (KernelTesting.Buffers buf = new KernelTesting.Buffers()) {
            KernelTesting.Output c = buf.output(tokens * hidden, 2), p = buf.output(batch * heads * seq * seq, 2);
            cl_mem qkv = buf.halves(Qkv.pack(q, k, v, tokens, hidden));
            kernels.attention(batch, seq, heads, dh, qkv, buf.ints(mask), c.mem());
            kernels.probs(batch, seq, heads, dh, qkv, buf.ints(mask), p.mem());
            gotCtx = buf.read(c, "attention");
            gotProbs = buf.read(p, "attention_probs");
        }
        check("golden attention.ctx", gotCtx, ctx, HALF_ROUNDING, AttentionKernelTest.allowance(q, k, v, probs, mask, batch, seq, heads, dh));
        check("golden attention.probs", gotProbs, probs, HALF_ROUNDING, AttentionKernelTest.allowance(q, k, null, probs, mask, batch, seq, heads, dh));
        Batch b = new Batch(batch, seq, new int[tokens], new int[tokens], mask);
        try (ReferenceBackend ref = new ReferenceBackend()) {
            Backend.Matrix qkv = ref.upload(tokens, 3 * hidden, Qkv.pack(q, k, v, tokens, hidden));
            referenceAgrees("attention.ctx", ref.read(ref.attention(b, qkv, heads)), ctx);
            referenceAgrees("attention.probs", ref.read(ref.attentionProbs(b, qkv, heads)), probs);
        }
    }

    @Test
    void residualAddAndLayerNorm() {
        int rows = golden.get("layernorm.x").dim(0), h = golden.get("layernorm.x").dim(1);
        double[] x = d("layernorm.x"), r = d("layernorm.residual"), gamma = d("layernorm.gamma"), beta = d("layernorm.beta");
        double[] want = d("layernorm.out");
        double[] got;
        try (KernelTesting.Buffers buf = new KernelTesting.Buffers()) {
            KernelTesting.Output out = buf.output(rows * h, 2);
            new LayerNormKernels(device()).addLayerNorm(rows, h, 1e-12f, buf.halves(x), buf.halves(r), buf.halves(gamma),
                    buf.halves(beta), out.mem());
            got = buf.read(out, "add_layernorm");
        }
        double[] z = new double[x.length];
        for (int i = 0; i < z.length; i++) z[i] = x[i] + r[i];
        check("golden layernorm.out " + rows + "x" + h, got, want, HALF_ROUNDING, AddLayerNormKernelTest.allowance(z, rows, h, gamma, beta, 1e-12));
        try (ReferenceBackend ref = new ReferenceBackend()) {
            referenceAgrees("layernorm.out", ref.read(ref.addLayerNorm(ref.upload(rows, h, x), ref.upload(rows, h, r),
                    ref.vector(Tensor.ofFloats(new int[] {h}, floats(gamma))), ref.vector(Tensor.ofFloats(new int[] {h}, floats(beta))), 1e-12)), want);
        }
    }

    @Test
    void embeddingsGatherSumAndLayerNorm() {
        int[] shape = ints("embeddings.shape");
        int batch = shape[0], seq = shape[1], tokens = batch * seq;
        Tensor word = golden.get("embeddings.word"), pos = golden.get("embeddings.position"), typ = golden.get("embeddings.token_type");
        int h = word.dim(1);
        int[] ids = ints("embeddings.ids"), types = ints("embeddings.types");
        double[] gamma = d("embeddings.gamma"), beta = d("embeddings.beta"), want = d("embeddings.out");
        double[] got;
        try (KernelTesting.Buffers buf = new KernelTesting.Buffers()) {
            KernelTesting.Output out = buf.output(tokens * h, 2);
            new LayerNormKernels(device()).embeddings(tokens, seq, h, 1e-12f, buf.ints(ids), buf.ints(types), buf.halves(word.toDoubles()),
                    buf.halves(pos.toDoubles()), buf.halves(typ.toDoubles()), buf.halves(gamma), buf.halves(beta), out.mem());
            got = buf.read(out, "embeddings");
        }
        double[] w = word.toDoubles(), p = pos.toDoubles(), t = typ.toDoubles(), z = new double[tokens * h];
        for (int i = 0; i < tokens; i++) {
            for (int c = 0; c < h; c++) z[i * h + c] = w[ids[i] * h + c] + p[(i % seq) * h + c] + t[types[i] * h + c];
        }
        check("golden embeddings.out " + tokens + "x" + h, got, want, HALF_ROUNDING, AddLayerNormKernelTest.allowance(z, tokens, h, gamma, beta, 1e-12));
        Batch b = new Batch(batch, seq, ids, types, new int[tokens]);
        try (ReferenceBackend ref = new ReferenceBackend()) {
            referenceAgrees("embeddings.out", ref.read(ref.embed(b, ref.table(f32(word)), ref.table(f32(pos)), ref.table(f32(typ)),
                    ref.vector(Tensor.ofFloats(new int[] {h}, floats(gamma))), ref.vector(Tensor.ofFloats(new int[] {h}, floats(beta))), 1e-12)), want);
        }
    }

    private static Tensor f32(Tensor t) {
        return Tensor.ofFloats(t.shape(), t.toFloats());
    }
}
