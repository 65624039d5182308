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
 *
 * <p>What a parse builds is bounded, because every record costs far more memory than the bytes that describe it
 * (an empty NodeProto is 2 bytes and a Java node a few hundred): at most {@link #MAX_ITEMS} nodes, attributes,
 * names, initializers and opsets; at most {@link #MAX_TYPED_VALUES} values per tensor outside raw_data; rank at
 * most {@link #MAX_RANK}. A tensor's data is checked against its shape before anything is allocated for it.
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
    /** Nodes, attributes, node and graph input/output names, initializers and opsets: a 7B LLM export has about 10⁵. */
    static final int MAX_ITEMS = 1_000_000;
    /** Values of one tensor in float_data, int32_data, int64_data or double_data; exporters put weights in raw_data. */
    static final int MAX_TYPED_VALUES = 1 << 24;
    static final int MAX_RANK = 8;

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
        Budget budget = new Budget(where);
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
                    budget.item();
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
                case 1 -> nodes.add(node(graph.message(), where, budget));
                case 5 -> {
                    budget.item();
                    Decoded t = tensor(graph.message(), where);
                    if (t.name.isEmpty()) throw graph.error("an initializer has no name");
                    if (initializers.containsKey(t.name) || unread.containsKey(t.name)) {
                        throw new ModelFileException(where + ": two initializers are both named '" + t.name + "'");
                    }
                    if (t.tensor != null) initializers.put(t.name, t.tensor);
                    else unread.put(t.name, t.unreadReason);
                }
                case 11 -> {
                    budget.item();
                    inputs.add(valueInfoName(graph.message()));
                }
                case 12 -> {
                    budget.item();
                    outputs.add(valueInfoName(graph.message()));
                }
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

    private static Node node(ProtoReader n, String where, Budget budget) {
        budget.item();
        List<String> in = new ArrayList<>(), out = new ArrayList<>();
        String name = "", op = "";
        Map<String, Attribute> attrs = new LinkedHashMap<>();
        while (n.next()) {
            switch (n.field()) {
                case 1 -> {
                    budget.item();
                    in.add(n.string());
                }
                case 2 -> {
                    budget.item();
                    out.add(n.string());
                }
                case 3 -> name = n.string();
                case 4 -> op = n.string();
                case 5 -> {
                    budget.item();
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
                    if (ints == null) ints = new LongList(MAX_TYPED_VALUES, typed(where, "an attribute's ints"));
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
        LongList dims = new LongList(MAX_RANK, where + ": a tensor has more than " + MAX_RANK + " dimensions");
        int dataType = 0;
        String name = "";
        ByteBuffer raw = null;
        boolean external = false;
        LongList int64s = null, int32s = null;
        FloatList floats = null;
        DoubleList doubles = null;
        while (r.next()) {
            switch (r.field()) {
                case 1 -> r.int64s(dims::add);
                case 2 -> dataType = (int) r.int64();
                case 4 -> {
                    if (floats == null) floats = new FloatList(where);
                    r.floats(floats::add);
                }
                case 5 -> {
                    if (int32s == null) int32s = new LongList(MAX_TYPED_VALUES, typed(where, "a tensor's int32_data"));
                    r.int64s(int32s::add);
                }
                case 7 -> {
                    if (int64s == null) int64s = new LongList(MAX_TYPED_VALUES, typed(where, "a tensor's int64_data"));
                    r.int64s(int64s::add);
                }
                case 8 -> name = r.string();
                case 9 -> raw = r.bytes();
                case 10 -> {
                    if (doubles == null) doubles = new DoubleList(where);
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
            long count = switch (dtype) {
                case F32 -> floats == null ? 0 : floats.size;
                case F64 -> doubles == null ? 0 : doubles.size;
                case I64 -> int64s == null ? 0 : int64s.size;
                case I32, F16, BF16 -> int32s == null ? 0 : int32s.size;
            };
            // The values must be there before their room is allocated: a shape alone may claim gigabytes.
            if (count != numel) {
                throw new ModelFileException(where + ": " + label + " of type " + typeName(dataType) + " and shape "
                        + Arrays.toString(shape) + " holds " + count + " values, expected " + numel);
            }
            data = ByteBuffer.allocate((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
            switch (dtype) {
                case F32 -> {
                    for (int k = 0; k < count; k++) data.putFloat(floats.values[k]);
                }
                case F64 -> {
                    for (int k = 0; k < count; k++) data.putDouble(doubles.values[k]);
                }
                case I64 -> {
                    for (int k = 0; k < count; k++) data.putLong(int64s.values[k]);
                }
                case I32 -> {
                    for (int k = 0; k < count; k++) data.putInt((int) int32s.values[k]);
                }
                case F16, BF16 -> {
                    for (int k = 0; k < count; k++) data.putShort((short) int32s.values[k]);
                }
            }
            data.flip();
        }
        return new Decoded(name, new Tensor(dtype, shape, data), null);
    }

    /** Counts the graph items a parse builds against {@link #MAX_ITEMS}. */
    private static final class Budget {
        private final String where;
        private int items;

        Budget(String where) {
            this.where = where;
        }

        void item() {
            if (++items > MAX_ITEMS) {
                throw new ModelFileException(where + ": the graph has more than " + MAX_ITEMS
                        + " nodes, attributes, names and initializers, far more than a BERT export");
            }
        }
    }

    /** The message for a repeated field that holds more than {@link #MAX_TYPED_VALUES} values. */
    private static String typed(String where, String field) {
        return where + ": " + field + " holds more than " + MAX_TYPED_VALUES + " values; large tensors belong in raw_data";
    }

    /** A growable long array (boxing 10⁶ values would be wasteful) of at most {@code max} values. */
    private static final class LongList {
        private final int max;
        private final String tooMany;
        long[] values = new long[8];
        int size;

        LongList(int max, String tooMany) {
            this.max = max;
            this.tooMany = tooMany;
        }

        void add(long v) {
            if (size == max) throw new ModelFileException(tooMany);
            if (size == values.length) values = Arrays.copyOf(values, size * 2);
            values[size++] = v;
        }

        long[] toArray() {
            return Arrays.copyOf(values, size);
        }
    }

    private static final class FloatList {
        private final String where;
        float[] values = new float[8];
        int size;

        FloatList(String where) {
            this.where = where;
        }

        void add(float v) {
            if (size == MAX_TYPED_VALUES) throw new ModelFileException(typed(where, "a tensor's float_data"));
            if (size == values.length) values = Arrays.copyOf(values, size * 2);
            values[size++] = v;
        }
    }

    private static final class DoubleList {
        private final String where;
        double[] values = new double[8];
        int size;

        DoubleList(String where) {
            this.where = where;
        }

        void add(double v) {
            if (size == MAX_TYPED_VALUES) throw new ModelFileException(typed(where, "a tensor's double_data"));
            if (size == values.length) values = Arrays.copyOf(values, size * 2);
            values[size++] = v;
        }
    }
}
