package bertj.backend.opencl;

import bertj.backend.Backend;
import bertj.backend.Batch;
import bertj.model.BertWeights;
import bertj.readers.Tensor;
import org.jocl.cl_event;
import org.jocl.cl_mem;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * Half-precision OpenCL kernels behind the {@link Backend} ops: each op is one kernel launch
 * (src/main/resources/bertj/kernels/*.cl), checked kernel by kernel against the float64 reference in
 * kernels-tests/.
 *
 * <p>Weights (every table, matrix, bias and LayerNorm vector) are rounded to half once and uploaded when the
 * encoder is built. Activations are half buffers that stay on the device between kernels; arithmetic inside
 * the kernels is float. A pass enqueues its input upload and kernels without waiting; the host waits only
 * when it reads a result ({@link #read}: a blocking read, the one synchronisation of a plain forward pass).
 * Activation buffers come from a {@link BufferPool}: a buffer the encoder has {@link #release}d serves a later op of
 * the same pass, and every buffer is reused by the next pass, so a pass holds the few activations alive at once.
 *
 * <p>Not for concurrent callers (see {@link Backend}): a pass begun while another thread's is running is an
 * {@link IllegalStateException}.
 *
 * <p>On a machine with PoCL installed, start the JVM with {@code LD_PRELOAD=$JAVA_HOME/lib/libjsig.so} (as
 * {@code ./bertj} does): PoCL replaces the JVM's signal handlers when its devices are listed, which can end the
 * JVM with a bare "Segmentation fault"; bertj warns once on stderr where the library is not loaded (docs/gpu.md).
 *
 * <p>Kernels, per op (and the variant chosen once, at start-up, by {@link TensorCores}: see {@link #kernels}):
 * <pre>
 *   op                                  portable                   tensor-core (NVIDIA, cc ≥ 8.0, probe passed)
 *   embed                               embeddings.cl              embeddings.cl
 *   linear (+GELU)                      linear.cl                  tc_linear.cl
 *   attention (packed q|k|v)            attention.cl               tc_attention.cl (head size a multiple of 8)
 *   linearAddLayerNorm                  linear_layernorm.cl        tc_linear.cl, LayerNorm epilogue
 *   QA head (≤ 8 outputs, float out)    qa_head.cl                 qa_head.cl
 * </pre>
 * so an encoder layer is five launches (q|k|v product, attention, attention output + add &amp; LayerNorm, FFN
 * + GELU, FFN output + add &amp; LayerNorm) on every device. A tensor-core kernel that fails to build for some
 * shape leaves that op to the portable kernel, and {@link #kernelsReason} says so.
 */
public final class OpenClBackend implements Backend {

    /** An activation on the device: half [rows, cols], or float for the QA head's logits. */
    private record Mat(int rows, int cols, cl_mem mem, boolean isFloat) implements Matrix {
    }

    private record Linear(int out, int in, cl_mem weight, cl_mem bias) implements Param {
    }

    private record Values(int rows, int cols, cl_mem mem) implements Param {
    }

    private final ClDevice dev;
    private final TensorCores.Selection selection;
    private final List<String> fallbacks = new ArrayList<>();
    private TcLinearKernel tcLinear;       // null: portable linear
    private TcAttentionKernel tcAttention; // null: portable attention
    private boolean tcLayerNorm;           // the LayerNorm epilogue of tc_linear.cl
    private final LinearLayerNormKernel linearLayerNorm;
    private final LinearKernel linear;
    private final QaHeadKernel qaHead;
    private final LayerNormKernels layerNorm;
    private final AttentionKernels attention;
    private final BufferPool pool;
    private final List<cl_mem> params = new ArrayList<>();
    private final List<Long> paramBytes = new ArrayList<>();

    // The current pass's inputs on the device, and the direct buffer their upload reads from.
    private Batch current;
    private cl_mem ids, types, mask;
    private ByteBuffer[] staging;
    private cl_event upload;
    private volatile Thread owner; // the thread whose pass is running, null between passes
    private boolean closed;

    /** Opens OpenCL device {@code deviceIndex} (numbered as by {@code bertj devices}) with the kernels --kernels auto picks. */
    public OpenClBackend(int deviceIndex) {
        this(deviceIndex, KernelChoice.AUTO);
    }

    /**
     * Opens OpenCL device {@code deviceIndex} with the kernels {@code choice} asks for; {@link KernelChoice#TENSOR_CORE}
     * on a device that cannot run them is a {@link bertj.backend.BackendException} saying why.
     */
    public OpenClBackend(int deviceIndex, KernelChoice choice) {
        this.dev = ClDevice.open(deviceIndex);
        TensorCores.Selection sel;
        try {
            sel = TensorCores.select(dev, choice);
        } catch (RuntimeException e) {
            dev.close();
            throw e;
        }
        this.selection = sel;
        if (sel.tensorCores()) {
            tcLinear = new TcLinearKernel(dev, sel.asm());
            tcAttention = new TcAttentionKernel(dev, sel.asm());
            tcLayerNorm = true;
        }
        this.linearLayerNorm = new LinearLayerNormKernel(dev);
        this.linear = new LinearKernel(dev);
        this.qaHead = new QaHeadKernel(dev);
        this.layerNorm = new LayerNormKernels(dev);
        this.attention = new AttentionKernels(dev);
        this.pool = new BufferPool(dev);
    }

    public DeviceInfo device() {
        return dev.info;
    }

    /** The kernels this backend runs: "tensor-core", "portable" (or "tensor-core-emulated" in tests). */
    public String kernels() {
        return selection.kernels();
    }

    /** Why {@link #kernels} are the ones they are, and any op left to the portable kernels since. */
    public String kernelsReason() {
        return fallbacks.isEmpty() ? selection.reason() : selection.reason() + "; " + String.join("; ", fallbacks);
    }

    /** The PTX header (.version, .target) of the probe's program on NVIDIA devices, else null. */
    public String ptx() {
        return selection.ptx();
    }

    /** {launches, host nanoseconds spent enqueueing them, kernel arguments set} since {@link #resetLaunchStats}. */
    public long[] launchStats() {
        return dev.launchStats();
    }

    public void resetLaunchStats() {
        dev.resetLaunchStats();
    }

    /** A tensor-core kernel failed to build or launch: its op runs the portable kernel from now on. */
    private void fallBack(String op, bertj.backend.BackendException e) {
        fallbacks.add(op + " runs the portable kernel (" + e.getMessage() + ")");
    }

    @Override
    public String name() {
        return "opencl";
    }

    @Override
    public String precision() {
        return "float16";
    }

    private cl_mem constant(Tensor t, String what) {
        short[] h = Half.of(t.toFloats());
        cl_mem m = dev.constant(h, what);
        params.add(m);
        paramBytes.add(2L * h.length);
        return m;
    }

    @Override
    public Param linear(BertWeights.Linear w) {
        return new Linear(w.out(), w.in(), constant(w.weight(), "a weight matrix"), constant(w.bias(), "a bias"));
    }

    @Override
    public Param vector(Tensor values) {
        return new Values(1, (int) values.numel(), constant(values, "a vector"));
    }

    @Override
    public Param table(Tensor values) {
        return new Values(values.dim(0), values.dim(1), constant(values, "an embedding table"));
    }

    @Override
    public Matrix upload(int rows, int cols, double[] rowMajor) {
        if (rowMajor.length != rows * cols) throw new IllegalArgumentException("expected " + rows * cols + " values");
        cl_mem m = pool.acquire(2L * rowMajor.length, "an activation");
        dev.write(m, Half.of(rowMajor), "an activation");
        return new Mat(rows, cols, m, false);
    }

    /**
     * Uploads the batch's ids, token types and mask (int32) without waiting. The staging buffers are reused, so
     * the previous pass's upload must have finished first (it has, unless that pass read nothing back).
     */
    @Override
    public void begin(Batch batch) {
        synchronized (this) {
            Thread t = owner;
            if (t != null) {
                throw new IllegalStateException("the opencl backend is already running a pass for thread '" + t.getName()
                        + "': a backend serves one caller at a time (share a BertEncoder instead, which takes turns)");
            }
            owner = Thread.currentThread();
        }
        try {
            dev.beginPass();
            upload(batch);
        } catch (RuntimeException | Error e) {
            dev.endPass();
            pool.endPass();
            owner = null;
            throw e;
        }
    }

    private void upload(Batch batch) {
        current = batch;
        if (upload != null) {
            dev.await(upload);
            upload = null;
        }
        int n = batch.tokens();
        if (staging == null || staging[0].capacity() != 4 * n) {
            staging = new ByteBuffer[3];
            for (int i = 0; i < 3; i++) staging[i] = ByteBuffer.allocateDirect(4 * n).order(ByteOrder.nativeOrder());
        }
        int[][] values = {batch.inputIds(), batch.tokenTypeIds(), batch.attentionMask()};
        cl_mem[] mems = new cl_mem[3];
        for (int i = 0; i < 3; i++) {
            staging[i].clear();
            staging[i].asIntBuffer().put(values[i]);
            mems[i] = pool.acquire(4L * n, "the batch's inputs");
            cl_event done = dev.writeAsync(mems[i], staging[i], "the batch's inputs");
            // The queue is in order: when the last write is done, so are the others.
            if (i < 2) org.jocl.CL.clReleaseEvent(done);
            else upload = done;
        }
        ids = mems[0];
        types = mems[1];
        mask = mems[2];
    }

    @Override
    public void end() {
        checkOwner();
        dev.endPass();
        pool.endPass();
        current = null;
        owner = null;
    }

    /**
     * The matrix's buffer may serve a later op of this pass. Safe although kernels run asynchronously: the
     * queue is in order, so a kernel that writes the reused buffer starts only after every kernel enqueued
     * before it — the readers of the released matrix among them — has finished.
     */
    @Override
    public void release(Matrix m) {
        if (owner == Thread.currentThread()) pool.release(((Mat) m).mem());
    }

    private void checkOwner() {
        if (owner != Thread.currentThread()) {
            throw new IllegalStateException(owner == null ? "no pass is running on the opencl backend (begin() first)"
                    : "the opencl backend's pass belongs to thread '" + owner.getName() + "': a backend serves one caller at a time");
        }
    }

    private void checkBatch(Batch batch) {
        if (batch != current) throw new IllegalStateException("op called with a batch other than the one passed to begin()");
    }

    private Mat output(int rows, int cols, String what) {
        return new Mat(rows, cols, pool.acquire(2L * rows * cols, what), false);
    }

    @Override
    public Matrix embed(Batch batch, Param word, Param position, Param tokenType, Param gamma, Param beta, double eps) {
        checkBatch(batch);
        Values w = (Values) word;
        Mat out = output(batch.tokens(), w.cols(), "the embeddings");
        layerNorm.embeddings(batch.tokens(), batch.seqLen(), w.cols(), (float) eps, ids, types, w.mem(),
                ((Values) position).mem(), ((Values) tokenType).mem(), ((Values) gamma).mem(), ((Values) beta).mem(), out.mem());
        return out;
    }

    @Override
    public Matrix linear(Matrix x, Param param, Epilogue epilogue) {
        Mat in = half(x);
        Linear l = (Linear) param;
        if (in.cols() != l.in()) throw new IllegalArgumentException("linear layer takes " + l.in() + " inputs, got " + in.cols());
        if (l.out() <= QaHeadKernel.MAX_OUT && epilogue == Epilogue.NONE) {
            Mat out = new Mat(in.rows(), l.out(), pool.acquire(4L * in.rows() * l.out(), "the QA logits"), true);
            qaHead.run(in.rows(), l.out(), l.in(), in.mem(), l.weight(), l.bias(), out.mem());
            return out;
        }
        Mat out = output(in.rows(), l.out(), "a linear layer's output");
        if (tcLinear != null) {
            try {
                tcLinear.run(in.rows(), l.out(), l.in(), in.mem(), l.weight(), l.bias(), out.mem(), epilogue);
                return out;
            } catch (bertj.backend.BackendException e) {
                fallBack("linear", e);
                tcLinear = null;
                tcLayerNorm = false;
            }
        }
        linear.run(in.rows(), l.out(), l.in(), in.mem(), l.weight(), l.bias(), out.mem(), epilogue);
        return out;
    }

    /** LayerNorm(x Wᵀ + b + residual) as one kernel: tc_linear.cl's LayerNorm epilogue, else linear_layernorm.cl. */
    @Override
    public Matrix linearAddLayerNorm(Matrix x, Param param, Matrix residual, Param gamma, Param beta, double eps) {
        Mat in = half(x), r = half(residual);
        Linear l = (Linear) param;
        if (in.cols() != l.in()) throw new IllegalArgumentException("linear layer takes " + l.in() + " inputs, got " + in.cols());
        if (r.rows() != in.rows() || r.cols() != l.out()) {
            throw new IllegalArgumentException("residual is " + r.rows() + " x " + r.cols() + ", expected " + in.rows() + " x " + l.out());
        }
        int m = in.rows(), n = l.out(), k = l.in();
        cl_mem g = ((Values) gamma).mem(), b = ((Values) beta).mem();
        if (tcLayerNorm) {
            TcLinearKernel.Config c = tcLinear.layerNormConfig(m, n);
            if (c != null) {
                Mat out = output(m, n, "a LayerNorm output");
                try {
                    tcLinear.runAddLayerNorm(c, m, n, k, in.mem(), l.weight(), l.bias(), r.mem(), g, b, (float) eps, out.mem());
                    return out;
                } catch (bertj.backend.BackendException e) {
                    fallBack("linear + add & LayerNorm", e);
                    tcLayerNorm = false;
                    pool.release(out.mem());
                }
            }
        }
        LinearLayerNormKernel.Tiling t = linearLayerNorm.tiling(n);
        if (t == null) return Backend.super.linearAddLayerNorm(x, param, residual, gamma, beta, eps);
        Mat out = output(m, n, "a LayerNorm output");
        linearLayerNorm.run(t, m, n, k, in.mem(), l.weight(), l.bias(), r.mem(), g, b, (float) eps, out.mem());
        return out;
    }

    @Override
    public Matrix attention(Batch batch, Matrix qkv, int heads) {
        checkBatch(batch);
        Mat packed = half(qkv);
        int hidden = packed.cols() / 3;
        Mat out = output(packed.rows(), hidden, "the attention context");
        int d = hidden / heads;
        if (tcAttention != null && TcAttentionKernel.supports(d)) {
            try {
                tcAttention.run(batch.size(), batch.seqLen(), heads, d, packed.mem(), mask, out.mem());
                return out;
            } catch (bertj.backend.BackendException e) {
                fallBack("attention", e);
                tcAttention = null;
            }
        }
        attention.attention(batch.size(), batch.seqLen(), heads, d, packed.mem(), mask, out.mem());
        return out;
    }

    @Override
    public Matrix attentionProbs(Batch batch, Matrix qkv, int heads) {
        checkBatch(batch);
        Mat packed = half(qkv);
        int s = batch.seqLen(), hidden = packed.cols() / 3;
        Mat out = output(batch.size() * heads * s, s, "the attention probabilities");
        attention.probs(batch.size(), s, heads, hidden / heads, packed.mem(), mask, out.mem());
        return out;
    }

    @Override
    public Matrix addLayerNorm(Matrix x, Matrix residual, Param gamma, Param beta, double eps) {
        Mat a = half(x), r = half(residual);
        Mat out = output(a.rows(), a.cols(), "a LayerNorm output");
        layerNorm.addLayerNorm(a.rows(), a.cols(), (float) eps, a.mem(), r.mem(), ((Values) gamma).mem(), ((Values) beta).mem(), out.mem());
        return out;
    }

    private static Mat half(Matrix m) {
        Mat mat = (Mat) m;
        if (mat.isFloat()) throw new IllegalArgumentException("the QA head's float logits cannot feed another op");
        return mat;
    }

    @Override
    public double[] read(Matrix m) {
        Mat mat = (Mat) m;
        int n = mat.rows() * mat.cols();
        if (mat.isFloat()) {
            float[] f = dev.readFloats(mat.mem(), n, "the QA logits");
            double[] d = new double[n];
            for (int i = 0; i < n; i++) d[i] = f[i];
            return d;
        }
        return Half.toDoubles(dev.readHalves(mat.mem(), n, "an activation"));
    }

    /** Bytes of device memory held for activations now (between passes: what the next pass starts with). */
    long bufferBytes() {
        return pool.bytesHeld();
    }

    /** Device buffers created for activations so far (they are reused across passes). */
    long bufferAllocations() {
        return pool.allocations();
    }

    /** Frees every buffer and the device; idempotent (a second close does nothing). */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        if (upload != null) {
            dev.await(upload);
            upload = null;
        }
        pool.close();
        for (int i = 0; i < params.size(); i++) dev.free(params.get(i), paramBytes.get(i));
        params.clear();
        dev.close();
    }
}
