package bertj.model;

import bertj.readers.DType;
import bertj.readers.ModelFileException;
import bertj.readers.OnnxFile;
import bertj.readers.Tensor;
import bertj.testing.Cli;
import bertj.testing.MiniLm;
import bertj.testing.OnnxWriter;
import bertj.testing.OnnxWriter.Graph;
import bertj.testing.OnnxWriter.Msg;
import bertj.testing.PyTorch;
import bertj.testing.RandomBert;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** ONNX import: the real all-MiniLM-L6-v2, BERT graphs written by the tests, and files that must be refused. */
class OnnxImportTest {
    @TempDir
    Path dir;

    @Test
    void realMiniLmMapsEveryMatMulWeightThroughItsNode() throws Exception {
        OnnxFile.Model onnx = OnnxFile.read(MiniLm.onnx());
        assertEquals(11L, onnx.opsets().get(""));
        assertEquals(List.of("input_ids", "attention_mask", "token_type_ids"), onnx.inputs());
        assertEquals(List.of("last_hidden_state"), onnx.outputs());
        long generated = onnx.initializers().keySet().stream().filter(k -> k.startsWith("onnx::MatMul_")).count();
        assertEquals(36, generated, "6 layers x 6 linear layers stored as onnx::MatMul_NNN");

        LoadedModel m = ModelLoader.load(Path.of("minilm"));
        BertConfig c = m.config();
        assertEquals(new BertConfig(30522, 384, 6, 12, 1536, 512, 2, 1e-12, GeluForm.ERF), c);
        assertTrue(m.configFrom().contains("ONNX graph") && m.configFrom().contains("12 heads of 32"), m.configFrom());
        assertTrue(m.geluFrom().contains("Erf"), m.geluFrom());
        assertFalse(m.weights().hasQaHead());
        assertNull(m.weights().pooler());
        assertEquals("all-minilm-l6-v2-tokenizer.json", m.vocab().getFileName().toString());
        assertTrue(m.tensors().stream().anyMatch(t -> t.sourceName().matches("onnx::MatMul_\\d+ \\(transposed\\)")
                && "encoder.layer.0.attention.self.query.weight".equals(t.canonicalName())), "info names the file's tensor");

        // Each linear weight is the transpose of the initializer its MatMul node consumes: W[o][i] = stored[i][o].
        Map<String, String> weightOfNode = new LinkedHashMap<>();
        for (OnnxFile.Node n : onnx.nodes()) {
            if (n.opType().equals("MatMul") && onnx.initializers().containsKey(n.inputs().get(1))) {
                weightOfNode.put(n.name(), n.inputs().get(1));
            }
        }
        assertEquals(36, weightOfNode.size());
        Random r = new Random(PyTorch.seed("minilm transpose spot checks"));
        Map<String, Tensor> canonical = m.weights().canonicalTensors();
        for (Map.Entry<String, String> e : weightOfNode.entrySet()) {
            String module = e.getKey().substring(1, e.getKey().lastIndexOf('/')).replace('/', '.');
            Tensor ours = canonical.get(module + ".weight");
            Tensor stored = onnx.initializers().get(e.getValue());
            assertArrayEquals(new int[] {stored.dim(1), stored.dim(0)}, ours.shape(), module);
            float[] a = ours.toFloats(), b = stored.toFloats();
            for (int k = 0; k < 50; k++) {
                int o = r.nextInt(ours.dim(0)), i = r.nextInt(ours.dim(1));
                assertEquals(b[i * stored.dim(1) + o], a[o * ours.dim(1) + i], module + "[" + o + "][" + i + "]");
            }
        }
    }

    // ---- BERT graphs written by the test ----

    /** Options for the test's BERT export. */
    record Export(boolean rawData, boolean headsReshape, boolean gemmForKey, UnaryOperator<String> rename) {
        static Export plain() {
            return new Export(true, true, false, UnaryOperator.identity());
        }
    }

    /** "encoder.layer.1.attention.self.query" → "/encoder/layer.1/attention/self/query" (the exporter's scope). */
    static String scope(String module) {
        return "/" + module.replace('.', '/').replaceAll("/layer/(\\d+)/", "/layer.$1/");
    }

