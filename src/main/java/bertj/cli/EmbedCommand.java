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
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "embed", description = {
        "Sentence embeddings: run the encoder on each TEXT and pool its last hidden state (mean over the attention",
        "mask by default, as sentence-transformers does); --normalize divides each by its L2 norm.",
        "--model minilm is all-MiniLM-L6-v2, fetched by the build.",
        "For many texts use --input-file: one text per line or JSON Lines {\"text\": ...}, '-' for standard input;",
        "the results stream out as JSON Lines in input order, with progress on stderr for long inputs."})
public final class EmbedCommand implements Callable<Integer> {
    @Mixin
    EncoderOptions setup;
    @Mixin
    EmbeddingOptions embedding;
    @Option(names = "--normalize", description = "L2-normalise each embedding (what all-MiniLM-L6-v2 is trained for).")
    boolean normalize;
    @Option(names = "--json", description = "Print JSON: the settings and, per text, tokens and embedding.")
    boolean json;
    @Option(names = "--input-file", paramLabel = "F",
            description = "Embed the texts of F instead of TEXT arguments: one per line, or JSON Lines {\"text\": ..., \"id\": ...};"
                    + " '-' reads standard input. Writes one JSON line per text, in input order: line, id (if given), text,"
                    + " tokens, truncated, embedding.")
    String inputFile;
    @Option(names = "--progress", paramLabel = "auto|bar|lines|none", defaultValue = "auto",
            description = "With --input-file, progress on stderr once a run takes over 2 s: a bar on a terminal, plain lines"
                    + " otherwise (default ${DEFAULT-VALUE}).")
    String progress;
    @Parameters(arity = "0..*", paramLabel = "TEXT", description = "Texts to embed (or --input-file).")
    List<String> texts;
    @Spec
    CommandSpec spec;

    /**
     * Texts given as arguments are embedded with the JIT warmed up in the background while the model loads only
     * when they hold this many characters in all. For less the warm-up's compiling takes more than it saves:
     * measured on all-MiniLM-L6-v2 (2 cores, medians of 4–6 runs each way), one text of 11 characters took 2.19 s
     * with it and 1.83 s without, one of 171 characters 2.47 and 2.41 s, 8 texts of 618 characters 2.81 and
     * 3.12 s, 300 texts 8.8 and 9.6 s. A file (--input-file) is always warmed up for.
     */
    static final int WARM_UP_MIN_CHARS = 256;

