package bertj.model;

import bertj.readers.ModelFileException;
import bertj.readers.SafeTensors;
import bertj.readers.Tensor;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a model as a Hugging Face style directory: {@code model.safetensors} with BertForQuestionAnswering
 * keys ({@code bert.…} and {@code qa_outputs.…}; BertModel keys when there is no QA head), {@code config.json}
 * whose {@code hidden_act} keeps the GELU form ("gelu" = erf, "gelu_new" = tanh), and the vocabulary if one
 * was found beside the source.
 */
public final class HuggingFaceExport {
    private HuggingFaceExport() {
    }

    public static List<Path> write(LoadedModel model, Path dir, boolean overwrite) throws IOException {
        Path weights = dir.resolve("model.safetensors"), config = dir.resolve("config.json");
        // Named as a Hugging Face directory names it, so that loading the directory finds it again.
        Path vocab = model.vocab() == null ? null
                : dir.resolve(model.vocab().getFileName().toString().endsWith(".json") ? "tokenizer.json" : "vocab.txt");
        for (Path p : new Path[] {weights, config, vocab}) {
            if (p != null && Files.exists(p) && !overwrite) {
                throw new ModelFileException(p + " already exists; choose another --out or pass --force");
            }
        }
        Files.createDirectories(dir);
        BertWeights w = model.weights();
        Map<String, Tensor> out = new LinkedHashMap<>();
        boolean qa = w.hasQaHead();
        w.canonicalTensors().forEach((name, t) -> out.put(TensorNames.huggingFace(name, qa), t));
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        meta.put("converted_by", "bertj convert");
        meta.put("source", model.source().getFileName().toString());
        SafeTensors.write(weights, out, meta);

        BertConfig c = w.config();
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode cfg = json.createObjectNode();
        cfg.putArray("architectures").add(qa ? "BertForQuestionAnswering" : "BertModel");
        cfg.put("model_type", "bert");
        cfg.put("vocab_size", c.vocabSize());
        cfg.put("hidden_size", c.hiddenSize());
        cfg.put("num_hidden_layers", c.numLayers());
        cfg.put("num_attention_heads", c.numHeads());
        cfg.put("intermediate_size", c.intermediateSize());
        cfg.put("hidden_act", c.gelu() == GeluForm.ERF ? "gelu" : "gelu_new");
        cfg.put("max_position_embeddings", c.maxPositions());
        cfg.put("type_vocab_size", c.typeVocabSize());
        cfg.put("layer_norm_eps", c.layerNormEps());
        cfg.put("hidden_dropout_prob", 0.1);
        cfg.put("attention_probs_dropout_prob", 0.1);
        cfg.put("initializer_range", 0.02);
        json.writeValue(config.toFile(), cfg);
        if (vocab != null) {
            Files.copy(model.vocab(), vocab, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            return List.of(weights, config, vocab);
        }
        return List.of(weights, config);
    }
}
