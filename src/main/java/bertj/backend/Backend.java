package bertj.backend;

import bertj.model.BertWeights;
import bertj.model.GeluForm;
import bertj.readers.Tensor;

/**
 * The handful of ops a BERT forward pass is made of. {@link bertj.encoder.BertEncoder} composes them into the
 * model; a backend only knows how to run each op in its own precision and memory.
 *
 * <p>Activations are row-major matrices [rows, cols] with one row per token (rows = batch × seqLen) that live
 * wherever the backend keeps them — Java arrays, device buffers — behind the {@link Matrix} handle; they are
 * read back to the host only by {@link #read}. Weights are uploaded once ({@link #linear}, {@link #vector},
 * {@link #table}) and stay resident. Matrices made between {@link #begin} and {@link #end} belong to that pass:
 * after end() the backend may reuse their memory, and within the pass once the caller has {@link #release}d
 * them, so that a pass needs memory for the few matrices alive at once, not for every matrix it makes.
 *
 * <p><b>Not for concurrent callers.</b> A backend runs one pass at a time, for one thread: {@link #begin} while
 * another pass is running is an {@link IllegalStateException}, never a hang or a wrong result. Share a
 * {@link bertj.encoder.BertEncoder}, which is safe for concurrent callers (they take turns), instead.
 */
public interface Backend extends AutoCloseable {

    /** An activation matrix [rows, cols] held by the backend. */
    interface Matrix {
        int rows();

        int cols();
    }

    /** An uploaded weight: a linear layer, a vector or an embedding table. */
    interface Param {
    }

    /** What, if anything, follows the bias in {@link #linear(Matrix, Param, Epilogue)}. */
    enum Epilogue {
        NONE, GELU_ERF, GELU_TANH;

        public static Epilogue gelu(GeluForm form) {
            return form == GeluForm.ERF ? GELU_ERF : GELU_TANH;
        }
    }

    /** Short name used on the command line: reference, cpu, opencl. */
    String name();

    /** Arithmetic precision of the activations: float64, float32 or float16. */
    String precision();

    /** A linear layer y = x Wᵀ + b with W [out, in] (PyTorch layout) and b [out]. */
    Param linear(BertWeights.Linear weights);

    /** A vector such as LayerNorm's γ or β. */
    Param vector(Tensor values);

    /** An embedding table [rows, width]. */
    Param table(Tensor values);

    /** Starts a forward pass over {@code batch}. */
    void begin(Batch batch);

    /** Ends the pass: every matrix made since {@link #begin} may be reused. */
    void end();

    /**
     * Tells the backend that {@code m}, made in the current pass, will not be used again: later ops of the pass
     * may reuse its memory. Optional (a backend may ignore it); releasing a matrix twice, or one made outside the
     * pass, is harmless.
     */
    default void release(Matrix m) {
    }

    /**
     * BertEmbeddings: for token t of the batch, LayerNorm(word[id_t] + position[t mod seqLen] + tokenType[type_t]).
     */
    Matrix embed(Batch batch, Param word, Param position, Param tokenType, Param gamma, Param beta, double eps);

    /** y = x Wᵀ + b, then the epilogue (GELU) if any. x is [rows, in]; y is [rows, out]. */
    Matrix linear(Matrix x, Param linear, Epilogue epilogue);

    /**
     * Multi-head scaled dot-product attention for every (sequence, head): softmax(q kᵀ / √d + mask) v, where
     * {@code qkv} is [tokens, 3H] — the query, key and value products side by side, as one linear layer over the
     * packed weight [Wq; Wk; Wv] gives them: q in columns [0, H), k in [H, 2H), v in [2H, 3H) — head h in
     * columns [h·d, (h+1)·d) of each, and the mask adds −10000 to padded keys. Returns the context [tokens, H],
     * heads concatenated.
     */
    Matrix attention(Batch batch, Matrix qkv, int heads);

    /**
     * The attention probabilities softmax(q kᵀ / √d + mask), [batch · heads · seqLen, seqLen] (layout
     * [b][h][i][j]), from the packed {@code qkv} as {@link #attention} takes it. Only traces need them; the
     * forward pass uses the fused {@link #attention}.
     */
    Matrix attentionProbs(Batch batch, Matrix qkv, int heads);

    /** LayerNorm(x + residual) row by row: (z − mean) / √(var + eps) · γ + β, var the biased variance. */
    Matrix addLayerNorm(Matrix x, Matrix residual, Param gamma, Param beta, double eps);

    /**
     * LayerNorm(x Wᵀ + b + residual): a linear layer whose output feeds add &amp; LayerNorm (BertSelfOutput,
     * BertOutput). By default the two ops one after the other; a backend may fuse them (one pass over memory, no
     * intermediate matrix).
     */
    default Matrix linearAddLayerNorm(Matrix x, Param linear, Matrix residual, Param gamma, Param beta, double eps) {
        Matrix y = linear(x, linear, Epilogue.NONE);
        Matrix out = addLayerNorm(y, residual, gamma, beta, eps);
        release(y);
        return out;
    }

    /**
     * An activation matrix [rows, cols] made from host values (row-major), in the backend's own precision.
     * The forward pass does not need it; kernels-tests use it to feed every backend the same inputs. Made
     * between {@link #begin} and {@link #end} it belongs to that pass like any other matrix.
     */
    default Matrix upload(int rows, int cols, double[] rowMajor) {
        throw new UnsupportedOperationException(name() + " backend cannot upload activations");
    }

    /** Copies a matrix to the host in float64, row-major. */
    double[] read(Matrix m);

    @Override
    void close();
}