    static byte[] export(Map<String, Tensor> canonical, BertConfig c, Export x) {
        Graph g = new Graph();
        int k = 700;
        boolean alt = false;
        for (Map.Entry<String, Tensor> e : canonical.entrySet()) {
            String name = e.getKey();
            Tensor t = e.getValue();
            String module = name.substring(0, name.length() - ".weight".length());
            boolean linear = name.endsWith(".weight") && t.rank() == 2 && !name.startsWith("embeddings.");
            if (!linear) {
                g.initializer(OnnxWriter.tensor(x.rename().apply(name), t, x.rawData() || (alt = !alt)));
                continue;
            }
            String init = "onnx::MatMul_" + (k++);
            String input = module + "_in";
            if (x.gemmForKey() && module.endsWith("attention.self.key")) {
                g.initializer(OnnxWriter.tensor(init, t, true)); // Gemm with transB = 1 keeps [out, in]
                g.node(OnnxWriter.node(scope(module) + "/Gemm", "Gemm", List.of(input, init, x.rename().apply(module + ".bias")),
                        List.of(module + "_out"), OnnxWriter.intAttribute("transB", 1)));
                continue;
            }
            g.initializer(OnnxWriter.tensor(init, OnnxFormat.transpose(t), x.rawData()));
            g.node(OnnxWriter.node(x.rename().apply(scope(module) + "/MatMul"), "MatMul", List.of(input, init),
                    List.of(scope(module) + "/MatMul_output_0")));
            g.node(OnnxWriter.node(scope(module) + "/Add", "Add", List.of(module + ".bias", scope(module) + "/MatMul_output_0"),
                    List.of(scope(module) + "/Add_output_0")));
            if (x.headsReshape() && module.equals("encoder.layer.0.attention.self.query")) {
                // [batch, seq] from Shape/Gather at run time, then the constants [heads] and [head size].
                String s = "/encoder/layer.0/attention/self/";
                g.node(OnnxWriter.node(s + "Unsqueeze_4", "Unsqueeze", List.of("batch"), List.of(s + "Unsqueeze_4_output_0")));
                g.node(OnnxWriter.node(s + "Unsqueeze_5", "Unsqueeze", List.of("seq"), List.of(s + "Unsqueeze_5_output_0")));
                g.node(OnnxWriter.node(s + "Constant_10", "Constant", List.of(), List.of(s + "Constant_10_output_0"),
                        OnnxWriter.tensorAttribute("value", OnnxWriter.longs(c.numHeads()))));
                g.node(OnnxWriter.node(s + "Constant_11", "Constant", List.of(), List.of(s + "Constant_11_output_0"),
                        OnnxWriter.tensorAttribute("value", OnnxWriter.longs(c.headSize()))));
                g.node(OnnxWriter.node(s + "Concat_2", "Concat", List.of(s + "Unsqueeze_4_output_0", s + "Unsqueeze_5_output_0",
                        s + "Constant_10_output_0", s + "Constant_11_output_0"), List.of(s + "Concat_2_output_0")));
                g.node(OnnxWriter.node(s + "Reshape_2", "Reshape", List.of(scope(module) + "/Add_output_0", s + "Concat_2_output_0"),
                        List.of(s + "Reshape_2_output_0")));
            }
        }
        g.node(OnnxWriter.node("/encoder/layer.0/intermediate/intermediate_act_fn/Erf", "Erf", List.of("a"), List.of("b")));
        g.node(OnnxWriter.node("/embeddings/LayerNorm/Constant_1", "Constant", List.of(), List.of("/embeddings/LayerNorm/Constant_1_output_0"),
                OnnxWriter.tensorAttribute("value", OnnxWriter.scalar(1e-12f))));
        g.node(OnnxWriter.node("/embeddings/LayerNorm/Add", "Add", List.of("var", "/embeddings/LayerNorm/Constant_1_output_0"), List.of("v")));
        return g.model();
    }

