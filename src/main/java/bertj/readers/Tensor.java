package bertj.readers;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A dense, row-major tensor as it came out of a file: its element type, shape and little-endian bytes.
 * Conversions to float, double and long arrays are made on demand; the bytes are never changed.
 */
public final class Tensor {
    private final DType dtype;
    private final int[] shape;
    /** The bytes; for a {@link #transposed} tensor null until they are first asked for. */
    private volatile ByteBuffer data;
    /** The matrix this one is the transpose of ({@link #transposed}), or null. */
    private final Tensor transposeOf;

    public Tensor(DType dtype, int[] shape, ByteBuffer data) {
        long numel = numel(shape);
        if ((long) data.remaining() != numel * dtype.bytes()) {
            throw new IllegalArgumentException("tensor of shape " + Arrays.toString(shape) + " and dtype " + dtype
                    + " needs " + numel * dtype.bytes() + " bytes, got " + data.remaining());
        }
        this.dtype = dtype;
        this.shape = shape.clone();
        this.data = data.slice().order(ByteOrder.LITTLE_ENDIAN);
        this.transposeOf = null;
    }

    private Tensor(Tensor matrix) {
        this.dtype = matrix.dtype;
        this.shape = new int[] {matrix.dim(1), matrix.dim(0)};
        this.transposeOf = matrix;
    }

    /**
     * The transpose of a matrix, its bytes made the first time anything asks for them. Until then a reader that
     * can take the matrix as it is ({@link #transposeOf()}) is spared the pass: an ONNX MatMul weight is stored
     * [in, out], the transpose of PyTorch's Linear.weight that bertj's weights follow, and the cpu backend packs
     * its panels from [in, out] directly. In a new JVM the loops of such passes run interpreted for most of a
     * model's load (the JIT is busy with the kernels): transposing all-MiniLM-L6-v2's 36 matrices took 0.3 s of
     * a one-text {@code embed}.
     */
    public static Tensor transposed(Tensor matrix) {
        if (matrix.rank() != 2) throw new IllegalArgumentException("only a matrix has a transpose, not a tensor of shape " + matrix);
        return matrix.transposeOf != null ? matrix.transposeOf : new Tensor(matrix);
    }

    /**
     * The matrix this tensor is the transpose of, when it was made by {@link #transposed}; null otherwise. Its
     * element [j, i] is this tensor's [i, j].
     */
    public Tensor transposeOf() {
        return transposeOf;
    }

    private ByteBuffer data() {
        ByteBuffer d = data;
        if (d == null) {
            d = transposeBytes(transposeOf);
            data = d; // made twice at worst, by two threads at once, the same bytes both times
        }
        return d;
    }

    /** The bytes of the transpose of a matrix m [rows, cols]. */
    private static ByteBuffer transposeBytes(Tensor m) {
        int rows = m.dim(0), cols = m.dim(1), w = m.dtype.bytes();
        ByteBuffer src = m.bytes();
        byte[] dst = new byte[Math.multiplyExact(Math.multiplyExact(rows, cols), w)];
        if (w == 4) {
            // float32 (all the MatMul weights of real exports): as ints, in 32 × 32 tiles that stay in cache; a
            // ByteBuffer call per element made this most of the load time of all-MiniLM-L6-v2
            int[] a = new int[rows * cols], b = new int[rows * cols];
            src.asIntBuffer().get(a);
            for (int r0 = 0; r0 < rows; r0 += 32) {
                for (int c0 = 0; c0 < cols; c0 += 32) {
                    for (int r = r0, r1 = Math.min(rows, r0 + 32); r < r1; r++) {
                        for (int c = c0, c1 = Math.min(cols, c0 + 32); c < c1; c++) b[c * rows + r] = a[r * cols + c];
                    }
                }
            }
            ByteBuffer out = ByteBuffer.wrap(dst).order(ByteOrder.LITTLE_ENDIAN);
            out.asIntBuffer().put(b);
            return out;
        }
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                src.get((r * cols + c) * w, dst, (c * rows + r) * w, w);
            }
        }
        return ByteBuffer.wrap(dst).order(ByteOrder.LITTLE_ENDIAN);
    }

    public static Tensor ofFloats(int[] shape, float[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        return new Tensor(DType.F32, shape, b);
    }

    public static Tensor ofDoubles(int[] shape, double[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        b.asDoubleBuffer().put(values);
        return new Tensor(DType.F64, shape, b);
    }

    public static Tensor ofLongs(int[] shape, long[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        b.asLongBuffer().put(values);
        return new Tensor(DType.I64, shape, b);
    }

    public DType dtype() {
        return dtype;
    }

    public int[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    public int dim(int i) {
        return shape[i];
    }

    public long numel() {
        return numel(shape);
    }

    /** The raw little-endian bytes (a read-only view). */
    public ByteBuffer bytes() {
        return data().asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    public float[] toFloats() {
        int n = checkedSize();
        float[] out = new float[n];
        switch (dtype) {
            case F32 -> data().duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
            case F64 -> {
                var b = data().duplicate().order(ByteOrder.LITTLE_ENDIAN).asDoubleBuffer();
                for (int i = 0; i < n; i++) out[i] = (float) b.get(i);
            }
            case F16 -> {
                var b = data().duplicate().order(ByteOrder.LITTLE_ENDIAN).asShortBuffer();
                for (int i = 0; i < n; i++) out[i] = Float.float16ToFloat(b.get(i));
            }
            case BF16 -> {
                var b = data().duplicate().order(ByteOrder.LITTLE_ENDIAN).asShortBuffer();
                for (int i = 0; i < n; i++) out[i] = Float.intBitsToFloat((b.get(i) & 0xffff) << 16);
            }
            case I64, I32 -> {
                long[] l = toLongs();
                for (int i = 0; i < n; i++) out[i] = l[i];
            }
        }
        return out;
    }

    public double[] toDoubles() {
        int n = checkedSize();
        double[] out = new double[n];
        if (dtype == DType.F64) {
            data().duplicate().order(ByteOrder.LITTLE_ENDIAN).asDoubleBuffer().get(out);
        } else if (dtype == DType.I64 || dtype == DType.I32) {
            long[] l = toLongs();
            for (int i = 0; i < n; i++) out[i] = l[i];
        } else {
            float[] f = toFloats();
            for (int i = 0; i < n; i++) out[i] = f[i];
        }
        return out;
    }

    public long[] toLongs() {
        int n = checkedSize();
        long[] out = new long[n];
        switch (dtype) {
            case I64 -> data().duplicate().order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(out);
            case I32 -> {
                var b = data().duplicate().order(ByteOrder.LITTLE_ENDIAN).asIntBuffer();
                for (int i = 0; i < n; i++) out[i] = b.get(i);
            }
            default -> throw new IllegalStateException("tensor of dtype " + dtype + " is not an integer tensor");
        }
        return out;
    }

    private int checkedSize() {
        long n = numel();
        if (n > Integer.MAX_VALUE - 16) {
            throw new ModelFileException("tensor of shape " + Arrays.toString(shape) + " is too large to hold in one Java array");
        }
        return (int) n;
    }

    public static long numel(int[] shape) {
        long n = 1;
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            }
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    @Override
    public String toString() {
        return dtype + Arrays.toString(shape);
    }
}
