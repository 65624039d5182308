package bertj.model;

import bertj.readers.DType;
import bertj.readers.ModelFileException;
import bertj.readers.PyTorchCheckpoint;
import bertj.readers.SafeTensors;
import bertj.readers.Tensor;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * Turns a file or directory into a checked {@link LoadedModel}: reads the tensors with the reader its
 * format needs, maps their names to canonical ones ({@link TensorNames}), works out the config (from a
 * config file, or from the tensor shapes plus a preset for the number of heads), checks every tensor's
 * presence, shape, dtype and finiteness, and decides the GELU form.
 * <pre>
 *   LoadedModel m = ModelLoader.load(Path.of("bert_4l_288d.pt"));         // or "minilm", a directory, an .onnx
 *   System.out.println(m.config() + " " + m.config().gelu() + " (" + m.geluFrom() + ")");
 * </pre>
 * Nothing in a model file is executed: torch.save pickles are read by a restricted unpickler that knows only the
 * names a state dict needs. A bad file is a {@link bertj.readers.ModelFileException} with one sentence naming it.
 * Stateless; safe for concurrent callers.
 */
public final class ModelLoader {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Readers for formats beyond PyTorch and safetensors (ONNX) register here: magic test → tensors. */
    public interface FormatReader {
        String name();

        boolean accepts(Path file) throws IOException;

        Map<String, Tensor> read(Path file);

        /** The tensors and what the file states about the model beyond them (a graph's head count, GELU, ε). */
        default Read readModel(Path file) {
            return new Read(read(file), null);
        }
    }

    /**
     * What a {@link FormatReader} read: tensors under the names it gives them, graph facts (null: none), and for
     * tensors it renamed, what they are called in the file (shown by {@code bertj info} and in errors).
     */
    public record Read(Map<String, Tensor> tensors, GraphFacts facts, Map<String, String> fileNames) {
        public Read(Map<String, Tensor> tensors, GraphFacts facts) {
            this(tensors, facts, Map.of());
        }

        String fileName(String key) {
            return fileNames.getOrDefault(key, key);
        }
    }

    /**
     * Facts a model graph states that tensor shapes cannot tell; each is null when the graph does not say,
     * and each comes with where it was read (shown by {@code bertj info}).
     */
    public record GraphFacts(Integer heads, String headsFrom, GeluForm gelu, String geluFrom, Double layerNormEps,
                             String layerNormEpsFrom) {
    }

    /**
     * Formats beyond PyTorch and safetensors. The built-in ones are listed here, not registered from their own
     * static initialisers, so that they are present whichever class happens to load first.
     */
    private static final List<FormatReader> EXTRA_READERS = new java.util.concurrent.CopyOnWriteArrayList<>(
            List.of(new OnnxFormat()));

    public static void register(FormatReader reader) {
        EXTRA_READERS.add(reader);
    }

    /**
     * @param gelu   force this GELU form (null: decide from the checkpoint)
     * @param heads  the number of attention heads where neither a config file nor the graph tells it (null: a preset
     *               for the hidden size); a value that contradicts either is refused
     * @param config a config.json / bert_config.json to use (null: look beside a directory's weights)
     */
    public record Options(GeluForm gelu, Integer heads, Path config) {
        public static Options defaults() {
            return new Options(null, null, null);
        }
    }

    private ModelLoader() {
    }

    public static LoadedModel load(Path path) {
        return load(path, Options.defaults());
    }