    @Override
    public Integer call() {
        embedding.check(spec.commandLine(), setup.backend);
        SentenceEmbedder.Pooling pooling = embedding.pooling();
        if (inputFile != null) return stream(pooling);
        if (texts == null || texts.isEmpty()) {
            throw Converters.usage(spec.commandLine(), "give texts to embed as arguments, or --input-file F");
        }
        if (texts.stream().mapToLong(String::length).sum() >= WARM_UP_MIN_CHARS) setup.backend.warmUp();
        VocabularyOptions.Loaded loaded = embedding.load(setup.model);
        LoadedModel m = loaded.model();
        int maxLen = embedding.maxLength(spec.commandLine(), m);
        BertTokenizer tok = loaded.tokenizer();
        EmbeddingOptions.Run run = EmbeddingOptions.run(m, setup.backend(), tok, pooling, normalize, maxLen, embedding.batchSize, texts);
        EmbeddingOptions.Comparison cmp = embedding.compare(m, setup.backend, tok, normalize, maxLen, texts, run);
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            ObjectNode root = Json.object();
            root.put("model", m.source().toString());
            root.put("format", m.format());
            EmbeddingOptions.putRun(root, run);
            root.put("pooling", pooling.label());
            root.put("normalized", normalize);
            root.put("dimensions", m.config().hiddenSize());
            root.put("max_length", maxLen);
            root.put("tokenizer", tok.describe());
            ArrayNode list = root.putArray("embeddings");
            for (Embedding e : run.embeddings()) {
                ObjectNode n = list.addObject();
                n.put("text", e.text());
                n.put("tokens", e.tokens());
                n.put("truncated", e.truncated());
                ArrayNode v = n.putArray("embedding");
                for (double x : e.vector()) v.add((float) x);
            }
            if (cmp != null) EmbeddingOptions.compareJson(root, cmp);
            out.println(Json.write(root));
        } else {
            out.printf(Locale.ROOT, "# %s (%s): %d dimensions, %s pooling%s; backend %s (%s), %.3f s%n", setup.model.model, m.format(),
                    m.config().hiddenSize(), pooling.label(), normalize ? ", L2-normalised" : "", run.backend(), run.precision(), run.seconds());
            for (int i = 0; i < run.embeddings().size(); i++) {
                Embedding e = run.embeddings().get(i);
                String agree = cmp == null || cmp.run() == null ? ""
                        : ", cosine to " + cmp.backend() + " " + EmbeddingOptions.cosine(cmp.cosines()[i]);
                out.printf(Locale.ROOT, "# text %d: %d tokens%s, norm %.6f%s: %s%n", i + 1, e.tokens(), e.truncated() ? " (truncated)" : "",
                        SentenceEmbedder.norm(e.vector()), agree, SimilarityCommand.oneLine(e.text()));
                StringBuilder sb = new StringBuilder();
                for (double x : e.vector()) sb.append(sb.isEmpty() ? "" : " ").append(String.format(Locale.ROOT, "%.6f", x));
                out.println(sb);
            }
            if (cmp != null) printComparison(out, run, cmp);
        }
        for (Embedding e : run.embeddings()) {
            if (e.truncated()) {
                spec.commandLine().getErr().println("bertj: warning: a text was cut to " + maxLen + " tokens: "
                        + abbreviate(e.text()) + " (see --max-length)");
            }
        }
        return 0;
    }

    /** embed --input-file: JSON Lines out, in input order, a chunk at a time (see EmbedStream). */
    private int stream(SentenceEmbedder.Pooling pooling) {
        picocli.CommandLine cmd = spec.commandLine();
        if (texts != null && !texts.isEmpty()) {
            throw new picocli.CommandLine.ParameterException(cmd, "give texts as arguments or --input-file, not both");
        }
        if (embedding.compare != null) throw new picocli.CommandLine.ParameterException(cmd, "--compare works with texts as arguments, not --input-file");
        Progress.Mode mode = switch (progress) {
            case "auto" -> Progress.auto();
            case "bar" -> Progress.Mode.BAR;
            case "lines" -> Progress.Mode.LINES;
            case "none" -> Progress.Mode.NONE;
            default -> throw new picocli.CommandLine.ParameterException(cmd, "--progress must be auto, bar, lines or none, got '" + progress + "'");
        };
        String name = inputFile.equals("-") ? "standard input" : inputFile;
        EmbedStream.Lines in = EmbedStream.open(inputFile, System.in); // a missing file is reported before the model loads
        try (in) {
            setup.backend.warmUp();
            VocabularyOptions.Loaded loaded = embedding.load(setup.model);
            LoadedModel m = loaded.model();
            BertTokenizer tok = loaded.tokenizer();
            int maxLen = embedding.maxLength(spec.commandLine(), m);
            PrintWriter err = cmd.getErr();
            try (bertj.encoder.BertEncoder encoder = new bertj.encoder.BertEncoder(m.weights(), setup.backend())) {
                SentenceEmbedder e = new SentenceEmbedder(encoder, tok, pooling, normalize, maxLen);
                EmbedStream.Totals t = new EmbedStream(e, embedding.batchSize, name)
                        .run(in, cmd.getOut(), new Progress(err, mode, "texts", 2.0), EmbedStream.countTexts(inputFile));
                if (t.truncated() > 0) {
                    err.printf(Locale.ROOT, "bertj: warning: %,d of %,d texts were cut to %d tokens (\"truncated\": true; see --max-length)%n",
                            t.truncated(), t.texts(), maxLen);
                }
            }
        } catch (java.io.IOException e) {
            throw new Main.UserError(name + ": " + e.getMessage());
        }
        return 0;
    }

    static void printComparison(PrintWriter out, EmbeddingOptions.Run run, EmbeddingOptions.Comparison cmp) {
        if (cmp.run() == null) {
            out.printf("# compare %s: not run: %s%n", cmp.backend(), cmp.unavailable());
        } else {
            out.printf(Locale.ROOT, "# compare %s (%s), %.3f s: embedding cosine to %s >= %s over %d texts%n", cmp.backend(),
                    cmp.run().precision(), cmp.run().seconds(), run.backend(), EmbeddingOptions.cosine(cmp.minCosine()), cmp.cosines().length);
        }
    }

    static String abbreviate(String s) {
        return s.length() <= 60 ? s : s.substring(0, 57) + "...";
    }
}
