package bertj.testing;

import bertj.readers.DType;
import bertj.readers.Tensor;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes small ONNX models in the protobuf wire format, independently of the reader under test, so that tests
 * can build BERT-shaped graphs (and broken ones) without Python's onnx package.
 */
public final class OnnxWriter {
    /** One protobuf message being built. */
    public static final class Msg {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        private void rawVarint(long v) {
            while ((v & ~0x7fL) != 0) {
                out.write((int) ((v & 0x7f) | 0x80));
                v >>>= 7;
            }
            out.write((int) v);
        }

        public Msg varint(int field, long v) {
            rawVarint((long) field << 3);
            rawVarint(v);
            return this;
        }

        public Msg bytes(int field, byte[] b) {
            rawVarint(((long) field << 3) | 2);
            rawVarint(b.length);
            out.writeBytes(b);
            return this;
        }

        public Msg string(int field, String s) {
            return bytes(field, s.getBytes(StandardCharsets.UTF_8));
        }

        public Msg message(int field, Msg m) {
            return bytes(field, m.toBytes());
        }

        public Msg fixed32(int field, int bits) {
            rawVarint(((long) field << 3) | 5);
            for (int i = 0; i < 4; i++) out.write(bits >>> (8 * i));
            return this;
        }

        public Msg packedVarints(int field, long... values) {
            Msg inner = new Msg();
            for (long v : values) inner.rawVarint(v);
            return bytes(field, inner.toBytes());
        }

        public byte[] toBytes() {
            return out.toByteArray();
        }
    }

    private static int code(DType t) {
        return switch (t) {
            case F32 -> 1;
            case I32 -> 6;
            case I64 -> 7;
            case F16 -> 10;
            case F64 -> 11;
            case BF16 -> 16;
        };
    }

    /** A TensorProto; raw = true stores raw_data, false the typed field (float_data / int64_data …). */
    public static Msg tensor(String name, Tensor t, boolean raw) {
        Msg m = new Msg();
        long[] dims = new long[t.rank()];
        for (int i = 0; i < dims.length; i++) dims[i] = t.dim(i);
        m.packedVarints(1, dims);
        m.varint(2, code(t.dtype()));
        if (name != null) m.string(8, name);
        ByteBuffer b = t.bytes();
        byte[] bytes = new byte[b.remaining()];
        b.get(bytes);
        if (raw) {
            m.bytes(9, bytes);
        } else if (t.dtype() == DType.F32) {
            m.bytes(4, bytes); // packed floats are the same little-endian bytes
        } else if (t.dtype() == DType.I64) {
            m.packedVarints(7, t.toLongs());
        } else {
            throw new IllegalArgumentException("typed storage not written for " + t.dtype());
        }
        return m;
    }

    public static Msg node(String name, String op, List<String> inputs, List<String> outputs, Msg... attributes) {
        Msg m = new Msg();
        for (String i : inputs) m.string(1, i);
        for (String o : outputs) m.string(2, o);
        m.string(3, name);
        m.string(4, op);
        for (Msg a : attributes) m.message(5, a);
        return m;
    }

    public static Msg intAttribute(String name, long v) {
        return new Msg().string(1, name).varint(3, v).varint(20, 2);
    }

    public static Msg tensorAttribute(String name, Tensor t) {
        return new Msg().string(1, name).message(5, tensor(null, t, true)).varint(20, 4);
    }

    /** A graph being assembled: initializers and nodes in order. */
    public static final class Graph {
        final List<Msg> nodes = new ArrayList<>(), initializers = new ArrayList<>();

        public Graph initializer(Msg tensor) {
            initializers.add(tensor);
            return this;
        }

        public Graph node(Msg node) {
            nodes.add(node);
            return this;
        }

        /** A ModelProto: ir_version 6, producer "bertj-test", opset 11, this graph. */
        public byte[] model() {
            Msg g = new Msg();
            for (Msg n : nodes) g.message(1, n);
            g.string(2, "test-graph");
            for (Msg t : initializers) g.message(5, t);
            g.message(11, new Msg().string(1, "input_ids"));
            g.message(12, new Msg().string(1, "last_hidden_state"));
            return new Msg().varint(1, 6).string(2, "bertj-test").message(7, g)
                    .message(8, new Msg().string(1, "").varint(2, 11)).toBytes();
        }
    }

    public static Tensor longs(long... v) {
        return Tensor.ofLongs(new int[] {v.length}, v);
    }

    public static Tensor scalar(float v) {
        ByteBuffer b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(0, v);
        return new Tensor(DType.F32, new int[0], b);
    }

    private OnnxWriter() {
    }
}
