package bertj.backend.cpu;

import bertj.backend.Backend;
import bertj.backend.Batch;
import bertj.model.BertWeights;
import bertj.readers.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * Float32 on the CPU, fast: packed weights, register-tiled FMA micro-kernels with the Vector API, fused
 * bias + GELU, fused attention, all cores, and no allocation once a batch shape has been seen.
 *
 * <ul>
 *   <li>Weights are packed once, at upload, into the panel layout the micro-kernel streams (see
 *       {@link Kernels}).</li>
 *   <li>Every op is cut into tasks (row blocks × panel groups for a linear layer, (sequence, head, query
 *       block) for attention, row blocks otherwise) run by a {@link WorkerPool} of {@code threads} threads.</li>
 *   <li>Activations come from a workspace of float arrays reused by liveness: a matrix the encoder has
 *       {@link #release}d gives its array to the next matrix of the pass that fits, so a pass holds only the
 *       few matrices alive at once (2304 floats, 9 KB, per token for 4L-288D whatever the depth, see
 *       {@link #take} and docs/performance.md). At {@link #end} every array of the pass is free again for the next
 *       one; free arrays that the pass did not use, or far larger than it needed, are dropped, so the workspace
 *       follows the most recent batch size.
 *       After the first batch of a given shape a forward pass allocates nothing but what {@link #read}
 *       returns.</li>
 *   <li>Sequence length is the batch's: nothing is padded. Attention skips each sequence's trailing padded
 *       keys, whose softmax weight exp(−10000 + …) is exactly 0 in float.</li>
 * </ul>
 * The inner loops are {@link VectorKernels} when the JVM has the jdk.incubator.vector module
 * ({@code --add-modules jdk.incubator.vector}; the bertj launcher and the tests pass it), else the plain-Java
 * {@link ScalarKernels}: the same results as 8-float vector kernels, 25–40 times slower. {@link #kernels()} says which.
 *
 * <p><b>Cold start.</b> Until C2 has compiled the vector kernels, a new JVM runs them interpreted or in C1 with
 * every vector a heap object: its first small forward passes are slower in the Vector API than in plain loops (the
 * embedding of one MiniLM text of 25 tokens in a fresh JVM: 0.68–0.92 s against 0.28–0.36 s). So the first
 * {@value #COLD_FLOPS_DEFAULT} floating-point operations of a JVM's ops ({@code -Dbertj.cpu.coldFlops=N}; 0 turns
 * it off) run on the vector kernels' plain-Java twin ({@link ScalarKernels}), which gives the same results bit for
 * bit (ColdStartTest). A pass whose products alone need more than what is left, or an op larger than it, ends the
 * cold start: the twin is for the first small passes (a text, a question), not for a corpus. The background
 * {@link #warmUpInBackground warm-up} keeps compiling the vector kernels meanwhile. A benchmark of warm passes
 * calls {@link #endColdStart()}. Measured in docs/performance.md ("Cold start on a plain-Java twin").
 *
 * <p>Not for concurrent callers (see {@link Backend}): a pass begun while another thread's is running, or an op
 * called from a thread other than the pass's, is an {@link IllegalStateException}.
 */
public final class CpuBackend implements Backend {

    /** An activation [rows, cols]; data may be longer than rows × cols (a reused buffer); null once released. */
    static final class Mat implements Matrix {
        int rows, cols;
        float[] data;
        boolean pooled; // its array belongs to the workspace

        Mat(int rows, int cols, float[] data) {
            this.rows = rows;
            this.cols = cols;
            this.data = data;
        }

        @Override
        public int rows() {
            return rows;
        }

        @Override
        public int cols() {
            return cols;
        }
    }

    /**
     * W [out, in] packed in panels of NR output columns (see {@link Kernels}) in {@code weight} from {@code offset}
     * (a slot of the backend's weight store), bias padded to panels × NR.
     */
    record Linear(int out, int in, int panels, float[] weight, int offset, float[] bias) implements Param {
        /** The packed panels alone: a copy of the slot. */
        float[] packed() {
            return java.util.Arrays.copyOfRange(weight, offset, offset + bias.length * in);
        }
    }

    record Values(int rows, int cols, float[] data) implements Param {
    }

    private final Kernels kernels;
    /** {@link ScalarKernels}' twin of {@link #kernels} for the cold start, or null (no vector kernels). */
    private final Kernels cold;
    private final WorkerPool pool;
    /** Per worker: the array holding its scratch slot, the slot's first index and its size (see {@link #scratch}). */
    private final float[][] scratch;
    private final int[] scratchAt, scratchSize;
    /** Workspace arrays free for the next matrix, and every array handed out in the current pass. */
    private final List<float[]> free = new ArrayList<>();
    private final java.util.Set<float[]> inUse = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
    private volatile Thread owner; // the thread whose pass is running, null between passes
    private long largestRequest; // floats of the largest matrix taken in this pass
    private float[] maskAdd = new float[0];
    private int[] keys = new int[0];

    private final LinearJob linearJob = new LinearJob();
    private final AttentionJob attentionJob = new AttentionJob();
    private final RowsJob rowsJob = new RowsJob();

    /** A backend on all cores. */
    public CpuBackend() {
        this(0);
    }

    /** @param threads worker threads, 0 for one per core */
    public CpuBackend(int threads) {
        this(threads, bestKernels());
    }

    CpuBackend(int threads, Kernels kernels) {
        if (threads < 0) throw new IllegalArgumentException("threads must be 0 (all cores) or positive, got " + threads);
        this.kernels = kernels;
        this.cold = vectorApiAvailable() && kernels instanceof VectorKernels v ? v.twin() : null;
        int t = threads == 0 ? Runtime.getRuntime().availableProcessors() : threads;
        this.pool = new WorkerPool(t);
        this.scratch = new float[t][];
        this.scratchAt = new int[t];
        this.scratchSize = new int[t];
    }

    /** Whether this JVM has the Vector API module, which the fast kernels need. */
    public static boolean vectorApiAvailable() {
        return ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
    }

    static Kernels bestKernels() {
        // VectorKernels is only loaded when its module is present; loading it without would fail.
        return vectorApiAvailable() ? new VectorKernels() : new ScalarKernels();
    }

    /**
     * Gets the JIT to compile the vector kernels before a model needs them: until C2 has compiled them, Vector
     * API code runs interpreted or in C1 with every vector a heap object, tens of times slower, and a fresh JVM
     * would spend its first forward passes that way. Runs each op (every micro-kernel and tail, GELU of both
     * forms, the fused add &amp; LayerNorm, attention with its key and column tails) on small random inputs of
     * its own, {@code rounds} times, on the calling thread; nothing is shared with other backends, so results
     * elsewhere cannot change. About 0.1 s of one core once compiled; does nothing without the Vector API.
     */
    public static void warmUp(int rounds) {
        warmUp(rounds, false);
    }

    /**
     * Set by the first op of a backend that is not a warm-up's and runs the vector kernels: from then on real work
     * triggers the JIT, and a warm-up in the background only takes a core from it, so it stops at its next round.
     */
    private static volatile boolean workStarted;

    /** Floating-point operations of a JVM's first ops that run on the cold-start twin (see the class comment). */
    static final long COLD_FLOPS_DEFAULT = 2_000_000_000L;
    private static final java.util.concurrent.atomic.AtomicLong coldFlops =
            new java.util.concurrent.atomic.AtomicLong(Math.max(0, Long.getLong("bertj.cpu.coldFlops", COLD_FLOPS_DEFAULT)));

    /**
     * Ends this JVM's cold start (see the class comment): from now on every op runs the vector kernels. For
     * benchmarks of warm passes, so that their first timed passes are not the twin's; results do not change.
     */
    public static void endColdStart() {
        coldFlops.set(0);
    }

    /** Sets what is left of the cold start to {@code flops} and returns what was left (tests). */
    static long coldStart(long flops) {
        return coldFlops.getAndSet(flops);
    }

    /** Weights of the linear layers packed by this backend (Σ in · out): a pass costs about 2 · tokens · this. */
    private volatile long packedWeights;

    /**
     * At a pass's start: a pass the cold start's twin cannot finish (its products alone are more than what is left)
     * ends the cold start, so that it runs on the vector kernels from its first op, not from the middle.
     */
    private void coldStartFor(Batch batch) {
        if (cold != null && !warmingUp && coldFlops.get() > 0 && 2L * batch.tokens() * packedWeights > coldFlops.get()) {
            coldFlops.set(0);
        }
    }

    /** The kernels for an op of about {@code flops} floating-point operations: the twin while the cold start lasts. */
    private Kernels kernelsFor(long flops) {
        if (cold != null && !warmingUp) {
            for (long left = coldFlops.get(); left > 0; left = coldFlops.get()) {
                if (flops > left) {
                    coldFlops.set(0); // the first op too large for what is left ends the cold start
                    break;
                }
                if (coldFlops.compareAndSet(left, left - flops)) return cold;
            }
        }
        if (!warmingUp && !workStarted) workStarted = true;
        return kernels;
    }

    /** This backend is a warm-up's own. */
    private boolean warmingUp;

    /** {@link #warmUp}; in the {@code background}, only until real work has started. Returns the rounds run. */
    static int warmUp(int rounds, boolean background) {
        if (!vectorApiAvailable()) return 0;
        java.util.Random r = new java.util.Random(1);
        try (CpuBackend be = new CpuBackend(1)) {
            // 23 rows: every micro-kernel's row count (AVX-512: 6, 4, 1 on 4-vector panels, 12, 6, 4, 1 on the
            // 2-vector last one; AVX2: 6, 4, 1); 70 outputs: a panel edge (AVX-512: 64 + 6 columns, AVX2: 4 · 16 + 6)
            int rows = 23, in = 256, out = 70;
            Mat x = wrap(rows, in, random(r, rows * in)), res = wrap(rows, out, random(r, rows * out));
            Linear lin = be.pack(out, in, random(r, out * in), random(r, out));
            Values g = new Values(1, out, random(r, out)), b = new Values(1, out, random(r, out));
            // attention: head sizes with and without column tails (24, 27, 32), key counts with and without tails
            int[][] shapes = {{42, 27}, {40, 32}, {37, 24}};
            Batch[] batches = new Batch[shapes.length];
            Mat[] qkv = new Mat[shapes.length];
            for (int k = 0; k < shapes.length; k++) {
                int seq = shapes[k][0], hidden = 2 * shapes[k][1];
                int[] ones = new int[seq];
                java.util.Arrays.fill(ones, 1);
                batches[k] = new Batch(1, seq, new int[seq], new int[seq], ones);
                qkv[k] = wrap(seq, 3 * hidden, random(r, seq * 3 * hidden));
            }
            be.warmingUp = true;
            int i = 0;
            for (; i < rounds && !(background && workStarted); i++) {
                int k = i % shapes.length;
                be.begin(batches[k]);
                for (Epilogue e : Epilogue.values()) be.release(be.linear(x, lin, e));
                be.release(be.linearAddLayerNorm(x, lin, res, g, b, 1e-12));
                be.release(be.attention(batches[k], qkv[k], 2));
                be.end();
            }
            return i;
        }
    }

    /**
     * {@link #warmUp} on a daemon thread, for a command line about to load a model on its main thread (a
     * single-threaded job that leaves the other cores idle). Only on machines with more than one core, and not
     * with {@code -Dbertj.cpu.warmUp=false}. It stops at the first pass of any other cpu backend in the JVM: the
     * real work then drives the JIT itself, and rounds that go on only take a core from it (stopping it there took
     * the first 16 windows of {@code bertj squad} from 3.6 to 2.2 s, docs/performance.md).
     */
    public static void warmUpInBackground() {
        if (Runtime.getRuntime().availableProcessors() < 2 || !vectorApiAvailable()
                || "false".equals(System.getProperty("bertj.cpu.warmUp"))) return;
        Thread t = new Thread(() -> warmUp(WARM_UP_ROUNDS, true), "bertj-cpu-warm-up");
        t.setDaemon(true);
        t.setPriority(Thread.MIN_PRIORITY);
        t.start();
    }

    /** Rounds of {@link #warmUp} in the background: enough invocations and loop trips for C2 to take every kernel. */
    static final int WARM_UP_ROUNDS = 400;

    private static float[] random(java.util.Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (r.nextGaussian() * 0.1);
        return a;
    }

    /** Which inner loops run: e.g. "Vector API, 512-bit" or "scalar (...)". */
    public String kernels() {
        return kernels.description();
    }

    /** Threads the work is split across. */
    public int threads() {
        return pool.threads();
    }

    /** The backend's threads, for benchmarks that measure the machine with the same pool. */
    WorkerPool pool() {
        return pool;
    }

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public String precision() {
        return "float32";
    }

    // ---------------------------------------------------------------- parameters

    @Override
    public Param linear(BertWeights.Linear w) {
        Tensor m = w.weight().transposeOf();
        if (m != null) return packInputMajor(w.out(), w.in(), m.toFloats(), w.bias().toFloats());
        return pack(w.out(), w.in(), w.weight().toFloats(), w.bias().toFloats());
    }

    /**
     * {@link #pack} of W given as Wᵀ [in, out] (an ONNX MatMul weight, Tensor.transposed): a panel's row k is
     * Wᵀ's row k, a copy per row and panel, where W [out, in] needs a gather with stride {@code in}.
     */
    Linear packInputMajor(int out, int in, float[] weightT, float[] bias) {
        int nr = kernels.panelWidth(), panels = (out + nr - 1) / nr, size = panels * in * nr;
        Aligned.Slot slot = weights.take(size);
        float[] packed = slot.array();
        int at = slot.at();
        float[] paddedBias = new float[panels * nr];
        for (int p = 0; p < panels; p++) {
            int n0 = p * nr, width = Math.min(nr, out - n0);
            for (int k = 0; k < in; k++) System.arraycopy(weightT, k * out + n0, packed, at + (p * in + k) * nr, width);
        }
        System.arraycopy(bias, 0, paddedBias, 0, out);
        packedWeights += (long) in * out;
        return new Linear(out, in, panels, packed, at, paddedBias);
    }

    /** Packs W [out, in] (row-major) and b [out] into the panel layout. */
    Linear pack(int out, int in, float[] weight, float[] bias) {
        int nr = kernels.panelWidth(), panels = (out + nr - 1) / nr, size = panels * in * nr;
        Aligned.Slot slot = weights.take(size);
        float[] packed = slot.array();
        int at = slot.at();
        float[] paddedBias = new float[panels * nr];
        for (int n = 0; n < out; n++) {
            int p = n / nr, j = n % nr;
            for (int k = 0; k < in; k++) packed[at + (p * in + k) * nr + j] = weight[n * in + k];
            paddedBias[n] = bias[n];
        }
        packedWeights += (long) in * out;
        return new Linear(out, in, panels, packed, at, paddedBias);
    }

    /** Where the packed weights lie: line-aligned slots of a few heap-region-sized arrays (see {@link Aligned}). */
    private final Aligned.Store weights = new Aligned.Store();

    @Override
    public Param vector(Tensor values) {
        return new Values(1, (int) values.numel(), values.toFloats());
    }

    @Override
    public Param table(Tensor values) {
        return new Values(values.dim(0), values.dim(1), values.toFloats());
    }

    // ---------------------------------------------------------------- passes and memory

    @Override
    public void begin(Batch batch) {
        coldStartFor(batch);
        synchronized (this) {
            Thread t = owner;
            if (t != null) {
                throw new IllegalStateException("the cpu backend is already running a pass for thread '" + t.getName()
                        + "': a backend serves one caller at a time (share a BertEncoder instead, which takes turns)");
            }
            owner = Thread.currentThread();
        }
    }

    @Override
    public void end() {
        checkOwner();
        // The pass's arrays are all free again; free arrays it did not touch, and arrays more than twice the
        // size of its largest matrix, are dropped: the workspace shrinks to what the latest batch size needs.
        free.clear();
        for (float[] a : inUse) {
            if (a.length <= 2L * largestRequest) free.add(a); // far larger than this batch needs: let it go
        }
        inUse.clear();
        free.sort(java.util.Comparator.comparingInt(a -> a.length));
        largestRequest = 0;
        owner = null;
    }

    private void checkOwner() {
        if (owner != Thread.currentThread()) {
            throw new IllegalStateException(owner == null ? "no pass is running on the cpu backend (begin() first)"
                    : "the cpu backend's pass belongs to thread '" + owner.getName() + "': a backend serves one caller at a time");
        }
    }

    /**
     * A matrix for this pass: the smallest free workspace array that fits; when none fits, a new array that
     * replaces the largest free one (too small now, it would only add to the workspace). So the workspace holds
     * about as many arrays as matrices are alive at once, each as large as the largest it has served: for a BERT
     * layer three arrays (hidden, 3·hidden and intermediate wide) — 2304 floats per token for 4L-288D against
     * 1728 alive at the peak. Outside a pass, a new array that the workspace never sees.
     */
    Mat take(int rows, int cols) {
        int n = rows * cols;
        if (owner == null) return new Mat(rows, cols, new float[n]);
        checkOwner();
        largestRequest = Math.max(largestRequest, n);
        float[] data = null;
        for (int i = 0; i < free.size(); i++) {
            if (free.get(i).length >= n) {
                data = free.remove(i);
                break;
            }
        }
        if (data == null) {
            if (!free.isEmpty()) inUse.remove(free.remove(free.size() - 1)); // sorted: the last is the largest
            data = new float[n];
        }
        inUse.add(data); // a set: an array released and taken again within the pass counts once
        Mat m = new Mat(rows, cols, data);
        m.pooled = true;
        return m;
    }

    @Override
    public void release(Matrix matrix) {
        Mat m = (Mat) matrix;
        if (!m.pooled || m.data == null || owner != Thread.currentThread()) return;
        float[] data = m.data;
        m.data = null; // a released matrix fails loudly if used again
        int i = 0;
        while (i < free.size() && free.get(i).length < data.length) i++;
        free.add(i, data);
    }

    /** Bytes of activation memory held now (between passes: what the next pass starts with). */
    public long workspaceBytes() {
        return 4 * workspaceFloats();
    }

    /** Workspace floats held now: free arrays plus those of the pass in progress. */
    long workspaceFloats() {
        long n = 0;
        for (float[] a : free) n += a.length;
        for (float[] a : inUse) n += a.length;
        return n;
    }

    /** Lengths of the free workspace arrays (tests). */
    List<Integer> workspaceSizes() {
        return free.stream().map(a -> a.length).toList();
    }

    /** Fills every free workspace array with NaN, so that a test sees any output element an op fails to write. */
    void poison() {
        for (float[] a : free) java.util.Arrays.fill(a, Float.NaN);
    }

    /** Wraps host data as a matrix (tests and benchmarks). */
    static Mat wrap(int rows, int cols, float[] data) {
        return new Mat(rows, cols, data);
    }

    /**
     * Worker {@code worker}'s scratch: room for {@code size} floats from index {@link #scratchAt}[worker] of the array
     * returned. The workers' slots are line-aligned slots of shared arrays (one array per worker would cost a heap
     * region each); a worker that needs more takes a new slot, leaving the old one.
     */
    private float[] scratch(int worker, int size) {
        float[] s = scratch[worker];
        if (s == null || scratchSize[worker] < size) {
            int n = Aligned.lines(Math.max(size, 4096));
            Aligned.Slot slot = scratchStore.take(n);
            scratch[worker] = s = slot.array();
            scratchAt[worker] = slot.at();
            scratchSize[worker] = n;
        }
        return s;
    }

    private final Aligned.Store scratchStore = new Aligned.Store();

    // ---------------------------------------------------------------- ops

    @Override
    public Matrix embed(Batch batch, Param word, Param position, Param tokenType, Param gamma, Param beta, double eps) {
        Values w = (Values) word;
        Mat y = take(batch.tokens(), w.cols());
        RowsJob job = rowsJob;
        job.embed = true;
        job.batch = batch;
        job.word = w;
        job.position = (Values) position;
        job.tokenType = (Values) tokenType;
        job.set(null, null, y, (Values) gamma, (Values) beta, (float) eps);
        job.k = kernelsFor(10L * y.rows * y.cols);
        pool.run(job.tasks(), job);
        job.clear();
        return y;
    }

    @Override
    public Matrix linear(Matrix x, Param linear, Epilogue epilogue) {
        Mat a = (Mat) x;
        Linear l = (Linear) linear;
        if (a.cols != l.in()) {
            throw new IllegalArgumentException("linear layer expects " + l.in() + " inputs, got a matrix of " + a.cols + " columns");
        }
        Mat y = take(a.rows, l.out());
        linearJob.prepare(a, l, y, epilogue);
        pool.run(linearJob.tasks, linearJob);
        linearJob.clear();
        return y;
    }

    @Override
    public Matrix attention(Batch batch, Matrix qkv, int heads) {
        Mat packed = (Mat) qkv;
        int hidden = packed.cols / 3;
        Mat ctx = take(batch.tokens(), hidden);
        prepareMask(batch);
        AttentionJob job = attentionJob;
        job.qkv = packed.data;
        job.ctx = ctx.data;
        job.batch = batch;
        job.hidden = hidden;
        job.heads = heads;
        job.d = hidden / heads;
        job.scale = (float) (1.0 / Math.sqrt(job.d));
        job.k = kernelsFor(4L * batch.tokens() * batch.seqLen() * hidden);
        job.qBlocks = (batch.seqLen() + kernels.queryBlock() - 1) / kernels.queryBlock();
        // Tasks are (sequence, head, group of query blocks); each task first lays out its head's keys and values
        // for the blocks (attentionKeys), so groups are few and large, but at least 8 tasks per thread in all so
        // that a thread that loses its core delays the op by a fraction of a task.
        int heads2 = batch.size() * heads, want = 8 * pool.threads();
        job.groups = Math.min(job.qBlocks, Math.max(1, (want + heads2 - 1) / heads2));
        pool.run(heads2 * job.groups, job);
        job.qkv = job.ctx = null;
        job.batch = null;
        job.k = null;
        return ctx;
    }

    /** maskAdd[t] = −10000 for padding tokens, else 0; keys[b] = 1 + the last real token of sequence b. */
    private void prepareMask(Batch batch) {
        int n = batch.tokens(), s = batch.seqLen();
        if (maskAdd.length < n) maskAdd = new float[n];
        if (keys.length < batch.size()) keys = new int[batch.size()];
        for (int b = 0; b < batch.size(); b++) {
            int last = -1;
            for (int j = 0; j < s; j++) {
                boolean pad = batch.attentionMask()[b * s + j] == 0;
                maskAdd[b * s + j] = pad ? -10000f : 0f;
                if (!pad) last = j;
            }
            // A sequence with no real token at all attends to every (equally masked) key, as PyTorch does.
            keys[b] = last < 0 ? s : last + 1;
        }
    }

    @Override
    public Matrix attentionProbs(Batch batch, Matrix qkv, int heads) {
        // Trace only: the full [b][h][i][j] probabilities, computed plainly.
        float[] x = ((Mat) qkv).data;
        int s = batch.seqLen(), ld = qkv.cols(), hidden = ld / 3, d = hidden / heads;
        float scale = (float) (1.0 / Math.sqrt(d));
        Mat out = take(batch.size() * heads * s, s);
        float[] probs = out.data;
        for (int b = 0; b < batch.size(); b++) {
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < s; i++) {
                    int row = ((b * heads + h) * s + i) * s;
                    int qo = (b * s + i) * ld + h * d;
                    float max = Float.NEGATIVE_INFINITY;
                    for (int j = 0; j < s; j++) {
                        int ko = (b * s + j) * ld + hidden + h * d;
                        float dot = 0;
                        for (int c = 0; c < d; c++) dot += (x[qo + c] * scale) * x[ko + c];
                        float score = dot + (batch.masked(b, j) ? -10000f : 0f);
                        probs[row + j] = score;
                        max = Math.max(max, score);
                    }
                    float total = 0;
                    for (int j = 0; j < s; j++) {
                        float e = (float) Math.exp(probs[row + j] - max);
                        probs[row + j] = e;
                        total += e;
                    }
                    float inv = 1f / total;
                    for (int j = 0; j < s; j++) probs[row + j] *= inv;
                }
            }
        }
        return out;
    }

    @Override
    public Matrix addLayerNorm(Matrix x, Matrix residual, Param gamma, Param beta, double eps) {
        Mat a = (Mat) x, r = (Mat) residual;
        Mat y = take(a.rows, a.cols);
        rowsJob.set(a, r, y, (Values) gamma, (Values) beta, (float) eps);
        rowsJob.k = kernelsFor(10L * y.rows * y.cols);
        pool.run(rowsJob.tasks(), rowsJob);
        rowsJob.clear();
        return y;
    }

    /**
     * The linear layer with add &amp; LayerNorm as its epilogue: each task computes whole rows (every panel) and
     * then normalises them in place while they are still in its core's cache, so there is no second parallel
     * loop and no second pass over memory.
     */
    @Override
    public Matrix linearAddLayerNorm(Matrix x, Param linear, Matrix residual, Param gamma, Param beta, double eps) {
        Mat a = (Mat) x, r = (Mat) residual;
        Linear l = (Linear) linear;
        if (a.cols != l.in()) {
            throw new IllegalArgumentException("linear layer expects " + l.in() + " inputs, got a matrix of " + a.cols + " columns");
        }
        if (r.rows != a.rows || r.cols != l.out()) {
            throw new IllegalArgumentException("residual [" + r.rows + ", " + r.cols + "] does not match [" + a.rows + ", " + l.out() + "]");
        }
        Mat y = take(a.rows, l.out());
        linearJob.prepare(a, l, y, Epilogue.NONE);
        linearJob.norm(r, (Values) gamma, (Values) beta, (float) eps);
        pool.run(linearJob.tasks, linearJob);
        linearJob.clear();
        return y;
    }

    @Override
    public double[] read(Matrix m) {
        Mat a = (Mat) m;
        double[] d = new double[a.rows * a.cols];
        for (int i = 0; i < d.length; i++) d[i] = a.data[i];
        return d;
    }

    @Override
    public void close() {
        pool.close();
    }

    // ---------------------------------------------------------------- tasks

    /**
     * Where all of a product's rows fit the L2 budget (a short sequence: 128 rows at K = 288), its tasks split the
     * output panels, not the rows: every weight panel is then read from L3 once, not once per row task (8 times
     * with 2 threads), and x stays in L2. Measured 3–14% faster at 64–128 rows (docs/performance.md);
     * {@code -Dbertj.cpu.panelsFirst=false} restores the row split, for A/B runs. The bits are the same either way.
     */
    static final boolean PANELS_FIRST = Boolean.parseBoolean(System.getProperty("bertj.cpu.panelsFirst", "true"));

    /**
     * Small products (the rows of a short sequence at batch 1) are cut finer: where all rows fit the L2 budget,
     * tasks of one panel each (and a share of the rows, up to {@link #FINE_TASKS_PER_THREAD} tasks per thread), and
     * with add &amp; LayerNorm, where tasks own whole rows, one row block each while the blocks are no more than that.
     * The tasks are dealt out one by one; with 4 per thread of 1–3 panels (or row blocks) each, as before, the
     * thread that took the last one often finished a panel or two after the other, idle. Measured on a Zen 4: a
     * whole 4L-288D pass 1.02–1.07× at 32–192 tokens (MiniLM 1.01–1.02×), neutral from 256 rows on
     * (docs/performance.md). The bits are the same either way: every output is the same chain of FMAs, and a row's
     * LayerNorm the same sums. Not final so that {@code TaskSplitProbe} can alternate it within one process (other
     * backends in the JVM then change only their split, not their results); {@code -Dbertj.cpu.fineTasks=false}
     * turns it off.
     */
    static volatile boolean fineTasks = Boolean.parseBoolean(System.getProperty("bertj.cpu.fineTasks", "true"));

    /** Tasks per thread for {@link #fineTasks}' small products. */
    static final int FINE_TASKS_PER_THREAD = 16;

    /**
     * y = x Wᵀ + b (+ GELU), cut into row blocks × panel groups; or, with {@link #norm}, y = LayerNorm(x Wᵀ + b + r)
     * cut into row blocks only. Reused: no allocation per call.
     */
    private final class LinearJob implements WorkerPool.Body {
        float[] x, y, r, gamma, beta;
        float eps;
        Linear l;
        Epilogue epilogue;
        Kernels k;
        int rows, blocks, rowTasks, panelTasks, tasks;

        void prepare(Mat a, Linear l, Mat y, Epilogue epilogue) {
            this.x = a.data;
            this.y = y.data;
            this.l = l;
            this.epilogue = epilogue;
            this.rows = a.rows;
            this.k = kernelsFor(2L * a.rows * l.in() * l.out());
            int mr = kernels.rowBlock();
            blocks = (rows + mr - 1) / mr;
            split(false);
        }

        /** Sets rowTasks, panelTasks and tasks; {@code wholeRows}: every task owns whole rows (no panel split). */
        private void split(boolean wholeRows) {
            int mr = kernels.rowBlock(), threads = pool.threads();
            // At least `target` tasks, so that every thread takes several and a thread that loses its core for a
            // while (a shared machine) delays the loop by a fraction of a task, a multiple of the thread count, and
            // few enough rows per task that its slice of x (rows × K floats) stays in L2 across the panels.
            int target = threads == 1 ? 1 : 4 * threads, fine = FINE_TASKS_PER_THREAD * threads;
            boolean cutFine = threads > 1 && fineTasks;
            int l2Blocks = Math.max(1, (256 * 1024) / (4 * l.in()) / mr), fewest = (blocks + l2Blocks - 1) / l2Blocks;
            if (!wholeRows && PANELS_FIRST && fewest == 1 && target > 1) {
                // all rows in one task's budget: panel groups (see PANELS_FIRST), and row groups too where the
                // panels are fewer than the target (288 outputs are 5 panels of 64 on AVX-512: 3 + 2 per thread)
                // with fineTasks single panels, their rows split only in shares of 4 blocks or more
                panelTasks = Math.min(l.panels(), cutFine ? fine : target);
                rowTasks = cutFine ? Math.max(1, Math.min((fine + panelTasks - 1) / panelTasks, blocks / 4))
                        : Math.min(blocks, (target + panelTasks - 1) / panelTasks);
                tasks = rowTasks * panelTasks;
                return;
            }
            if (cutFine && wholeRows && blocks <= fine) { // a row block per task (see fineTasks)
                rowTasks = tasks = blocks;
                panelTasks = 1;
                return;
            }
            // Row blocks of MR rows are dealt out evenly (task sizes differ by at most one block).
            rowTasks = Math.max(fewest, target);
            rowTasks = Math.min(blocks, (rowTasks + threads - 1) / threads * threads);
            // Few rows (short sequences): split the output columns too.
            panelTasks = wholeRows || rowTasks >= target ? 1 : Math.min(l.panels(), (target + rowTasks - 1) / rowTasks);
            tasks = rowTasks * panelTasks;
        }

        /** Add &amp; LayerNorm each task's rows after its product: tasks must then own whole rows. */
        void norm(Mat residual, Values gamma, Values beta, float eps) {
            this.r = residual.data;
            this.gamma = gamma.data();
            this.beta = beta.data();
            this.eps = eps;
            split(true);
        }

        void clear() {
            x = y = r = gamma = beta = null;
            l = null;
            k = null;
        }

        @Override
        public void run(int task, int worker) {
            int rt = task % rowTasks, pt = task / rowTasks, mr = kernels.rowBlock();
            int r0 = (int) ((long) rt * blocks / rowTasks) * mr, r1 = Math.min(rows, (int) ((long) (rt + 1) * blocks / rowTasks) * mr);
            int p0 = (int) ((long) pt * l.panels() / panelTasks), p1 = (int) ((long) (pt + 1) * l.panels() / panelTasks);
            k.linear(x, l.in(), l.weight(), l.offset(), l.bias(), y, l.out(), r0, r1, p0, p1, epilogue,
                    scratch(worker, k.linearScratch()), scratchAt[worker]);
            if (r != null) k.addLayerNorm(y, r, y, l.out(), r0, r1, gamma, beta, eps);
        }
    }

    /** Fused attention, one task per (sequence, head, group of query blocks). */
    private final class AttentionJob implements WorkerPool.Body {
        float[] qkv, ctx;
        Batch batch;
        Kernels k;
        int hidden, heads, d, qBlocks, groups;
        float scale;

        @Override
        public void run(int task, int worker) {
            int g = task % groups, bh = task / groups, h = bh % heads, b = bh / heads;
            int s = batch.seqLen(), qb = kernels.queryBlock();
            int blk0 = (int) ((long) g * qBlocks / groups), blk1 = (int) ((long) (g + 1) * qBlocks / groups);
            float[] sc = scratch(worker, k.attentionScratch(d, s));
            int s0 = scratchAt[worker];
            k.attentionKeys(qkv, hidden, d, b * s, h * d, keys[b], sc, s0);
            for (int blk = blk0; blk < blk1; blk++) {
                k.attention(qkv, ctx, hidden, d, s, b * s, h * d, keys[b], maskAdd, blk * qb, scale, sc, s0);
            }
        }
    }

    /** Row-wise work in blocks of 32 rows: add & LayerNorm, or embedding lookup & LayerNorm. */
    private final class RowsJob implements WorkerPool.Body {
        static final int ROWS = 32;
        Mat x, r, y;
        float[] gamma, beta;
        float eps;
        boolean embed;
        Batch batch;
        Values word, position, tokenType;
        Kernels k;

        void set(Mat x, Mat r, Mat y, Values gamma, Values beta, float eps) {
            this.x = x;
            this.r = r;
            this.y = y;
            this.gamma = gamma.data();
            this.beta = beta.data();
            this.eps = eps;
        }

        int tasks() {
            return (y.rows + ROWS - 1) / ROWS;
        }

        void clear() {
            x = r = y = null;
            k = null;
            embed = false;
            batch = null;
            word = position = tokenType = null;
        }

        @Override
        public void run(int task, int worker) {
            int r0 = task * ROWS, r1 = Math.min(y.rows, r0 + ROWS), h = y.cols;
            if (embed) {
                // word[id] + position[t mod S] + tokenType[type], then LayerNorm in place
                float[] out = y.data, wd = word.data(), pd = position.data(), td = tokenType.data();
                for (int row = r0; row < r1; row++) {
                    int wo = batch.inputIds()[row] * h, po = (row % batch.seqLen()) * h, to = batch.tokenTypeIds()[row] * h;
                    for (int c = 0; c < h; c++) out[row * h + c] = wd[wo + c] + pd[po + c] + td[to + c];
                }
                k.addLayerNorm(out, null, out, h, r0, r1, gamma, beta, eps);
            } else {
                k.addLayerNorm(x.data, r.data, y.data, h, r0, r1, gamma, beta, eps);
            }
        }
    }
}