    public static LoadedModel load(Path path, Options options) {
        String where = path.toString();
        if (!Files.exists(path)) {
            BuiltinModels.Builtin builtin = BuiltinModels.byName(path.toString());
            if (builtin != null) return BuiltinModels.load(builtin, options);
            throw new ModelFileException(path + ": no such file or directory (built-in models: "
                    + String.join(", ", BuiltinModels.names()) + ")");
        }
        Path weightsFile = path;
        Path configFile = options.config();
        Path vocab = null;
        String format;
        if (Files.isDirectory(path)) {
            weightsFile = firstExisting(path, "model.safetensors", "pytorch_model.bin", "model.pt", "model.onnx");
            if (weightsFile == null) {
                throw new ModelFileException(path + ": directory holds none of model.safetensors, pytorch_model.bin, model.pt, model.onnx"
                        + (BuiltinModels.byName(path.toString()) != null
                        ? " (it hides the built-in model '" + path + "'; run from another directory)" : ""));
            }
            if (configFile == null) configFile = firstExisting(path, "config.json", "bert_config.json");
        }
        vocab = vocabularyBeside(path);
        Map<String, Tensor> raw;
        Read read = null;
        try {
            if (Files.size(weightsFile) == 0) {
                throw new ModelFileException(weightsFile + ": file is empty");
            }
            if (PyTorchCheckpoint.isLegacy(weightsFile)) {
                throw new ModelFileException(weightsFile + ": legacy torch.save format (PyTorch < 1.6) is not supported; "
                        + "re-save it with torch.save(obj, path) on PyTorch 1.6 or newer");
            }
            if (PyTorchCheckpoint.looksLike(weightsFile)) {
                format = "pytorch-zip";
                raw = PyTorchCheckpoint.read(weightsFile);
            } else if (SafeTensors.looksLike(weightsFile)) {
                format = "safetensors";
                raw = SafeTensors.read(weightsFile).tensors();
            } else {
                FormatReader extra = null;
                for (FormatReader r : EXTRA_READERS) {
                    if (r.accepts(weightsFile)) {
                        extra = r;
                        break;
                    }
                }
                if (extra == null) {
                    throw new ModelFileException(weightsFile + ": not a PyTorch checkpoint (zip), safetensors or ONNX file "
                            + "(unrecognised first bytes " + hexHead(weightsFile) + ")");
                }
                format = extra.name();
                read = extra.readModel(weightsFile);
                raw = read.tensors();
            }
        } catch (IOException e) {
            throw new ModelFileException(weightsFile + ": cannot read: " + e.getMessage(), e);
        }
        if (Files.isDirectory(path)) {
            format = "huggingface-dir (" + format + ")";
        }
        return assemble(path, where, format, read != null ? read : new Read(raw, null), configFile, vocab, options);
    }

    /**
     * The vocabulary {@link #load(Path)} will record for {@code path} ({@link LoadedModel#vocab()}), found without
     * reading the model: for a command that reads it while the model loads. Null when there is none, or when
     * {@code path} is not a model load would read (load then says why).
     */
    public static Path vocabularyFor(Path path) {
        try {
            if (!Files.exists(path)) {
                BuiltinModels.Builtin builtin = BuiltinModels.byName(path.toString());
                return builtin == null ? null : BuiltinModels.entries(builtin).vocab();
            }
            return vocabularyBeside(path);
        } catch (RuntimeException e) {
            return null; // load reports it
        }
    }

    /** vocab.txt, else tokenizer.json, in a model's directory or beside its file; null when neither is there. */
    private static Path vocabularyBeside(Path path) {
        Path dir = Files.isDirectory(path) ? path : path.toAbsolutePath().getParent();
        return dir == null ? null : firstExisting(dir, "vocab.txt", "tokenizer.json");
    }

    /** Builds a model from tensors already in memory (used by tests and by readers of other formats). */
    public static LoadedModel assemble(Path source, String where, String format, Map<String, Tensor> raw, Path configFile,
                                       Path vocab, Options options) {
        return assemble(source, where, format, new Read(raw, null), configFile, vocab, options);
    }

