package bertj.cli;

import bertj.embed.SentenceEmbedder;
import bertj.embed.SentenceEmbedder.Embedding;
import bertj.model.LoadedModel;
import bertj.tokenizer.BertTokenizer;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "similarity", description = {
        "Cosine similarity of the first TEXT to each of the others (--matrix: of every pair), from mean-pooled,",
        "L2-normalised sentence embeddings. The model defaults to minilm (all-MiniLM-L6-v2, fetched by the build).",
        "--compare opencl also runs a second backend and reports how closely the two agree."})
public final class SimilarityCommand implements Callable<Integer> {
    @Mixin
    Model model;
    @Mixin
    BackendOptions backend;
    @Mixin
    EmbeddingOptions embedding;
    @Mixin
    VerboseOption verbose;
    @Option(names = "--matrix", description = "Print the similarity of every pair of texts.")
    boolean matrix;
    @Option(names = "--json", description = "Print JSON.")
    boolean json;
    @Parameters(arity = "2..*", paramLabel = "TEXT", description = "Two or more texts; the first is compared with the others.")
    List<String> texts;
    @Spec
    CommandSpec spec;

    /** --model with a default (minilm), and the shape options every command takes. */
    static final class Model extends ModelShapeOptions {
        @Option(names = "--model", paramLabel = "PATH|NAME", defaultValue = "minilm",
                description = "A model file or directory, or a built-in name. Default: ${DEFAULT-VALUE}.")
        Path model;

        @Override
        Path path() {
            return model;
        }
    }

