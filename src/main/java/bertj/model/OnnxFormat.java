package bertj.model;

import bertj.readers.ModelFileException;
import bertj.readers.OnnxFile;
import bertj.readers.OnnxFile.Node;
import bertj.readers.Tensor;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * BERT weights out of an ONNX export of a Hugging Face BertModel / BertFor… (PyTorch's {@code torch.onnx.export}).
 *
 * <p>Initializers keep their module names ({@code encoder.layer.0.attention.self.query.bias}, …) with one
 * exception: the exporter turns each {@code nn.Linear} into {@code MatMul(x, Wᵀ)} + {@code Add(b)} and stores
 * Wᵀ, shape [in, out], under a generated name such as {@code onnx::MatMul_787}. The MatMul node that consumes it
 * still carries the module's scope, {@code /encoder/layer.0/attention/self/query/MatMul}, so the weight is named
 * after that node ({@code encoder.layer.0.attention.self.query.weight}) and transposed back to PyTorch's
 * [out, in]. A {@code Gemm} consumer is read the same way, transposed unless its transB is 1.
 *
 * <p>The graph also states what tensor shapes cannot: the number of attention heads (the Reshape that splits
 * layer 0's query into [batch, seq, heads, headSize]), the GELU form (Erf or Tanh nodes in the intermediate
 * block) and LayerNorm's ε (the constant added to the variance). These are reported as {@link ModelLoader.GraphFacts}.
 */
final class OnnxFormat implements ModelLoader.FormatReader {

    @Override
    public String name() {
        return "onnx";
    }

    @Override
    public boolean accepts(Path file) throws IOException {
        Path name = file.getFileName();
        return (name != null && name.toString().toLowerCase(Locale.ROOT).endsWith(".onnx")) || OnnxFile.looksLike(file);
    }

    @Override
    public Map<String, Tensor> read(Path file) {
        return readModel(file).tensors();
    }

    @Override
    public ModelLoader.Read readModel(Path file) {
        String where = file.toString();
        return fromGraph(OnnxFile.read(file), where);
    }

    /** Maps a parsed ONNX model to BERT tensor names and graph facts. */
    static ModelLoader.Read fromGraph(OnnxFile.Model m, String where) {
        Graph g = new Graph(m);
        Map<String, Tensor> out = new LinkedHashMap<>();
        Map<String, String> sourceOf = new HashMap<>();
        Map<String, String> fileNames = new HashMap<>();
        for (Map.Entry<String, Tensor> e : m.initializers().entrySet()) {
            String name = e.getKey();
            Tensor t = e.getValue();
            String module = null;
            boolean transpose = false;
            Node first = null;
            for (Node n : g.consumers(name)) {
                boolean matmul = n.opType().equals("MatMul") && n.inputs().size() == 2 && n.inputs().get(1).equals(name);
                boolean gemm = n.opType().equals("Gemm") && n.inputs().size() >= 2 && n.inputs().get(1).equals(name);
                if (!matmul && !gemm) continue;
                String mod = moduleOf(n.name());
                if (mod == null) {
                    throw new ModelFileException(where + ": initializer '" + name + "' is the weight of " + n.opType() + " node '"
                            + n.name() + "', whose name does not tell which BERT weight it is (expected a scope such as "
                            + "/encoder/layer.0/attention/self/query/MatMul, as PyTorch 2 exports name them)");
                }
                boolean tr = matmul || !isTrue(n, "transB");
                if (first != null && (!mod.equals(module) || tr != transpose)) {
                    throw new ModelFileException(where + ": initializer '" + name + "' is the weight of both '" + first.name()
                            + "' and '" + n.name() + "'; a BERT weight belongs to one module");
                }
                first = n;
                module = mod;
                transpose = tr;
            }
            String key = name;
            if (module != null) {
                key = module + ".weight";
                if (!name.startsWith("onnx::") && !TensorNames.canonical(name).equals(TensorNames.canonical(key))) {
                    throw new ModelFileException(where + ": initializer '" + name + "' is the weight of node '" + first.name()
                            + "', which belongs to " + key + "; the file's names contradict each other");
                }
                if (t.rank() != 2) {
                    throw new ModelFileException(where + ": initializer '" + name + "' (" + key + ") has shape "
                            + Arrays.toString(t.shape()) + "; a linear layer's weight is a matrix");
                }
                if (transpose) t = transpose(t);
                fileNames.put(key, name + (transpose ? " (transposed)" : ""));
            }
            if (out.containsKey(key)) {
                throw new ModelFileException(where + ": initializers '" + sourceOf.get(key) + "' and '" + name + "' are both " + key);
            }
            out.put(key, t);
            sourceOf.put(key, name);
        }
        boolean bert = false;
        for (String k : out.keySet()) bert |= TensorNames.canonical(k).equals(TensorNames.WORD_EMBEDDINGS);
        if (!bert) {
            String reason = "it has no initializer " + TensorNames.WORD_EMBEDDINGS + " (nor bert." + TensorNames.WORD_EMBEDDINGS + ")";
            for (Map.Entry<String, String> u : m.unread().entrySet()) {
                if (TensorNames.canonical(u.getKey()).equals(TensorNames.WORD_EMBEDDINGS)) {
                    reason = "its word-embedding table '" + u.getKey() + "' is unreadable: " + u.getValue()
                            + " (quantized ONNX models are not supported; export in float32)";
                }
            }
            throw new ModelFileException(where + ": an ONNX model (" + (m.producer().isEmpty() ? "unknown producer" : "from " + m.producer())
                    + ", " + m.nodes().size() + " nodes, " + (m.initializers().size() + m.unread().size())
                    + " initializers) but not a BERT encoder this loader can read: " + reason);
        }
        for (Map.Entry<String, String> u : m.unread().entrySet()) {
            String c = TensorNames.canonical(u.getKey());
            if (c.startsWith("embeddings.") || c.startsWith("encoder.") || c.startsWith("pooler.") || c.startsWith("qa_outputs.")) {
                throw new ModelFileException(where + ": initializer '" + u.getKey() + "': " + u.getValue()
                        + " (quantized ONNX models are not supported; export in float32)");
            }
        }
        return new ModelLoader.Read(out, facts(g, out, where), fileNames);
    }

    private static final Pattern LINEAR_OP = Pattern.compile("(MatMul|Gemm)(_\\d+)?");

    /** "/encoder/layer.0/attention/self/query/MatMul" → "encoder.layer.0.attention.self.query"; null when not a scope. */
    static String moduleOf(String nodeName) {
        if (nodeName == null || !nodeName.startsWith("/")) return null;
        String[] parts = nodeName.substring(1).split("/");
        if (parts.length < 2 || !LINEAR_OP.matcher(parts[parts.length - 1]).matches()) return null;
        for (int i = 0; i < parts.length - 1; i++) {
            if (parts[i].isEmpty()) return null;
        }
        return String.join(".", Arrays.asList(parts).subList(0, parts.length - 1));
    }

    private static boolean isTrue(Node n, String attribute) {
        OnnxFile.Attribute a = n.attributes().get(attribute);
        return a != null && a.i() != null && a.i() != 0;
    }

    /** [rows, cols] → [cols, rows], for any element width; made when first read (see Tensor.transposed). */
    static Tensor transpose(Tensor t) {
        return Tensor.transposed(t);
    }

    // ---- what the graph states beyond the tensors ----

    private static ModelLoader.GraphFacts facts(Graph g, Map<String, Tensor> tensors, String where) {
        Integer heads = null;
        String headsFrom = null;
        Tensor word = null;
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            if (TensorNames.canonical(e.getKey()).equals(TensorNames.WORD_EMBEDDINGS)) word = e.getValue();
        }
        int hidden = word != null && word.rank() == 2 ? word.dim(1) : -1;
        for (Node n : g.nodes) {
            String mod = moduleOf(n.name());
            if (mod == null || !TensorNames.canonical(mod + ".weight").equals(TensorNames.layer(0, "attention.self.query") + ".weight")) continue;
            Node reshape = g.reshapeAfter(n.outputs().isEmpty() ? null : n.outputs().get(0));
            if (reshape == null) continue;
            long[] shape = g.shapeOf(reshape.inputs().get(1));
            if (shape == null || shape.length != 4 || hidden <= 0) continue;
            long h = shape[2], d = shape[3];
            if (h == Long.MIN_VALUE || d == Long.MIN_VALUE) continue; // computed at run time: the graph does not say
            if (h == -1 && d > 0 && hidden % d == 0) h = hidden / d;
            if (d == -1 && h > 0 && hidden % h == 0) d = hidden / h;
            if (h <= 0 || d <= 0 || h * d != hidden) {
                throw new ModelFileException(where + ": node '" + reshape.name() + "' splits the query into " + shape[2]
                        + " heads of " + shape[3] + ", which does not match hidden size " + hidden);
            }
            heads = (int) h;
            headsFrom = "ONNX graph: " + reshape.name() + " splits the query into " + h + " heads of " + d;
            break;
        }

        GeluForm gelu = null;
        String geluFrom = null;
        for (Node n : g.nodes) {
            if (!n.name().contains("/intermediate/")) continue;
            GeluForm f = switch (n.opType()) {
                case "Erf", "BiasGelu" -> GeluForm.ERF;
                case "Tanh", "FastGelu" -> GeluForm.TANH;
                case "Gelu" -> {
                    OnnxFile.Attribute a = n.attributes().get("approximate");
                    yield a != null && "tanh".equals(a.s()) ? GeluForm.TANH : GeluForm.ERF;
                }
                default -> null;
            };
            if (f == null) continue;
            if (gelu != null && gelu != f) {
                throw new ModelFileException(where + ": the graph computes GELU both with erf and with tanh (" + geluFrom
                        + ", " + n.name() + "); pass --gelu erf|tanh to choose");
            }
            if (gelu == null) geluFrom = "ONNX graph: " + n.opType() + " node " + n.name();
            gelu = f;
        }

        Double eps = null;
        String epsFrom = null;
        for (Node n : g.nodes) {
            Float e = null;
            if (n.opType().equals("LayerNormalization")) {
                OnnxFile.Attribute a = n.attributes().get("epsilon");
                e = a != null && a.f() != null ? a.f() : 1e-5f; // the operator's documented default
            } else if (n.opType().equals("Add") && n.name().matches(".*/LayerNorm/Add") && n.inputs().size() == 2) {
                // LayerNorm unrolled: (x − mean) / Sqrt(Add(ReduceMean((x − mean)²), ε)).
                for (String in : n.inputs()) {
                    Tensor c = g.constant(in);
                    if (c != null && c.numel() == 1 && c.dtype().isFloating()) e = (float) c.toDoubles()[0];
                }
            }
            if (e == null) continue;
            if (!(e > 0 && e < 1)) {
                throw new ModelFileException(where + ": node '" + n.name() + "' gives LayerNorm an epsilon of " + e
                        + "; it must lie in (0, 1)");
            }
            // The graph holds ε in float32; its shortest decimal form (1.0E-12) is the value the model was built with.
            eps = Double.parseDouble(Float.toString(e));
            epsFrom = "ONNX graph: " + n.name();
            break;
        }
        if (heads == null && gelu == null && eps == null) return null;
        return new ModelLoader.GraphFacts(heads, headsFrom, gelu, geluFrom, eps, epsFrom);
    }

    /** Lookups over the node list. */
    private static final class Graph {
        final List<Node> nodes;
        final Map<String, Tensor> initializers;
        final Map<String, List<Node>> consumers = new HashMap<>();
        final Map<String, Node> producer = new HashMap<>();

        Graph(OnnxFile.Model m) {
            nodes = m.nodes();
            initializers = m.initializers();
            for (Node n : nodes) {
                for (String in : n.inputs()) consumers.computeIfAbsent(in, k -> new ArrayList<>()).add(n);
                for (String out : n.outputs()) producer.put(out, n);
            }
        }

        List<Node> consumers(String value) {
            return consumers.getOrDefault(value, List.of());
        }

        /** The Reshape reached from {@code value} through at most a few Adds (the bias), or null. */
        Node reshapeAfter(String value) {
            for (int hop = 0; value != null && hop < 4; hop++) {
                String next = null;
                for (Node c : consumers(value)) {
                    if (c.opType().equals("Reshape") && c.inputs().size() == 2 && c.inputs().get(0).equals(value)) return c;
                    if (c.opType().equals("Add") && !c.outputs().isEmpty()) next = c.outputs().get(0);
                }
                value = next;
            }
            return null;
        }

        /** The value of an initializer or Constant node output, or null when it is computed at run time. */
        Tensor constant(String value) {
            Tensor t = initializers.get(value);
            if (t != null) return t;
            Node p = producer.get(value);
            if (p != null && p.opType().equals("Constant")) {
                OnnxFile.Attribute a = p.attributes().get("value");
                return a == null ? null : a.t();
            }
            return null;
        }

        /**
         * A Reshape's target shape: a constant, or a Concat of pieces of which some are computed (batch and
         * sequence length, taken from the input's Shape) and some constant. Unknown pieces are MIN_VALUE.
         */
        long[] shapeOf(String value) {
            Tensor c = constant(value);
            if (c != null) return integers(c);
            Node p = producer.get(value);
            if (p == null || !p.opType().equals("Concat")) return null;
            List<Long> parts = new ArrayList<>();
            for (String in : p.inputs()) {
                Tensor piece = constant(in);
                long[] v = piece == null ? null : integers(piece);
                if (v == null) parts.add(Long.MIN_VALUE); // one computed dimension (Unsqueeze of a Gather of Shape)
                else for (long x : v) parts.add(x);
            }
            return parts.stream().mapToLong(Long::longValue).toArray();
        }

        private static long[] integers(Tensor t) {
            return t.dtype().isFloating() ? null : t.toLongs();
        }
    }
}
