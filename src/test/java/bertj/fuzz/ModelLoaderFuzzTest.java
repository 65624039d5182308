package bertj.fuzz;

import bertj.model.BertConfig;
import bertj.model.GeluForm;
import bertj.model.LoadedModel;
import bertj.model.ModelLoader;
import bertj.model.TensorNames;
import bertj.readers.DType;
import bertj.readers.ModelFileException;
import bertj.readers.Tensor;
import com.code_intelligence.jazzer.junit.DictionaryFile;
import com.code_intelligence.jazzer.junit.FuzzTest;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The loader on top of the readers ({@link ModelLoader#assemble}): name mapping (bert./module. prefixes, NVIDIA's
 * dense_act, gamma/beta), config from a config.json or from shapes plus --heads, the GELU decision, and the
 * presence, shape, dtype and finiteness checks. An input is a list of tensors — each a name (one of BERT's, in one
 * of its spellings, or any text), a dtype, a shape, and values that may hold a NaN or an infinity — plus, maybe, a
 * config.json and the --gelu/--heads options. Property: a model whose every tensor has the shape its config
 * implies, or {@link ModelFileException} with a one-line message.
 */
class ModelLoaderFuzzTest {
    /** Canonical names of a one-layer BERT with pooler and QA head, and two a loader drops silently. */
    static final List<String> NAMES = names();

    private static List<String> names() {
        List<String> n = new ArrayList<>(TensorNames.required(1));
        for (String m : List.of(TensorNames.POOLER, TensorNames.QA_OUTPUTS)) {
            n.add(m + ".weight");
            n.add(m + ".bias");
        }
        n.add("embeddings.position_ids");
        n.add("cls.predictions.bias");
        return List.copyOf(n);
    }

    static final DType[] DTYPES = DType.values();

    /** A name in one of the spellings checkpoints use: bit 0 bert., bit 1 module., bit 2 dense_act, bit 3 gamma/beta, bit 4 layer 1. */
    static String spell(String canonical, int how) {
        String k = canonical;
        if ((how & 16) != 0) k = k.replace("encoder.layer.0.", "encoder.layer.1.");
        if ((how & 4) != 0) k = k.replace("intermediate.dense.", "intermediate.dense_act.").replace("pooler.dense.", "pooler.dense_act.");
        if ((how & 8) != 0 && k.contains("LayerNorm.")) k = k.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta");
        if ((how & 1) != 0 && !k.startsWith("qa_outputs.")) k = "bert." + k;
        if ((how & 2) != 0) k = "module." + k;
        return k;
    }

    /** What an input says: tensors, config.json text (or null), options. */
    record Case(Map<String, Tensor> tensors, String config, ModelLoader.Options options) {
    }

    static Case decode(byte[] input) {
        FuzzInput in = new FuzzInput(input);
        int flags = in.u8();
        String config = (flags & 1) != 0 ? in.text() : null;
        GeluForm gelu = switch ((flags >> 1) & 3) {
            case 1 -> GeluForm.ERF;
            case 2 -> GeluForm.TANH;
            default -> null;
        };
        Integer heads = (flags & 8) != 0 ? 1 + in.u8() % 16 : null;
        int n = in.u8() % 64;
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (int i = 0; i < n && !in.atEnd(); i++) {
            int which = in.u8(), how = in.u8();
            String name = (how & 32) != 0 ? in.text() : spell(NAMES.get(which % NAMES.size()), how);
            DType dtype = DTYPES[in.u8() % DTYPES.length];
            int rank = in.u8() % 4;
            int[] shape = new int[rank];
            for (int d = 0; d < rank; d++) shape[d] = in.u8() % 16;
            int poison = in.u8();
            tensors.put(name, values(dtype, shape, i, poison));
        }
        return new Case(tensors, config, new ModelLoader.Options(gelu, heads, null));
    }

    /** Values drawn from a seed; poison (high bits: where) puts NaN, +∞ or −∞ at one element. */
    static Tensor values(DType dtype, int[] shape, long seed, int poison) {
        int n = (int) Tensor.numel(shape);
        Random r = new Random(seed);
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = r.nextGaussian();
        if (n > 0 && (poison & 3) != 0) v[(poison >> 2) % n] = new double[] {0, Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY}[poison & 3];
        ByteBuffer b = ByteBuffer.allocate(n * dtype.bytes()).order(ByteOrder.LITTLE_ENDIAN);
        for (double x : v) {
            switch (dtype) {
                case F64 -> b.putDouble(x);
                case F32 -> b.putFloat((float) x);
                case F16 -> b.putShort(Float.floatToFloat16((float) x));
                case BF16 -> b.putShort((short) (Float.floatToRawIntBits((float) x) >>> 16));
                case I64 -> b.putLong((long) x);
                case I32 -> b.putInt((int) x);
            }
        }
        return new Tensor(dtype, shape, b.flip());
    }

    /** The shapes of {@code c}'s tensors, canonical name → shape. */
    static Map<String, int[]> shapes(BertConfig c) {
        Map<String, int[]> s = new LinkedHashMap<>();
        int h = c.hiddenSize(), ff = c.intermediateSize();
        s.put(TensorNames.WORD_EMBEDDINGS, new int[] {c.vocabSize(), h});
        s.put(TensorNames.POSITION_EMBEDDINGS, new int[] {c.maxPositions(), h});
        s.put(TensorNames.TOKEN_TYPE_EMBEDDINGS, new int[] {c.typeVocabSize(), h});
        for (String name : TensorNames.required(c.numLayers())) {
            if (s.containsKey(name)) continue;
            boolean weight = name.endsWith(".weight");
            int[] shape;
            if (name.contains("LayerNorm")) shape = new int[] {h};
            else if (name.contains("intermediate.dense")) shape = weight ? new int[] {ff, h} : new int[] {ff};
            else if (name.contains(".output.dense") && !name.contains("attention")) shape = weight ? new int[] {h, ff} : new int[] {h};
            else shape = weight ? new int[] {h, h} : new int[] {h};
            s.put(name, shape);
        }
        s.put(TensorNames.POOLER + ".weight", new int[] {h, h});
        s.put(TensorNames.POOLER + ".bias", new int[] {h});
        s.put(TensorNames.QA_OUTPUTS + ".weight", new int[] {2, h});
        s.put(TensorNames.QA_OUTPUTS + ".bias", new int[] {2});
        return s;
    }

    /** What every loaded model must satisfy: each tensor has its config's shape, is floating point and finite. */
    static void checkLoaded(LoadedModel m) {
        BertConfig c = m.config();
        Map<String, int[]> want = shapes(c);
        for (Map.Entry<String, Tensor> e : m.weights().canonicalTensors().entrySet()) {
            Tensor t = e.getValue();
            if (!Arrays.equals(want.get(e.getKey()), t.shape())) {
                throw new AssertionError(e.getKey() + " loaded with shape " + Arrays.toString(t.shape()) + " under config " + c);
            }
            if (!t.dtype().isFloating()) throw new AssertionError(e.getKey() + " loaded as " + t.dtype());
            for (double x : t.toDoubles()) if (!Double.isFinite(x)) throw new AssertionError(e.getKey() + " loaded with " + x);
        }
        if (m.weights().layers().size() != c.numLayers()) throw new AssertionError("layers differ from the config");
        m.weights().layers().get(0).queryKeyValue();
    }

    static final String WHERE = "model.safetensors";

    static LoadedModel load(Case k) {
        Path config = k.config() == null ? null : ScratchFile.write("config.json", k.config().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        return ModelLoader.assemble(Path.of(WHERE), WHERE, "safetensors", k.tensors(), config, null, k.options());
    }

    /** An input for the canonical tensors of {@code c}, in spelling {@code how}. */
    static byte[] encode(BertConfig c, int how, String config, int flags, int heads) {
        FuzzInput.Writer w = new FuzzInput.Writer().u8(flags | (config != null ? 1 : 0));
        if (config != null) w.text(config);
        if ((flags & 8) != 0) w.u8(heads - 1);
        Map<String, int[]> shapes = shapes(c);
        w.u8(shapes.size());
        for (Map.Entry<String, int[]> e : shapes.entrySet()) {
            w.u8(NAMES.indexOf(e.getKey())).u8(how).u8(Arrays.asList(DTYPES).indexOf(DType.F32)).u8(e.getValue().length);
            for (int d : e.getValue()) w.u8(d);
            w.u8(0);
        }
        return w.toBytes();
    }

    static final BertConfig MINI = OnnxFuzzTest.MINI;
    static final String HF_CONFIG = "{\"vocab_size\":6,\"hidden_size\":4,\"num_hidden_layers\":1,\"num_attention_heads\":2,"
            + "\"intermediate_size\":8,\"max_position_embeddings\":4,\"type_vocab_size\":2,\"layer_norm_eps\":1e-12,\"hidden_act\":\"gelu\"}";

    static Stream<Arguments> seeds() {
        return Stream.of(
                Arguments.of(Named.of("Hugging Face names, --heads 2", encode(MINI, 0, null, 8, 2))),
                Arguments.of(Named.of("NVIDIA names (bert., dense_act), --heads 2", encode(MINI, 1 | 4, null, 8, 2))),
                Arguments.of(Named.of("module. prefix, gamma/beta, config.json", encode(MINI, 2 | 8, HF_CONFIG, 0, 0))),
                Arguments.of(Named.of("config.json and --gelu tanh", encode(MINI, 1, HF_CONFIG.replace("\"gelu\"", "\"gelu_new\""), 4, 0))));
    }

    @MethodSource("seeds")
    @DictionaryFile(resourcePath = "loader.dict")
    @FuzzTest
    void loader(byte[] input) {
        Contract.holds(() -> checkLoaded(load(decode(input))), ModelFileException.class);
    }

    @Test
    void seedsLoad() {
        seeds().forEach(a -> {
            byte[] input = (byte[]) ((Named<?>) a.get()[0]).getPayload();
            assertEquals(MINI.hiddenSize(), load(decode(input)).config().hiddenSize());
        });
    }
}
