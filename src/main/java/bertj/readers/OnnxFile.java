package bertj.readers;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The parts of an ONNX model ({@code onnx.proto}) that a weight importer needs: the graph's initializers
 * (named tensors), its nodes (op type, name, inputs, outputs and the scalar, list and tensor attributes) and its
 * inputs and outputs. Nothing is executed and nothing else is interpreted.
 *
 * <pre>
 *   ModelProto   1 ir_version  2 producer_name  3 producer_version  7 graph  8 opset_import {1 domain, 2 version}
 *   GraphProto   1 node  5 initializer  11 input  12 output            (ValueInfoProto: 1 name)
 *   NodeProto    1 input  2 output  3 name  4 op_type  5 attribute
 *   Attribute    1 name  2 f  3 i  4 s  5 t  8 ints  20 type
 *   TensorProto  1 dims  2 data_type  4 float_data  5 int32_data  7 int64_data  8 name  9 raw_data
 *                10 double_data  14 data_location (1 = external file, not read)
 * </pre>
 * raw_data holds the elements little-endian, row-major; FLOAT16 and BFLOAT16 kept in int32_data hold one 16-bit
 * pattern per value. Tensors of types this project has no use for (strings, bools, 8-bit integers, …) are listed
 * as unread, not failed, so that a caller can say which tensor it missed.
 */
public final class OnnxFile {
    private OnnxFile() {
    }

    /** One graph node. Attributes keep the forms the importer reads: int, float, ints and tensor. */
    public record Node(String name, String opType, List<String> inputs, List<String> outputs, Map<String, Attribute> attributes) {
    }

    /** A node attribute; fields that the attribute does not carry are null. */
    public record Attribute(String name, Long i, Float f, String s, long[] ints, Tensor t) {
    }

    /**
     * @param initializers the graph's initializers that could be read, by name, in file order
     * @param unread       initializers of a data type this project does not read: name → reason
     */
    public record Model(long irVersion, String producer, Map<String, Long> opsets, Map<String, Tensor> initializers,
                        Map<String, String> unread, List<Node> nodes, List<String> inputs, List<String> outputs) {
    }

    /** Largest file accepted: protobuf messages cannot exceed 2 GiB, and larger ONNX models keep their weights outside. */
    static final long MAX_BYTES = Integer.MAX_VALUE;

    /**
     * True when the file starts like a serialized ModelProto: field 1 (ir_version, a small varint) first, then
     * another ModelProto field. Exporters write fields in number order, so ir_version always leads.
     */
    public static boolean looksLike(Path file) throws IOException {
        byte[] head;
        try (InputStream in = Files.newInputStream(file)) {
            head = in.readNBytes(16);
        }
        if (head.length < 4 || head[0] != 0x08 || head[1] < 1 || head[1] > 64) return false;
        int tag = head[2] & 0xff;
        int field = tag >>> 3, wire = tag & 7;
        return (wire == ProtoReader.LENGTH_DELIMITED && (field == 2 || field == 3 || field == 4 || field == 6 || field == 7 || field == 8))
                || (wire == ProtoReader.VARINT && field == 5);
    }