    /** As above, with what a {@link FormatReader} read: graph facts and the file's own names for renamed tensors. */
    public static LoadedModel assemble(Path source, String where, String format, Read read, Path configFile,
                                       Path vocab, Options options) {
        Map<String, Tensor> raw = read.tensors();
        GraphFacts facts = read.facts();
        // 1. names
        Map<String, Tensor> canonical = new LinkedHashMap<>();
        Map<String, String> sourceOf = new LinkedHashMap<>();
        List<String> unexpected = new ArrayList<>();
        List<String> ignored = new ArrayList<>();
        for (Map.Entry<String, Tensor> e : raw.entrySet()) {
            String c = TensorNames.canonical(e.getKey());
            if (TensorNames.isKnownExtra(c)) {
                ignored.add(e.getKey());
                continue;
            }
            if (canonical.containsKey(c)) {
                throw new ModelFileException(where + ": " + sourceOf.get(c) + " and " + read.fileName(e.getKey()) + " are both " + c);
            }
            canonical.put(c, e.getValue());
            sourceOf.put(c, read.fileName(e.getKey()));
        }
        Function<String, String> src = c -> sourceOf.getOrDefault(c, c);

        // 2. config
        JsonNode cfgJson = null;
        if (configFile != null) {
            try {
                cfgJson = JSON.readTree(configFile.toFile());
            } catch (IOException e) {
                throw new ModelFileException(configFile + ": not valid JSON: " + firstLine(e.getMessage()));
            }
            if (cfgJson == null || !cfgJson.isObject()) {
                throw new ModelFileException(configFile + ": not a JSON object");
            }
        }
        TensorNames.Family family = TensorNames.family(raw.keySet());
        Tensor word = canonical.get(TensorNames.WORD_EMBEDDINGS);
        if (word == null || word.rank() != 2) {
            throw new ModelFileException(where + ": no word-embedding table (" + TensorNames.WORD_EMBEDDINGS
                    + " or a known spelling of it); is this a BERT checkpoint?");
        }
        int layers = 0;
        for (String c : canonical.keySet()) layers = Math.max(layers, TensorNames.layerIndex(c) + 1);
        if (layers == 0) {
            throw new ModelFileException(where + ": no encoder layers (encoder.layer.N.*); is this a BERT checkpoint?");
        }
        Config cfg = cfgJson != null
                ? fromJson(where, configFile, cfgJson, canonical, src, options)
                : fromShapes(where, canonical, layers, options, facts);
        if (facts != null && facts.heads() != null && options.heads() != null && !options.heads().equals(facts.heads())) {
            throw new ModelFileException(where + ": --heads " + options.heads() + " contradicts the model: " + facts.headsFrom()
                    + "; leave --heads out (it applies only where neither a config file nor the graph tells)");
        }
        if (facts != null && facts.heads() != null && cfg.config.numHeads() != facts.heads()) {
            throw new ModelFileException(where + ": " + configFile.getFileName() + " says " + cfg.config.numHeads()
                    + " attention heads but the model's graph uses " + facts.heads() + " (" + facts.headsFrom() + "); correct "
                    + configFile.getFileName() + (options.config() != null ? " or leave --config out" : ""));
        }
        BertConfig config = cfg.config;
        if (config.numLayers() != layers && cfgJson != null) {
            throw new ModelFileException(where + ": " + configFile.getFileName() + " says " + config.numLayers()
                    + " layers but the checkpoint has tensors for " + layers);
        }

        // 3. GELU
        GeluForm gelu;
        String geluFrom;
        if (options.gelu() != null) {
            gelu = options.gelu();
            geluFrom = "--gelu " + gelu.label();
        } else if (facts != null && facts.gelu() != null) {
            gelu = facts.gelu();
            geluFrom = facts.geluFrom();
        } else if (family == TensorNames.Family.NVIDIA) {
            gelu = GeluForm.TANH;
            geluFrom = "NVIDIA checkpoint (dense_act keys): NVIDIA's gelu at the distillation release is the tanh approximation";
        } else if (cfg.hiddenAct != null) {
            gelu = switch (cfg.hiddenAct) {
                case "gelu" -> GeluForm.ERF;
                case "gelu_new", "gelu_pytorch_tanh", "gelu_fast" -> GeluForm.TANH;
                default -> throw new ModelFileException(configFile + ": hidden_act '" + cfg.hiddenAct
                        + "' is not supported (gelu, gelu_new, gelu_pytorch_tanh are)");
            };
            geluFrom = configFile.getFileName() + " hidden_act \"" + cfg.hiddenAct + "\" (Hugging Face convention)";
        } else {
            gelu = GeluForm.ERF;
            geluFrom = "default for Hugging Face key spellings (erf); pass --gelu tanh if the model was trained with the approximation";
        }
        config = config.withGelu(gelu);

        // 4. presence and shapes
        int h = config.hiddenSize(), ff = config.intermediateSize();
        Map<String, int[]> expected = new LinkedHashMap<>();
        expected.put(TensorNames.WORD_EMBEDDINGS, new int[] {config.vocabSize(), h});
        expected.put(TensorNames.POSITION_EMBEDDINGS, new int[] {config.maxPositions(), h});
        expected.put(TensorNames.TOKEN_TYPE_EMBEDDINGS, new int[] {config.typeVocabSize(), h});
        expected.put(TensorNames.EMBEDDINGS_LAYER_NORM + ".weight", new int[] {h});
        expected.put(TensorNames.EMBEDDINGS_LAYER_NORM + ".bias", new int[] {h});
        for (int i = 0; i < config.numLayers(); i++) {
            for (String m : List.of("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense")) {
                expected.put(TensorNames.layer(i, m) + ".weight", new int[] {h, h});
                expected.put(TensorNames.layer(i, m) + ".bias", new int[] {h});
            }
            expected.put(TensorNames.layer(i, "intermediate.dense") + ".weight", new int[] {ff, h});
            expected.put(TensorNames.layer(i, "intermediate.dense") + ".bias", new int[] {ff});
            expected.put(TensorNames.layer(i, "output.dense") + ".weight", new int[] {h, ff});
            expected.put(TensorNames.layer(i, "output.dense") + ".bias", new int[] {h});
            for (String m : TensorNames.LAYER_NORMS) {
                expected.put(TensorNames.layer(i, m) + ".weight", new int[] {h});
                expected.put(TensorNames.layer(i, m) + ".bias", new int[] {h});
            }
        }
        Map<String, int[]> optional = new LinkedHashMap<>();
        optional.put(TensorNames.POOLER + ".weight", new int[] {h, h});
        optional.put(TensorNames.POOLER + ".bias", new int[] {h});
        optional.put(TensorNames.QA_OUTPUTS + ".weight", new int[] {2, h});
        optional.put(TensorNames.QA_OUTPUTS + ".bias", new int[] {2});

        List<String> missing = new ArrayList<>();
        List<String> misshaped = new ArrayList<>();
        for (Map.Entry<String, int[]> e : expected.entrySet()) {
            Tensor t = canonical.get(e.getKey());
            if (t == null) missing.add(e.getKey());
            else if (!Arrays.equals(t.shape(), e.getValue())) misshaped.add(src.apply(e.getKey()) + " has shape "
                    + Arrays.toString(t.shape()) + ", expected " + Arrays.toString(e.getValue()));
        }
        for (String module : List.of(TensorNames.POOLER, TensorNames.QA_OUTPUTS)) {
            boolean w = canonical.containsKey(module + ".weight"), b = canonical.containsKey(module + ".bias");
            if (w != b) missing.add(module + (w ? ".bias" : ".weight"));
            for (String n : List.of(module + ".weight", module + ".bias")) {
                Tensor t = canonical.get(n);
                if (t != null && !Arrays.equals(t.shape(), optional.get(n))) misshaped.add(src.apply(n) + " has shape "
                        + Arrays.toString(t.shape()) + ", expected " + Arrays.toString(optional.get(n)));
            }
        }
        if (!misshaped.isEmpty()) {
            throw new ModelFileException(where + ": " + summarize(misshaped, "mis-shaped tensors"));
        }
        if (!missing.isEmpty()) {
            throw new ModelFileException(where + ": missing " + summarize(missing, "tensors"));
        }
        for (String c : canonical.keySet()) {
            if (!expected.containsKey(c) && !optional.containsKey(c)) unexpected.add(src.apply(c));
        }

        // 5. dtypes and values
        for (Map.Entry<String, Tensor> e : canonical.entrySet()) {
            if (!expected.containsKey(e.getKey()) && !optional.containsKey(e.getKey())) continue;
            Tensor t = e.getValue();
            if (!t.dtype().isFloating()) {
                throw new ModelFileException(where + ": " + src.apply(e.getKey()) + " has dtype " + t.dtype() + "; weights must be floating point");
            }
            checkFinite(where, src.apply(e.getKey()), t);
        }

        List<String> warnings = new ArrayList<>();
        if (!unexpected.isEmpty()) warnings.add("ignored " + summarize(unexpected, "unexpected tensors"));
        if (!ignored.isEmpty()) warnings.add("ignored " + summarize(ignored, "tensors this encoder does not use"));
        if (config.vocabSize() != cfg.declaredVocab && cfg.declaredVocab > 0) {
            warnings.add("word-embedding table has " + config.vocabSize() + " rows; the config's vocab_size is "
                    + cfg.declaredVocab + " (NVIDIA pads the table to a multiple of 8)");
        }
        List<LoadedModel.TensorInfo> infos = new ArrayList<>();
        for (Map.Entry<String, Tensor> e : raw.entrySet()) {
            String c = TensorNames.canonical(e.getKey());
            boolean used = expected.containsKey(c) || optional.containsKey(c);
            infos.add(new LoadedModel.TensorInfo(read.fileName(e.getKey()), used ? c : null, e.getValue().dtype().name(), e.getValue().shape()));
        }
        BertWeights weights = BertWeights.of(config, canonical);
        return new LoadedModel(source, format, weights, cfg.from, geluFrom, vocab, List.copyOf(infos), List.copyOf(warnings));
    }

