package bertj.cli;

import bertj.model.BertConfig;
import bertj.model.LoadedModel;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.util.Arrays;
import java.util.concurrent.Callable;

@Command(name = "info", description = "Show a model's format, config, GELU form, parameter count and tensors.")
public final class InfoCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model;
    @Mixin
    VerboseOption verbose;
    @Option(names = "--json", description = "Print JSON.")
    boolean json;
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        LoadedModel m = model.load();
        BertConfig c = m.config();
        var out = spec.commandLine().getOut();
        if (json) {
            ObjectNode root = Json.object();
            root.put("path", m.source().toString());
            root.put("format", m.format());
            ObjectNode cfg = root.putObject("config");
            cfg.put("vocab_size", c.vocabSize());
            cfg.put("hidden_size", c.hiddenSize());
            cfg.put("num_hidden_layers", c.numLayers());
            cfg.put("num_attention_heads", c.numHeads());
            cfg.put("head_size", c.headSize());
            cfg.put("intermediate_size", c.intermediateSize());
            cfg.put("max_position_embeddings", c.maxPositions());
            cfg.put("type_vocab_size", c.typeVocabSize());
            cfg.put("layer_norm_eps", c.layerNormEps());
            root.put("config_from", m.configFrom());
            root.put("gelu", c.gelu().label());
            root.put("gelu_from", m.geluFrom());
            root.put("qa_head", m.weights().hasQaHead());
            root.put("pooler", m.weights().pooler() != null);
            root.put("parameters", m.weights().parameterCount());
            root.put("vocab", m.vocab() == null ? null : m.vocab().toString());
            root.put("embed_max_length", EmbeddingOptions.defaultMaxLength(m));
            root.put("embed_max_length_from", maxLengthFrom(m));
            ArrayNode tensors = root.putArray("tensors");
            for (LoadedModel.TensorInfo t : m.tensors()) {
                ObjectNode n = tensors.addObject();
                n.put("name", t.sourceName());
                n.put("canonical", t.canonicalName());
                n.put("dtype", t.dtype());
                ArrayNode shape = n.putArray("shape");
                for (int d : t.shape()) shape.add(d);
            }
            ArrayNode warnings = root.putArray("warnings");
            m.warnings().forEach(warnings::add);
            out.println(Json.write(root));
        } else {
            printText(out, m);
        }
        return 0;
    }

    /** What {@code bertj info} prints without --json (also shown in {@code bertj explain}'s report). */
    static void printText(java.io.PrintWriter out, LoadedModel m) {
        BertConfig c = m.config();
        out.printf("model       %s%n", m.source());
        out.printf("format      %s%n", m.format());
        out.printf("config      %d layers, hidden %d, %d heads of %d, FFN %d, vocab %d, %d positions, %d token types, eps %s%n",
                c.numLayers(), c.hiddenSize(), c.numHeads(), c.headSize(), c.intermediateSize(), c.vocabSize(),
                c.maxPositions(), c.typeVocabSize(), c.layerNormEps());
        out.printf("            from %s%n", m.configFrom());
        out.printf("gelu        %s (%s)%n", c.gelu().label(), m.geluFrom());
        out.printf("heads       QA head %s, pooler %s%n", m.weights().hasQaHead() ? "yes" : "no", m.weights().pooler() != null ? "yes" : "no");
        out.printf("parameters  %,d%n", m.weights().parameterCount());
        if (m.vocab() != null) out.printf("vocab       %s%n", m.vocab());
        out.printf("embed       texts cut to %d tokens by default (%s; --max-length up to %d)%n", EmbeddingOptions.defaultMaxLength(m),
                maxLengthFrom(m), c.maxPositions());
        out.printf("tensors     %d%n", m.tensors().size());
        for (LoadedModel.TensorInfo t : m.tensors()) {
            String canon = t.canonicalName() == null ? "(unused)" : t.canonicalName().equals(t.sourceName()) ? "" : "-> " + t.canonicalName();
            out.printf("  %-60s %-5s %-14s %s%n", t.sourceName(), t.dtype(), Arrays.toString(t.shape()), canon);
        }
        for (String w : m.warnings()) out.printf("warning     %s%n", w);
    }

    /** Why embed cuts texts where it does by default. */
    static String maxLengthFrom(LoadedModel m) {
        bertj.model.BuiltinModels.Builtin b = bertj.model.BuiltinModels.of(m);
        return b != null ? b.maxLengthFrom() : "the model's positions";
    }
}
