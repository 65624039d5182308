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
    private final ByteBuffer data;

    public Tensor(DType dtype, int[] shape, ByteBuffer data) {
        long numel = numel(shape);
        if ((long) data.remaining() != numel * dtype.bytes()) {
            throw new IllegalArgumentException("tensor of shape " + Arrays.toString(shape) + " and dtype " + dtype
                    + " needs " + numel * dtype.bytes() + " bytes, got " + data.remaining());
        }
        this.dtype = dtype;
        this.shape = shape.clone();
        this.data = data.slice().order(ByteOrder.LITTLE_ENDIAN);
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
        return data.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    public float[] toFloats() {
        int n = checkedSize();
        float[] out = new float[n];
        switch (dtype) {
            case F32 -> data.duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
            case F64 -> {
                var b = data.duplicate().order(ByteOrder.LITTLE_ENDIAN).asDoubleBuffer();
                for (int i = 0; i < n; i++) out[i] = (float) b.get(i);
            }
            case F16 -> {
                var b = data.duplicate().order(ByteOrder.LITTLE_ENDIAN).asShortBuffer();
                for (int i = 0; i < n; i++) out[i] = Float.float16ToFloat(b.get(i));
            }
            case BF16 -> {
                var b = data.duplicate().order(ByteOrder.LITTLE_ENDIAN).asShortBuffer();
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
            data.duplicate().order(ByteOrder.LITTLE_ENDIAN).asDoubleBuffer().get(out);
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
            case I64 -> data.duplicate().order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(out);
            case I32 -> {
                var b = data.duplicate().order(ByteOrder.LITTLE_ENDIAN).asIntBuffer();
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