    private record Config(BertConfig config, String hiddenAct, String from, int declaredVocab) {
    }

    /** Heads per hidden size for the checkpoints NVIDIA publishes; shapes cannot tell the head count. */
    private static final Map<Integer, Integer> HEADS_PRESET = Map.of(
            288, 12,  // distilled 4L-288D (the model this project is built for)
            768, 12,  // BERT-base and distilled 6L-768D
            1024, 16  // BERT-large
    );

    private static Config fromShapes(String where, Map<String, Tensor> t, int layers, Options options, GraphFacts facts) {
        Tensor word = t.get(TensorNames.WORD_EMBEDDINGS);
        int hidden = word.dim(1);
        Integer graphHeads = facts == null ? null : facts.heads();
        Integer heads = options.heads() != null ? options.heads() : graphHeads != null ? graphHeads : HEADS_PRESET.get(hidden);
        if (heads == null) {
            throw new ModelFileException(where + ": cannot tell the number of attention heads for hidden size " + hidden
                    + " from tensor shapes; pass --heads N or a config.json");
        }
        Tensor pos = t.get(TensorNames.POSITION_EMBEDDINGS), types = t.get(TensorNames.TOKEN_TYPE_EMBEDDINGS);
        Tensor inter = t.get(TensorNames.layer(0, "intermediate.dense") + ".weight");
        if (pos == null || types == null || inter == null || pos.rank() != 2 || types.rank() != 2 || inter.rank() != 2) {
            List<String> missing = new ArrayList<>();
            if (pos == null) missing.add(TensorNames.POSITION_EMBEDDINGS);
            if (types == null) missing.add(TensorNames.TOKEN_TYPE_EMBEDDINGS);
            if (inter == null) missing.add(TensorNames.layer(0, "intermediate.dense") + ".weight");
            throw new ModelFileException(where + ": " + (missing.isEmpty() ? "embedding or intermediate tensors have the wrong rank"
                    : "missing " + summarize(missing, "tensors")));
        }
        // Every size read from a shape must be positive; an empty table (a 0 in its shape) cannot be an encoder's.
        for (String name : List.of(TensorNames.WORD_EMBEDDINGS, TensorNames.POSITION_EMBEDDINGS, TensorNames.TOKEN_TYPE_EMBEDDINGS,
                TensorNames.layer(0, "intermediate.dense") + ".weight")) {
            Tensor x = t.get(name);
            if (x.numel() == 0) {
                throw new ModelFileException(where + ": " + name + " has shape " + Arrays.toString(x.shape()) + ", which holds no values");
            }
        }
        if (hidden % heads != 0) {
            throw new ModelFileException(where + ": hidden size " + hidden + " is not a multiple of " + heads + " heads");
        }
        boolean graphEps = facts != null && facts.layerNormEps() != null;
        double eps = graphEps ? facts.layerNormEps() : 1e-12;
        BertConfig c = new BertConfig(word.dim(0), hidden, layers, heads, inter.dim(0), pos.dim(0), types.dim(0), eps, GeluForm.ERF);
        String preset = c.hiddenSize() == 288 && layers == 4 ? "NVIDIA 4L-288D preset" : "preset for hidden size " + hidden;
        String headsFrom = options.heads() != null ? "--heads " + heads
                : graphHeads != null ? facts.headsFrom() : preset + " (" + heads + " heads)";
        String from = "tensor shapes + " + headsFrom + ", layer_norm_eps " + Double.toString(eps).replace(".0E", "e").replace("E", "e")
                + (graphEps ? " (" + facts.layerNormEpsFrom() + ")" : "");
        return new Config(c, null, from, -1);
    }