    public static Model read(Path file) {
        String where = file.toString();
        ByteBuffer bytes;
        try {
            long size = Files.size(file);
            if (size > MAX_BYTES) {
                throw new ModelFileException(where + ": " + size + " bytes is more than one ONNX protobuf can hold (2 GiB); "
                        + "models this large keep their weights in external data files, which bertj does not read");
            }
            if (file.getFileSystem() == FileSystems.getDefault()) {
                try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                    bytes = ch.map(FileChannel.MapMode.READ_ONLY, 0, size);
                }
            } else {
                // Inside a jar (zipfs): no mapping; the entry is inflated into memory once.
                bytes = ByteBuffer.wrap(Files.readAllBytes(file));
            }
        } catch (IOException e) {
            throw new ModelFileException(where + ": cannot read: " + SafeTensors.firstLine(e.getMessage()), e);
        }
        return parse(bytes, where);
    }

    /** Parses a serialized ModelProto held in {@code bytes}; {@code where} names it in errors. */
    public static Model parse(ByteBuffer bytes, String where) {
        ProtoReader r = new ProtoReader(bytes, 0, where);
        Long irVersion = null;
        String producer = "";
        Map<String, Long> opsets = new LinkedHashMap<>();
        ProtoReader graph = null;
        while (r.next()) {
            switch (r.field()) {
                case 1 -> irVersion = r.int64();
                case 2 -> producer = r.string();
                case 7 -> {
                    if (graph != null) throw r.error("the model has two graphs");
                    graph = r.message();
                }
                case 8 -> {
                    ProtoReader o = r.message();
                    String domain = "";
                    long version = 0;
                    while (o.next()) {
                        if (o.field() == 1) domain = o.string();
                        else if (o.field() == 2) version = o.int64();
                        else o.skip();
                    }
                    opsets.put(domain, version);
                }
                default -> r.skip();
            }
        }
        if (irVersion == null || graph == null) {
            throw new ModelFileException(where + ": not an ONNX model: " + (irVersion == null ? "no ir_version" : "no graph")
                    + " in the ModelProto");
        }
        Map<String, Tensor> initializers = new LinkedHashMap<>();
        Map<String, String> unread = new LinkedHashMap<>();
        List<Node> nodes = new ArrayList<>();
        List<String> inputs = new ArrayList<>(), outputs = new ArrayList<>();
        while (graph.next()) {
            switch (graph.field()) {
                case 1 -> nodes.add(node(graph.message(), where));
                case 5 -> {
                    Decoded t = tensor(graph.message(), where);
                    if (t.name.isEmpty()) throw graph.error("an initializer has no name");
                    if (initializers.containsKey(t.name) || unread.containsKey(t.name)) {
                        throw new ModelFileException(where + ": two initializers are both named '" + t.name + "'");
                    }
                    if (t.tensor != null) initializers.put(t.name, t.tensor);
                    else unread.put(t.name, t.unreadReason);
                }
                case 11 -> inputs.add(valueInfoName(graph.message()));
                case 12 -> outputs.add(valueInfoName(graph.message()));
                default -> graph.skip();
            }
        }
        return new Model(irVersion, producer, opsets, initializers, unread, List.copyOf(nodes), List.copyOf(inputs), List.copyOf(outputs));
    }

    private static String valueInfoName(ProtoReader v) {
        String name = "";
        while (v.next()) {
            if (v.field() == 1) name = v.string();
            else v.skip();
        }
        return name;
    }

    private static Node node(ProtoReader n, String where) {
        List<String> in = new ArrayList<>(), out = new ArrayList<>();
        String name = "", op = "";
        Map<String, Attribute> attrs = new LinkedHashMap<>();
        while (n.next()) {
            switch (n.field()) {
                case 1 -> in.add(n.string());
                case 2 -> out.add(n.string());
                case 3 -> name = n.string();
                case 4 -> op = n.string();
                case 5 -> {
                    Attribute a = attribute(n.message(), where);
                    attrs.put(a.name(), a);
                }
                default -> n.skip();
            }
        }
        return new Node(name, op, List.copyOf(in), List.copyOf(out), attrs);
    }

    private static Attribute attribute(ProtoReader a, String where) {
        String name = "";
        Long i = null;
        Float f = null;
        String str = null;
        Tensor t = null;
        LongList ints = null;
        while (a.next()) {
            switch (a.field()) {
                case 1 -> name = a.string();
                case 2 -> {
                    a.expect(ProtoReader.FIXED32);
                    f = Float.intBitsToFloat(a.fixed32());
                }
                case 3 -> i = a.int64();
                case 4 -> str = a.string();
                case 5 -> t = tensor(a.message(), where).tensor;
                case 8 -> {
                    if (ints == null) ints = new LongList();
                    a.int64s(ints::add);
                }
                default -> a.skip();
            }
        }
        return new Attribute(name, i, f, str, ints == null ? null : ints.toArray(), t);
    }

    private record Decoded(String name, Tensor tensor, String unreadReason) {
    }

    /** ONNX TensorProto.DataType codes this project reads, and the names of the others (for messages). */
    private static DType dtype(int code) {
        return switch (code) {
            case 1 -> DType.F32;
            case 6 -> DType.I32;
            case 7 -> DType.I64;
            case 10 -> DType.F16;
            case 11 -> DType.F64;
            case 16 -> DType.BF16;
            default -> null;
        };
    }

    private static final String[] TYPE_NAMES = {"UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16", "INT16", "INT32", "INT64",
            "STRING", "BOOL", "FLOAT16", "DOUBLE", "UINT32", "UINT64", "COMPLEX64", "COMPLEX128", "BFLOAT16"};

    static String typeName(int code) {
        return code >= 0 && code < TYPE_NAMES.length ? TYPE_NAMES[code] : "data type " + code;
    }

    private static Decoded tensor(ProtoReader r, String where) {
        LongList dims = new LongList();
        int dataType = 0;
        String name = "";
        ByteBuffer raw = null;
        boolean external = false;
        LongList int64s = null, int32s = null;
        FloatList floats = null;
        List<Double> doubles = null;
        while (r.next()) {
            switch (r.field()) {
                case 1 -> r.int64s(dims::add);
                case 2 -> dataType = (int) r.int64();
                case 4 -> {
                    if (floats == null) floats = new FloatList();
                    r.floats(floats::add);
                }
                case 5 -> {
                    if (int32s == null) int32s = new LongList();
                    r.int64s(int32s::add);
                }
                case 7 -> {
                    if (int64s == null) int64s = new LongList();
                    r.int64s(int64s::add);
                }
                case 8 -> name = r.string();
                case 9 -> raw = r.bytes();
                case 10 -> {
                    if (doubles == null) doubles = new ArrayList<>();
                    r.doubles(doubles::add);
                }
                case 14 -> external = r.int64() == 1;
                default -> r.skip();
            }
        }
        String label = name.isEmpty() ? "a tensor" : "tensor '" + name + "'";
        int[] shape = new int[dims.size];
        for (int k = 0; k < dims.size; k++) {
            long d = dims.values[k];
            if (d < 0 || d > Integer.MAX_VALUE) {
                throw new ModelFileException(where + ": " + label + " has dimension " + d + " in shape " + Arrays.toString(dims.toArray()));
            }
            shape[k] = (int) d;
        }
        DType dtype = dtype(dataType);
        if (dtype == null) {
            return new Decoded(name, null, typeName(dataType) + " tensors are not read");
        }
        if (external) {
            throw new ModelFileException(where + ": " + label + " keeps its data in an external file; "
                    + "bertj reads only self-contained .onnx files (re-save the model without external data)");
        }
        long numel;
        try {
            numel = Tensor.numel(shape);
        } catch (ArithmeticException e) {
            throw new ModelFileException(where + ": " + label + " has shape " + Arrays.toString(shape) + ", too large to hold");
        }
        long bytes = numel * dtype.bytes();
        if (bytes > Integer.MAX_VALUE) {
            throw new ModelFileException(where + ": " + label + " has shape " + Arrays.toString(shape) + ", too large to hold");
        }
        ByteBuffer data;
        if (raw != null) {
            if (raw.remaining() != bytes) {
                throw new ModelFileException(where + ": " + label + " of type " + typeName(dataType) + " and shape "
                        + Arrays.toString(shape) + " needs " + bytes + " bytes of raw_data, the file has " + raw.remaining());
            }
            data = raw;
        } else {
            data = ByteBuffer.allocate((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
            long count;
            switch (dtype) {
                case F32 -> {
                    count = floats == null ? 0 : floats.size;
                    if (count == numel) for (int k = 0; k < count; k++) data.putFloat(floats.values[k]);
                }
                case F64 -> {
                    count = doubles == null ? 0 : doubles.size();
                    if (count == numel) for (double d : doubles) data.putDouble(d);
                }
                case I64 -> {
                    count = int64s == null ? 0 : int64s.size;
                    if (count == numel) for (int k = 0; k < count; k++) data.putLong(int64s.values[k]);
                }
                case I32 -> {
                    count = int32s == null ? 0 : int32s.size;
                    if (count == numel) for (int k = 0; k < count; k++) data.putInt((int) int32s.values[k]);
                }
                case F16, BF16 -> {
                    count = int32s == null ? 0 : int32s.size;
                    if (count == numel) for (int k = 0; k < count; k++) data.putShort((short) int32s.values[k]);
                }
                default -> throw new IllegalStateException(dtype.toString());
            }
            if (count != numel) {
                throw new ModelFileException(where + ": " + label + " of type " + typeName(dataType) + " and shape "
                        + Arrays.toString(shape) + " holds " + count + " values, expected " + numel);
            }
            data.flip();
        }
        return new Decoded(name, new Tensor(dtype, shape, data), null);
    }

    /** A growable long array (boxing 10⁶ values would be wasteful). */
    private static final class LongList {
        long[] values = new long[8];
        int size;

        void add(long v) {
            if (size == values.length) values = Arrays.copyOf(values, size * 2);
            values[size++] = v;
        }

        long[] toArray() {
            return Arrays.copyOf(values, size);
        }
    }

    private static final class FloatList {
        float[] values = new float[8];
        int size;

        void add(float v) {
            if (size == values.length) values = Arrays.copyOf(values, size * 2);
            values[size++] = v;
        }
    }
}
