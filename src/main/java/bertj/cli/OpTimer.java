package bertj.cli;

import bertj.backend.Backend;
import bertj.backend.Batch;
import bertj.model.BertWeights;
import bertj.readers.Tensor;

import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A backend that passes every call to another and adds up the wall time of each kind of op, for
 * {@code bertj bench --profile}. Linear layers are told apart by their shape ("linear 288→1152 +gelu").
 * Exact for backends whose ops finish before they return (reference, cpu); a backend that queues work
 * (OpenCL) shows the time where it waits instead.
 */
final class OpTimer implements Backend {
    private final Backend inner;
    private final Map<Param, String> linearNames = new IdentityHashMap<>();
    private final Map<String, long[]> totals = new LinkedHashMap<>(); // name -> {nanoseconds, calls}

    OpTimer(Backend inner) {
        this.inner = inner;
    }

    Backend inner() {
        return inner;
    }

    /** Per op kind: {total nanoseconds, calls} since the last {@link #reset()}, in first-seen order. */
    Map<String, long[]> totals() {
        return totals;
    }

    void reset() {
        totals.clear();
    }

    private void add(String name, long t0) {
        long[] v = totals.computeIfAbsent(name, k -> new long[2]);
        v[0] += System.nanoTime() - t0;
        v[1]++;
    }

    @Override
    public String name() {
        return inner.name();
    }

    @Override
    public String precision() {
        return inner.precision();
    }

    @Override
    public Param linear(BertWeights.Linear weights) {
        Param p = inner.linear(weights);
        linearNames.put(p, "linear " + weights.in() + "→" + weights.out());
        return p;
    }

    @Override
    public Param vector(Tensor values) {
        return inner.vector(values);
    }

    @Override
    public Param table(Tensor values) {
        return inner.table(values);
    }

    @Override
    public void begin(Batch batch) {
        long t0 = System.nanoTime();
        inner.begin(batch);
        add("begin/end", t0);
    }

    @Override
    public void end() {
        long t0 = System.nanoTime();
        inner.end();
        add("begin/end", t0);
    }

    @Override
    public Matrix embed(Batch batch, Param word, Param position, Param tokenType, Param gamma, Param beta, double eps) {
        long t0 = System.nanoTime();
        Matrix m = inner.embed(batch, word, position, tokenType, gamma, beta, eps);
        add("embeddings + LayerNorm", t0);
        return m;
    }

    @Override
    public Matrix linear(Matrix x, Param linear, Epilogue epilogue) {
        long t0 = System.nanoTime();
        Matrix m = inner.linear(x, linear, epilogue);
        add(linearNames.getOrDefault(linear, "linear") + (epilogue == Epilogue.NONE ? "" : " +gelu"), t0);
        return m;
    }

    @Override
    public Matrix attention(Batch batch, Matrix qkv, int heads) {
        long t0 = System.nanoTime();
        Matrix m = inner.attention(batch, qkv, heads);
        add("attention", t0);
        return m;
    }

    @Override
    public Matrix attentionProbs(Batch batch, Matrix qkv, int heads) {
        long t0 = System.nanoTime();
        Matrix m = inner.attentionProbs(batch, qkv, heads);
        add("attention probs", t0);
        return m;
    }

    @Override
    public Matrix addLayerNorm(Matrix x, Matrix residual, Param gamma, Param beta, double eps) {
        long t0 = System.nanoTime();
        Matrix m = inner.addLayerNorm(x, residual, gamma, beta, eps);
        add("add + LayerNorm", t0);
        return m;
    }

    @Override
    public Matrix linearAddLayerNorm(Matrix x, Param linear, Matrix residual, Param gamma, Param beta, double eps) {
        long t0 = System.nanoTime();
        Matrix m = inner.linearAddLayerNorm(x, linear, residual, gamma, beta, eps);
        add(linearNames.getOrDefault(linear, "linear") + " + add + LayerNorm", t0);
        return m;
    }

    @Override
    public void release(Matrix m) {
        inner.release(m);
    }

    @Override
    public double[] read(Matrix m) {
        long t0 = System.nanoTime();
        double[] d = inner.read(m);
        add("read to host", t0);
        return d;
    }

    @Override
    public void close() {
        inner.close();
    }
}