    private static Config fromJson(String where, Path file, JsonNode j, Map<String, Tensor> t, Function<String, String> src, Options options) {
        String name = file.getFileName().toString();
        Tensor word = t.get(TensorNames.WORD_EMBEDDINGS);
        int declaredVocab = intField(j, "vocab_size", name, -1);
        int hidden = intField(j, "hidden_size", name, 0);
        int layers = intField(j, "num_hidden_layers", name, 0);
        int heads;
        if (j.has("num_attention_heads")) {
            heads = intField(j, "num_attention_heads", name, 0);
            if (options.heads() != null && options.heads() != heads) {
                throw new ModelFileException(where + ": --heads " + options.heads() + " contradicts " + name + ", which says "
                        + heads + " (num_attention_heads); leave --heads out (it applies only where neither a config file nor the graph tells)");
            }
        } else if (options.heads() != null) {
            heads = options.heads();
        } else {
            heads = intField(j, "num_attention_heads", name, 0);
        }
        int inter = intField(j, "intermediate_size", name, 0);
        int pos = intField(j, "max_position_embeddings", name, 0);
        int types = intField(j, "type_vocab_size", name, 2);
        double eps = j.has("layer_norm_eps") ? j.get("layer_norm_eps").asDouble() : 1e-12;
        String act = j.has("hidden_act") ? j.get("hidden_act").asText() : null;
        if (word.dim(1) != hidden) {
            throw new ModelFileException(where + ": " + name + " says hidden_size " + hidden + " but "
                    + src.apply(TensorNames.WORD_EMBEDDINGS) + " has shape " + Arrays.toString(word.shape()));
        }
        if (declaredVocab > word.dim(0)) {
            throw new ModelFileException(where + ": " + name + " says vocab_size " + declaredVocab + " but "
                    + src.apply(TensorNames.WORD_EMBEDDINGS) + " has only " + word.dim(0) + " rows");
        }
        if (hidden % heads != 0) {
            throw new ModelFileException(where + ": " + name + ": hidden_size " + hidden + " is not a multiple of num_attention_heads " + heads);
        }
        try {
            BertConfig c = new BertConfig(word.dim(0), hidden, layers, heads, inter, pos, types, eps, GeluForm.ERF);
            return new Config(c, act, name, declaredVocab);
        } catch (IllegalArgumentException e) {
            throw new ModelFileException(where + ": " + name + ": " + e.getMessage());
        }
    }