    private Path write(String name, byte[] bytes) throws Exception {
        Path p = dir.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    private static void assertSameTensors(Map<String, Tensor> expected, Map<String, Tensor> actual) {
        assertEquals(expected.keySet(), actual.keySet());
        for (String n : expected.keySet()) {
            assertArrayEquals(expected.get(n).shape(), actual.get(n).shape(), n);
            ByteBuffer a = expected.get(n).bytes(), b = actual.get(n).bytes();
            assertEquals(a, b, n + ": bytes differ");
        }
    }

    @Test
    void bertGraphRoundTripsBitExactly() throws Exception {
        long seed = PyTorch.seed("onnx round trip");
        BertConfig c = RandomBert.TINY; // hidden 32: no preset, so the head count must come from the graph
        Map<String, Tensor> t = RandomBert.tensors(c, seed);
        for (Export x : List.of(Export.plain(), new Export(false, true, true, UnaryOperator.identity()))) {
            Path f = write("tiny.onnx", export(t, c, x));
            LoadedModel m = ModelLoader.load(f);
            assertEquals("onnx", m.format());
            assertEquals(c, m.config());
            assertTrue(m.configFrom().contains("Reshape_2 splits the query into 4 heads of 8"), m.configFrom());
            assertSameTensors(t, m.weights().canonicalTensors());
            assertTrue(m.warnings().isEmpty(), m.warnings().toString());
        }
    }

    @Test
    void bertForQuestionAnsweringScopesAreMappedToo() throws Exception {
        Map<String, Tensor> t = RandomBert.tensors(RandomBert.TINY, PyTorch.seed("onnx bert. prefix"));
        UnaryOperator<String> prefix = n -> n.startsWith("/qa_outputs") || n.startsWith("qa_outputs") ? n
                : n.startsWith("/") ? "/bert" + n : "bert." + n;
        LoadedModel m = ModelLoader.load(write("qa.onnx", export(t, RandomBert.TINY, new Export(true, true, false, prefix))));
        assertTrue(m.weights().hasQaHead());
        assertSameTensors(t, m.weights().canonicalTensors());
    }

    @Test
    void headCountIsNeverGuessed() throws Exception {
        Map<String, Tensor> t = RandomBert.tensors(RandomBert.TINY, PyTorch.seed("onnx no reshape"));
        Path f = write("noheads.onnx", export(t, RandomBert.TINY, new Export(true, false, false, UnaryOperator.identity())));
        var e = assertThrows(ModelFileException.class, () -> ModelLoader.load(f));
        assertTrue(e.getMessage().contains("cannot tell the number of attention heads") && e.getMessage().contains("--heads"), e.getMessage());
        LoadedModel m = ModelLoader.load(f, new ModelLoader.Options(null, 4, null));
        assertEquals(4, m.config().numHeads());
        assertTrue(m.configFrom().contains("--heads 4"), m.configFrom());
    }

    /** Issue 9 item 4: --heads applies only where nothing else tells; a value that contradicts the graph is refused. */
    @Test
    void headsThatContradictTheGraphOrItsConfigAreRefused() throws Exception {
        Map<String, Tensor> t = RandomBert.tensors(RandomBert.TINY, PyTorch.seed("onnx heads contradiction"));
        Path f = write("heads.onnx", export(t, RandomBert.TINY, Export.plain()));
        var e = assertThrows(ModelFileException.class, () -> ModelLoader.load(f, new ModelLoader.Options(null, 2, null)));
        assertTrue(e.getMessage().contains("--heads 2 contradicts the model") && e.getMessage().contains("4 heads of 8"), e.getMessage());
        assertEquals(4, ModelLoader.load(f, new ModelLoader.Options(null, 4, null)).config().numHeads(), "a --heads that agrees");
        // a config.json that disagrees with the graph: neither --heads value can make both right
        Path cfg = dir.resolve("heads-config.json");
        java.nio.file.Files.writeString(cfg, "{\"vocab_size\": 100, \"hidden_size\": 32, \"num_hidden_layers\": 2, \"num_attention_heads\": 2,"
                + " \"intermediate_size\": 64, \"max_position_embeddings\": 16}");
        for (Integer heads : new Integer[] {null, 2, 4}) {
            var c = assertThrows(ModelFileException.class, () -> ModelLoader.load(f, new ModelLoader.Options(null, heads, cfg)));
            assertTrue(c.getMessage().contains("contradicts") || c.getMessage().contains("says 2 attention heads but the model's graph uses 4"),
                    heads + ": " + c.getMessage());
        }
    }

    // ---- files that must be refused, each with a sentence that names the problem ----

    private String refused(Path f) {
        var e = assertThrows(ModelFileException.class, () -> ModelLoader.load(f));
        Cli.Result r = Cli.run("info", "--model", f.toString());
        assertEquals(1, r.code(), r.err());
        assertEquals(1, r.errLines().length, "one line, no stack trace: " + r.err());
        assertTrue(r.err().startsWith("bertj: " + f), r.err());
        return e.getMessage();
    }

    @Test
    void unrelatedOnnxModelIsRefused() throws Exception {
        Graph g = new Graph().initializer(OnnxWriter.tensor("fc.weight", RandomBert.normal(new Random(1), 1, 4, 4), true))
                .node(OnnxWriter.node("/fc/MatMul", "MatMul", List.of("x", "fc.weight"), List.of("y")));
        String msg = refused(write("resnet.onnx", g.model()));
        assertTrue(msg.contains("not a BERT encoder") && msg.contains("embeddings.word_embeddings.weight"), msg);
    }

    @Test
    void damagedFilesAreRefused() throws Exception {
        byte[] good = export(RandomBert.tensors(RandomBert.TINY, 7), RandomBert.TINY, Export.plain());
        String msg = refused(write("truncated.onnx", Arrays.copyOf(good, good.length / 2)));
        assertTrue(msg.contains("not a valid ONNX file") && msg.contains("cut short"), msg);

        byte[] noise = new byte[4096];
        new Random(PyTorch.seed("onnx noise")).nextBytes(noise);
        msg = refused(write("noise.onnx", noise));
        assertTrue(msg.contains("ONNX"), msg);

        byte[] longVarint = new byte[16];
        longVarint[0] = 0x08;
        Arrays.fill(longVarint, 1, 16, (byte) 0xff);
        msg = refused(write("varint.onnx", longVarint));
        assertTrue(msg.contains("varint"), msg);

        msg = refused(write("nograph.onnx", new Msg().varint(1, 7).string(2, "x").toBytes()));
        assertTrue(msg.contains("not an ONNX model: no graph"), msg);
    }

    @Test
    void realModelCutShortIsRefused() throws Exception {
        byte[] head;
        try (InputStream in = Files.newInputStream(MiniLm.onnx())) {
            head = in.readNBytes(3 << 20);
        }
        String msg = refused(write("cut.onnx", head));
        assertTrue(msg.contains("not a valid ONNX file") && msg.contains("cut short"), msg);
    }

    @Test
    void inconsistentTensorsAreRefused() throws Exception {
        Tensor w = RandomBert.normal(new Random(2), 1, 3, 4);
        ByteBuffer shortData = w.bytes().limit(40);
        Msg bad = new Msg().packedVarints(1, 3, 4).varint(2, 1).string(8, "embeddings.word_embeddings.weight").bytes(9, bytesOf(shortData));
        String msg = refused(write("short.onnx", new Graph().initializer(bad).model()));
        assertTrue(msg.contains("needs 48 bytes of raw_data, the file has 40"), msg);

        Msg external = new Msg().packedVarints(1, 3, 4).varint(2, 1).string(8, "embeddings.word_embeddings.weight").varint(14, 1);
        msg = refused(write("external.onnx", new Graph().initializer(external).model()));
        assertTrue(msg.contains("external file"), msg);

        Msg int8 = new Msg().packedVarints(1, 3, 4).varint(2, 3).string(8, "embeddings.word_embeddings.weight").bytes(9, new byte[12]);
        msg = refused(write("int8.onnx", new Graph().initializer(int8).model()));
        assertTrue(msg.contains("INT8") && msg.contains("quantized"), msg);
    }

    @Test
    void matMulWeightsNeedScopedNodeNames() throws Exception {
        Map<String, Tensor> t = RandomBert.tensors(RandomBert.TINY, PyTorch.seed("onnx unscoped"));
        UnaryOperator<String> unscoped = n -> n.endsWith("attention/self/value/MatMul") ? "MatMul_12" : n;
        String msg = refused(write("unscoped.onnx", export(t, RandomBert.TINY, new Export(true, true, false, unscoped))));
        assertTrue(msg.contains("'MatMul_12', whose name does not tell which BERT weight it is"), msg);
    }

    @Test
    void missingTensorsAreNamed() throws Exception {
        Map<String, Tensor> t = new LinkedHashMap<>(RandomBert.tensors(RandomBert.TINY, PyTorch.seed("onnx missing")));
        t.remove("encoder.layer.1.output.LayerNorm.bias");
        String msg = refused(write("missing.onnx", export(t, RandomBert.TINY, Export.plain())));
        assertTrue(msg.contains("missing tensors: encoder.layer.1.output.LayerNorm.bias"), msg);
    }

    private static byte[] bytesOf(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }

    @Test
    void float16WeightsAreRead() throws Exception {
        Map<String, Tensor> t = new LinkedHashMap<>(RandomBert.tensors(RandomBert.TINY, PyTorch.seed("onnx fp16")));
        Tensor word = t.get(TensorNames.WORD_EMBEDDINGS);
        float[] f = word.toFloats();
        ByteBuffer half = ByteBuffer.allocate(f.length * 2).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (float v : f) half.putShort(Float.floatToFloat16(v));
        t.put(TensorNames.WORD_EMBEDDINGS, new Tensor(DType.F16, word.shape(), half.flip()));
        LoadedModel m = ModelLoader.load(write("fp16.onnx", export(t, RandomBert.TINY, Export.plain())));
        assertEquals(DType.F16, m.weights().embeddings().word().dtype());
        assertSameTensors(t, m.weights().canonicalTensors());
    }
}