    @Override
    public Integer call() {
        embedding.check(spec.commandLine(), backend);
        SentenceEmbedder.Pooling pooling = embedding.pooling();
        VocabularyOptions.Loaded loaded = embedding.load(model);
        LoadedModel m = loaded.model();
        int maxLen = embedding.maxLength(spec.commandLine(), m);
        BertTokenizer tok = loaded.tokenizer();
        EmbeddingOptions.Run run = EmbeddingOptions.run(m, backend.create(), tok, pooling, true, maxLen, embedding.batchSize, texts);
        EmbeddingOptions.Comparison cmp = embedding.compare(m, backend, tok, true, maxLen, texts, run);
        double[][] sim = similarities(run.embeddings());
        double[][] sim2 = cmp == null || cmp.run() == null ? null : similarities(cmp.run().embeddings());
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(Json.write(toJson(m, pooling, maxLen, run, cmp, sim, sim2)));
        } else {
            print(out, m, pooling, run, cmp, sim, sim2);
        }
        for (Embedding e : run.embeddings()) {
            if (e.truncated()) {
                spec.commandLine().getErr().println("bertj: warning: a text was cut to " + maxLen + " tokens: "
                        + EmbedCommand.abbreviate(e.text()) + " (see --max-length)");
            }
        }
        return 0;
    }

    /** cos(e_i, e_j); the embeddings are unit vectors, so it is their dot product. */
    static double[][] similarities(List<Embedding> e) {
        int n = e.size();
        double[][] s = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) s[i][j] = SentenceEmbedder.cosine(e.get(i).vector(), e.get(j).vector());
        }
        return s;
    }

    private void print(PrintWriter out, LoadedModel m, SentenceEmbedder.Pooling pooling, EmbeddingOptions.Run run,
                       EmbeddingOptions.Comparison cmp, double[][] sim, double[][] sim2) {
        var c = m.config();
        out.printf(Locale.ROOT, "model     %s (%s: %d layers, hidden %d, %d heads), %s pooling, L2-normalised%n", model.model,
                m.format(), c.numLayers(), c.hiddenSize(), c.numHeads(), pooling.label());
        out.printf(Locale.ROOT, "backend   %s (%s): %d texts in %.3f s%n", run.backend(), run.precision(), texts.size(), run.seconds());
        if (cmp != null) {
            if (cmp.run() == null) {
                out.printf("compare   %s: not run: %s%n", cmp.backend(), cmp.unavailable());
            } else {
                out.printf(Locale.ROOT, "compare   %s (%s): %d texts in %.3f s%n", cmp.backend(), cmp.run().precision(), texts.size(),
                        cmp.run().seconds());
            }
        }
        out.println();
        if (matrix) {
            for (int i = 0; i < texts.size(); i++) out.printf("[%d] %s%n", i + 1, oneLine(texts.get(i)));
            out.println();
            out.printf("%s", sim2 != null ? "cosine similarity (" + run.backend() + " / " + cmp.backend() + ")\n" : "cosine similarity\n");
            StringBuilder head = new StringBuilder("     ");
            int w = sim2 != null ? 16 : 8;
            for (int j = 0; j < texts.size(); j++) head.append(String.format(Locale.ROOT, "%" + w + "s", "[" + (j + 1) + "]"));
            out.println(head);
            for (int i = 0; i < texts.size(); i++) {
                StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "%-5s", "[" + (i + 1) + "]"));
                for (int j = 0; j < texts.size(); j++) {
                    row.append(sim2 != null ? String.format(Locale.ROOT, "%8.4f/%-7.4f", sim[i][j], sim2[i][j])
                            : String.format(Locale.ROOT, "%8.4f", sim[i][j]));
                }
                out.println(row.toString().stripTrailing());
            }
        } else {
            out.printf("cosine similarity to \"%s\":%n", oneLine(texts.get(0)));
            if (sim2 != null) out.printf("%9s %9s%n", run.backend(), cmp.backend());
            for (int j = 1; j < texts.size(); j++) {
                if (sim2 != null) out.printf(Locale.ROOT, "%9.4f %9.4f  %s%n", sim[0][j], sim2[0][j], oneLine(texts.get(j)));
                else out.printf(Locale.ROOT, "%9.4f  %s%n", sim[0][j], oneLine(texts.get(j)));
            }
        }
        if (sim2 != null) {
            out.println();
            out.printf(Locale.ROOT, "agreement %s vs %s: embedding cosine >= %s (min over %d texts), similarity |difference| <= %.2e%n",
                    run.backend(), cmp.backend(), EmbeddingOptions.cosine(cmp.minCosine()), texts.size(), maxDiff(sim, sim2));
        }
    }

    private ObjectNode toJson(LoadedModel m, SentenceEmbedder.Pooling pooling, int maxLen, EmbeddingOptions.Run run,
                              EmbeddingOptions.Comparison cmp, double[][] sim, double[][] sim2) {
        ObjectNode root = Json.object();
        root.put("model", m.source().toString());
        root.put("format", m.format());
        EmbeddingOptions.putRun(root, run);
        root.put("pooling", pooling.label());
        root.put("normalized", true);
        root.put("max_length", maxLen);
        ArrayNode t = root.putArray("texts");
        texts.forEach(t::add);
        if (matrix) {
            root.set("matrix", matrixJson(sim));
        } else {
            root.set("similarities", firstRowJson(sim));
        }
        if (cmp != null) {
            ObjectNode c = EmbeddingOptions.compareJson(root, cmp);
            if (sim2 != null) {
                if (matrix) c.set("matrix", matrixJson(sim2));
                else c.set("similarities", firstRowJson(sim2));
                c.put("max_abs_similarity_difference", maxDiff(sim, sim2));
            }
        }
        return root;
    }

    private ArrayNode firstRowJson(double[][] s) {
        ArrayNode a = Json.MAPPER.createArrayNode();
        for (int j = 1; j < texts.size(); j++) {
            ObjectNode n = a.addObject();
            n.put("text", texts.get(j));
            n.put("cosine", s[0][j]);
        }
        return a;
    }

    private static ArrayNode matrixJson(double[][] s) {
        ArrayNode a = Json.MAPPER.createArrayNode();
        for (double[] row : s) {
            ArrayNode r = a.addArray();
            for (double x : row) r.add(x);
        }
        return a;
    }

    static double maxDiff(double[][] a, double[][] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a.length; j++) m = Math.max(m, Math.abs(a[i][j] - b[i][j]));
        }
        return m;
    }

    static String oneLine(String s) {
        return s.replace('\n', ' ').replace('\r', ' ');
    }
}