    private static int intField(JsonNode j, String field, String file, int dflt) {
        JsonNode n = j.get(field);
        if (n == null) {
            if (dflt != 0) return dflt;
            throw new ModelFileException(file + ": missing \"" + field + "\"");
        }
        if (!n.isIntegralNumber() || n.asLong() <= 0 || n.asLong() > 1 << 24) {
            throw new ModelFileException(file + ": \"" + field + "\" must be a positive integer, got " + n);
        }
        return n.asInt();
    }

    /**
     * Refuses a tensor that holds an infinity or a NaN. float32 and float64 are checked on their bits first
     * ({@link #allFinite}); only a tensor that fails is gone through value by value, for the index (in its own
     * layout) the message names.
     */
    static void checkFinite(String where, String name, Tensor t) {
        // a transposed ONNX weight holds its matrix's values: checked there, so that its bytes need not be made
        Tensor values = t.transposeOf() != null ? t.transposeOf() : t;
        if ((t.dtype() == DType.F32 || t.dtype() == DType.F64) && allFinite(values)) return;
        if (t.dtype() == DType.F64) {
            double[] d = t.toDoubles();
            for (int i = 0; i < d.length; i++) {
                if (!Double.isFinite(d[i])) throw notFinite(where, name, t, i, d[i]);
            }
        } else {
            float[] f = t.toFloats();
            for (int i = 0; i < f.length; i++) {
                if (!Float.isFinite(f[i])) throw notFinite(where, name, t, i, f[i]);
            }
        }
    }

