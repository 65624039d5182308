package bertj.encoder;

import bertj.backend.Backend;
import bertj.backend.Backend.Epilogue;
import bertj.backend.Backend.Matrix;
import bertj.backend.Backend.Param;
import bertj.backend.Batch;
import bertj.model.BertConfig;
import bertj.model.BertWeights;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The BERT forward pass, written once for every backend:
 * <pre>
 *   h = LayerNorm(word[ids] + position[0..S) + tokenType[types])                       BertEmbeddings
 *   for each layer:
 *     q, k, v = h Wqᵀ + bq, h Wkᵀ + bk, h Wvᵀ + bv   (one product over [Wq; Wk; Wv])   BertSelfAttention
 *     context = softmax(q kᵀ / √d − 10000 · padding) v       (per sequence and head)
 *     a = LayerNorm(context Woᵀ + bo + h)                                               BertSelfOutput
 *     i = GELU(a Wiᵀ + bi)                                                              BertIntermediate
 *     h = LayerNorm(i Wo2ᵀ + bo2 + a)                                                   BertOutput
 *   start, end = columns of h Wqaᵀ + bqa                                                qa_outputs
 * </pre>
 * Post-LayerNorm, as in the original BERT. The weights are uploaded to the backend once, in the constructor.
 * <pre>
 *   LoadedModel m = ModelLoader.load(Path.of("bert_4l_288d.pt"));
 *   try (BertEncoder encoder = new BertEncoder(m.weights(), Backends.create("cpu"))) {
 *       Batch batch = Batch.rightPadded(List.of(new int[] {101, 7592, 102}), null, 0);   // [CLS] hello [SEP]
 *       BertEncoder.Output out = encoder.forward(batch, true, null);                  // logits and last hidden state
 *   }
 * </pre>
 *
 * <p><b>Safe for concurrent callers.</b> Forward passes from several threads take turns on the one backend (a
 * fair lock: first come, first served), so results never depend on what else runs. {@link #close} waits for
 * the pass in progress, then frees the backend; a forward pass called after it is an
 * {@link IllegalStateException}.
 */
public final class BertEncoder implements AutoCloseable {

    /** Receives intermediates by name (what {@code bertj trace} saves); only those it wants are copied to the host. */
    public interface Tap {
        boolean wants(String name);

        void take(String name, int[] shape, double[] values);
    }

    /**
     * Outputs of one batch: start/end logits [batch, seqLen] when the model has a QA head (else null) and the
     * last hidden state [batch, seqLen, H] when asked for (else null).
     */
    public record Output(Batch batch, double[] startLogits, double[] endLogits, double[] lastHidden) {
    }

    private record LayerParams(Param queryKeyValue, Param attentionOutput, Param attentionNormGamma,
                               Param attentionNormBeta, Param intermediate, Param output, Param outputNormGamma,
                               Param outputNormBeta) {
    }

    private final BertConfig config;
    private final Backend backend;
    private final Param word, position, tokenType, embNormGamma, embNormBeta, qaOutputs;
    private final List<LayerParams> layers = new ArrayList<>();
    private final ReentrantLock turn = new ReentrantLock(true);
    private volatile boolean closed;

    public BertEncoder(BertWeights weights, Backend backend) {
        this.config = weights.config();
        this.backend = backend;
        var e = weights.embeddings();
        word = backend.table(e.word());
        position = backend.table(e.position());
        tokenType = backend.table(e.tokenType());
        embNormGamma = backend.vector(e.layerNorm().weight());
        embNormBeta = backend.vector(e.layerNorm().bias());
        for (BertWeights.Layer l : weights.layers()) {
            layers.add(new LayerParams(backend.linear(l.queryKeyValue()), backend.linear(l.attentionOutput()),
                    backend.vector(l.attentionLayerNorm().weight()), backend.vector(l.attentionLayerNorm().bias()),
                    backend.linear(l.intermediate()), backend.linear(l.output()),
                    backend.vector(l.outputLayerNorm().weight()), backend.vector(l.outputLayerNorm().bias())));
        }
        qaOutputs = weights.hasQaHead() ? backend.linear(weights.qaOutputs()) : null;
    }

    public BertConfig config() {
        return config;
    }

    public Backend backend() {
        return backend;
    }

    public boolean hasQaHead() {
        return qaOutputs != null;
    }

    public Output forward(Batch batch) {
        return forward(batch, false, null);
    }

    /**
     * Runs the model on a batch.
     *
     * @param wantHidden also return the last hidden state
     * @param tap        receives the intermediates it wants (null: none)
     */
    public Output forward(Batch batch, boolean wantHidden, Tap tap) {
        check(batch);
        turn.lock();
        try {
            if (closed) throw new IllegalStateException("the encoder has been closed");
            return pass(batch, wantHidden, tap);
        } finally {
            turn.unlock();
        }
    }

    /** One forward pass; the caller holds {@link #turn}. Each matrix is released once nothing reads it again. */
    private Output pass(Batch batch, boolean wantHidden, Tap tap) {
        int b = batch.size(), s = batch.seqLen(), heads = config.numHeads(), hidden = config.hiddenSize();
        double eps = config.layerNormEps();
        Epilogue gelu = Epilogue.gelu(config.gelu());
        backend.begin(batch);
        try {
            Matrix h = backend.embed(batch, word, position, tokenType, embNormGamma, embNormBeta, eps);
            emit(tap, "embeddings", h, b, s);
            for (int i = 0; i < layers.size(); i++) {
                LayerParams p = layers.get(i);
                String name = "layer." + i;
                Matrix qkv = backend.linear(h, p.queryKeyValue(), Epilogue.NONE);
                emitColumns(tap, qkv, b, s, hidden, name + ".query", name + ".key", name + ".value");
                if (tap != null && tap.wants(name + ".attention_probs")) {
                    Matrix probs = backend.attentionProbs(batch, qkv, heads);
                    tap.take(name + ".attention_probs", new int[] {b, heads, s, s}, backend.read(probs));
                    backend.release(probs);
                }
                Matrix context = backend.attention(batch, qkv, heads);
                backend.release(qkv);
                emit(tap, name + ".context", context, b, s);
                Matrix a = backend.linearAddLayerNorm(context, p.attentionOutput(), h,
                        p.attentionNormGamma(), p.attentionNormBeta(), eps);
                backend.release(context);
                backend.release(h);
                emit(tap, name + ".attention_output", a, b, s);
                Matrix inter = backend.linear(a, p.intermediate(), gelu);
                emit(tap, name + ".intermediate", inter, b, s);
                h = backend.linearAddLayerNorm(inter, p.output(), a, p.outputNormGamma(), p.outputNormBeta(), eps);
                backend.release(inter);
                backend.release(a);
                emit(tap, name, h, b, s);
            }
            double[] start = null, end = null;
            if (qaOutputs != null) {
                double[] logits = backend.read(backend.linear(h, qaOutputs, Epilogue.NONE)); // [tokens, 2]
                start = new double[batch.tokens()];
                end = new double[batch.tokens()];
                for (int t = 0; t < batch.tokens(); t++) {
                    start[t] = logits[2 * t];
                    end[t] = logits[2 * t + 1];
                }
                if (tap != null) {
                    if (tap.wants("start_logits")) tap.take("start_logits", new int[] {b, s}, start.clone());
                    if (tap.wants("end_logits")) tap.take("end_logits", new int[] {b, s}, end.clone());
                }
            }
            double[] last = wantHidden ? backend.read(h) : null;
            return new Output(batch, start, end, last);
        } finally {
            backend.end();
        }
    }

    /** Emits the column blocks of m [tokens, n · width] (the packed q, k, v) under their names. */
    private void emitColumns(Tap tap, Matrix m, int b, int s, int width, String... names) {
        if (tap == null || java.util.Arrays.stream(names).noneMatch(tap::wants)) return;
        double[] all = backend.read(m);
        int rows = m.rows(), cols = m.cols();
        for (int part = 0; part < names.length; part++) {
            if (!tap.wants(names[part])) continue;
            double[] v = new double[rows * width];
            for (int r = 0; r < rows; r++) System.arraycopy(all, r * cols + part * width, v, r * width, width);
            tap.take(names[part], new int[] {b, s, width}, v);
        }
    }

    private void emit(Tap tap, String name, Matrix m, int b, int s) {
        if (tap != null && tap.wants(name)) {
            tap.take(name, new int[] {b, s, m.cols()}, backend.read(m));
        }
    }

    private void check(Batch batch) {
        if (batch.seqLen() > config.maxPositions()) {
            throw new IllegalArgumentException("sequence length " + batch.seqLen() + " exceeds the model's "
                    + config.maxPositions() + " positions");
        }
        for (int i = 0; i < batch.tokens(); i++) {
            int id = batch.inputIds()[i], type = batch.tokenTypeIds()[i], mask = batch.attentionMask()[i];
            if (id < 0 || id >= config.vocabSize()) {
                throw new IllegalArgumentException("input_ids[" + i / batch.seqLen() + "][" + i % batch.seqLen() + "] = " + id
                        + " is outside the vocabulary of " + config.vocabSize());
            }
            if (type < 0 || type >= config.typeVocabSize()) {
                throw new IllegalArgumentException("token_type_ids[" + i / batch.seqLen() + "][" + i % batch.seqLen() + "] = " + type
                        + " is outside 0.." + (config.typeVocabSize() - 1));
            }
            if (mask != 0 && mask != 1) {
                throw new IllegalArgumentException("attention_mask[" + i / batch.seqLen() + "][" + i % batch.seqLen() + "] = " + mask
                        + " is not 0 or 1");
            }
        }
    }

    /** Waits for the pass in progress (if any), then frees the backend. Idempotent. */
    @Override
    public void close() {
        turn.lock();
        try {
            if (closed) return;
            closed = true;
            backend.close();
        } finally {
            turn.unlock();
        }
    }
}