    /**
     * Whether a float32 or float64 tensor holds only finite values, read 8 bytes at a time: a value is not finite
     * when its exponent bits are all ones, and then adding one at the exponent's lowest bit carries into the
     * sign's place — for float32 in each 32-bit half of the long, which cannot carry into the next. The
     * results are or-ed and the sign places looked at once. A new JVM runs this loop interpreted for much of a
     * model's load (the JIT is busy with the kernels): it measured 7 times faster there than Float.isFinite on
     * each value, and 0.1–0.3 s of a one-text {@code embed} went to the check before.
     */
    static boolean allFinite(Tensor t) {
        boolean f64 = t.dtype() == DType.F64;
        long exponent = f64 ? 0x7ff0000000000000L : 0x7f8000007f800000L;
        long lowest = f64 ? 0x0010000000000000L : 0x0080000000800000L;
        long sign = f64 ? 0x8000000000000000L : 0x8000000080000000L;
        java.nio.ByteBuffer b = t.bytes();
        java.nio.LongBuffer words = b.asLongBuffer();
        long[] chunk = new long[Math.max(1, Math.min(8192, words.remaining()))];
        long seen = 0;
        while (words.hasRemaining()) {
            int n = Math.min(chunk.length, words.remaining());
            words.get(chunk, 0, n);
            for (int i = 0; i < n; i++) seen |= (chunk[i] & exponent) + lowest;
        }
        if (b.remaining() % 8 != 0) { // an odd count of float32: the last one
            seen |= (b.getInt(b.limit() - 4) & 0x7f800000L) + 0x00800000L;
        }
        return (seen & sign) == 0;
    }

    private static ModelFileException notFinite(String where, String name, Tensor t, int i, double v) {
        return new ModelFileException(where + ": " + name + " holds " + v + " at flat index " + i + " (shape "
                + Arrays.toString(t.shape()) + "); weights must be finite");
    }

    static String summarize(List<String> names, String what) {
        List<String> sorted = new ArrayList<>(new TreeSet<>(names));
        if (sorted.size() <= 6) return what + ": " + String.join(", ", sorted);
        return sorted.size() + " " + what + ": " + String.join(", ", sorted.subList(0, 6)) + ", …";
    }

    private static Path firstExisting(Path dir, String... names) {
        for (String n : names) {
            Path p = dir.resolve(n);
            if (Files.isRegularFile(p)) return p;
        }
        return null;
    }

    private static String hexHead(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] b = in.readNBytes(8);
            StringBuilder sb = new StringBuilder();
            for (byte x : b) sb.append(String.format("%02x", x));
            return sb.toString();
        }
    }

    private static String firstLine(String s) {
        if (s == null) return "unknown error";
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
