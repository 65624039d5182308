package bertj.cli;

import bertj.encoder.BertEncoder;
import bertj.explain.Capture;
import bertj.explain.ExplainReport;
import bertj.explain.Explanation;
import bertj.model.LoadedModel;
import bertj.qa.Answer;
import bertj.qa.Feature;
import bertj.qa.Passage;
import bertj.qa.QaSettings;
import bertj.qa.QuestionAnswerer;
import bertj.qa.SpanDecoder;
import bertj.tokenizer.BertTokenizer;
import bertj.tokenizer.Vocabulary;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "explain", description = {
        "Write one self-contained HTML file showing what the model does with one input:",
        "the word pieces; every layer's and head's attention (a model view of all heads;",
        "a heatmap and a bertviz-style head view of the one clicked); each token's",
        "hidden-state norm per layer; for a QA model the start/end logits and the span;",
        "the settings and the model's info. It loads nothing from the network.",
        "See docs/explain.md."})
public final class ExplainCommand implements Callable<Integer> {
    @Mixin
    EncoderOptions setup;
    @Mixin
    QaOptions qa;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Input input;

    static final class Input {
        @Option(names = "--text", required = true, paramLabel = "T", description = "A text: the model reads [CLS] T [SEP], cut to --max-seq-length tokens.")
        String text;

        @ArgGroup(exclusive = false, multiplicity = "1")
        Question question;
    }

    static final class Question {
        @Option(names = "--question", required = true, paramLabel = "Q", description = "A question (needs a model with a QA head) ...")
        String question;

        @Option(names = "--context", required = true, paramLabel = "C", description = "... about this passage: the model reads"
                + " [CLS] Q [SEP] C [SEP], in windows as run_squad.py builds them.")
        String context;
    }

    @Option(names = "--window", paramLabel = "K", defaultValue = "0",
            description = "With --question: which window to show when the passage needs several (0-based; default 0).")
    int window;

    @Option(names = "--out", required = true, paramLabel = "report.html", description = "Where to write the report.")
    Path out;

    @Option(names = "--force", description = "Overwrite --out if it exists.")
    boolean force;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        CommandLine cmd = spec.commandLine();
        setup.check(cmd);
        // the window settings only apply to questions; a text is only cut to --max-seq-length
        if (input.text != null && qa.maxSeqLength < 3) {
            throw new CommandLine.ParameterException(cmd, "--max-seq-length must leave room for [CLS], a token and [SEP] (at least 3)");
        }
        QaSettings settings = input.text != null ? null : qa.settings(cmd, bertj.qa.Decoding.MASKED);
        if (settings != null && settings.decoding() != bertj.qa.Decoding.MASKED) {
            // the report shows one window as the model saw it, unpadded; NVIDIA's decoding ranks padding too
            throw new CommandLine.ParameterException(cmd, "explain shows the masked decoding only (padding never competes); drop --decoding");
        }
        if (window < 0) throw new CommandLine.ParameterException(cmd, "--window must be 0 or positive, got " + window);
        if (Files.exists(out) && !force) throw new Main.UserError(out + " already exists; choose another --out or pass --force");
        Path dir = out.toAbsolutePath().getParent();
        if (dir != null && !Files.isDirectory(dir)) throw new Main.UserError(out + ": the folder " + dir + " does not exist");
        if (input.text != null && input.text.isBlank()) throw new Main.UserError("the text is empty");
        if (input.question != null && input.question.question.isBlank()) throw new Main.UserError("the question is empty");
        if (input.question != null && input.question.context.isBlank()) throw new Main.UserError("the context is empty");

        VocabularyOptions.Loaded read = qa.load(setup.model, settings == null ? bertj.tokenizer.LowerCasing.HF : qa.lowerCasing(cmd, settings));
        LoadedModel loaded = read.model();
        BertTokenizer tok = read.tokenizer();
        Explanation e = input.text != null ? text(loaded, tok) : question(loaded, tok, settings);
        ExplainReport.write(e, out);
        long bytes;
        try {
            bytes = Files.size(out);
        } catch (java.io.IOException ex) {
            throw new java.io.UncheckedIOException(ex);
        }
        Capture c = e.capture();
        PrintWriter pw = cmd.getOut();
        pw.printf(Locale.ROOT, "wrote %s: %d tokens, %d layers x %d heads, %s%s%n", out, c.seqLen(), c.layers(), c.heads(), size(bytes),
                e.answer() == null ? "" : ", answer \"" + e.answer().text() + "\"");
        for (String note : e.notes()) cmd.getErr().println("bertj: note: " + note);
        return 0;
    }

    private Explanation text(LoadedModel loaded, BertTokenizer tok) {
        Vocabulary v = tok.vocab();
        BertTokenizer.Encoding enc = tok.encode(input.text);
        if (enc.ids().length == 0) {
            throw new Main.UserError("the text has no tokens once control and zero-width characters are removed");
        }
        int max = Math.min(qa.maxSeqLength, loaded.config().maxPositions());
        int keep = Math.min(enc.ids().length, max - 2);
        List<String> tokens = new ArrayList<>(keep + 2);
        int[] ids = new int[keep + 2];
        tokens.add(v.token(v.clsId()));
        ids[0] = v.clsId();
        for (int i = 0; i < keep; i++) {
            tokens.add(enc.tokens().get(i));
            ids[i + 1] = enc.ids()[i];
        }
        tokens.add(v.token(v.sepId()));
        ids[keep + 1] = v.sepId();
        checkVocabulary(tok, loaded);
        List<String> notes = new ArrayList<>();
        if (keep < enc.ids().length) {
            notes.add(String.format(Locale.ROOT, "the text has %d tokens; the first %d are shown (--max-seq-length %d with [CLS] and [SEP])",
                    enc.ids().length, keep, max));
        }
        Capture c;
        try (BertEncoder encoder = new BertEncoder(loaded.weights(), setup.backend())) {
            c = Capture.run(encoder, ids, new int[ids.length]);
        }
        List<Explanation.Setting> s = common(loaded, tok, c);
        s.add(1, new Explanation.Setting("input", "--text " + abbreviate(input.text)));
        s.add(new Explanation.Setting("max sequence length", max + " tokens"));
        return new Explanation(title(loaded), tokens, ids, new int[ids.length], null, c, null, s, info(loaded), notes);
    }

    private Explanation question(LoadedModel loaded, BertTokenizer tok, QaSettings settings) {
        if (!loaded.weights().hasQaHead()) {
            throw new Main.UserError(loaded.source() + " has no QA head (qa_outputs), so it cannot answer --question;"
                    + " explain a plain input with --text instead");
        }
        String q = input.question.question, ctx = input.question.context;
        try (QuestionAnswerer answerer = QuestionAnswerer.of(loaded, tok, setup.backend(), settings, 1)) {
            Passage passage = answerer.passage(ctx);
            if (passage.tokens().isEmpty()) throw new Main.UserError("the context has no tokens once control and zero-width characters are removed");
            if (tok.encode(q).ids().length == 0) throw new Main.UserError("the question has no tokens once control and zero-width characters are removed");
            List<Feature> windows = answerer.features(List.of(new QuestionAnswerer.Example("", q, passage))).get(0);
            if (window >= windows.size()) {
                throw new Main.UserError("--window " + window + " is past the last window: the passage makes " + windows.size()
                        + " window" + (windows.size() == 1 ? "" : "s") + " (0.." + (windows.size() - 1) + ")");
            }
            Feature f = windows.get(window);
            Capture c = Capture.run(answerer.encoder(), f.inputIds(), f.tokenTypeIds());
            List<Answer> answers = SpanDecoder.decode(passage, List.of(f), List.of(c.startLogits()), List.of(c.endLogits()),
                    settings, tok.basic());
            Explanation.Span span = answers.isEmpty() ? null : span(f, c, answers.get(0), settings);
            boolean[] inPassage = new boolean[f.length()];
            for (int i = 0; i < inPassage.length; i++) inPassage[i] = f.inPassage(i);
            List<String> notes = new ArrayList<>();
            if (windows.size() > 1) {
                notes.add(String.format(Locale.ROOT, "the passage makes %d windows of at most %d tokens (--max-seq-length, --doc-stride %d);"
                                + " this report shows window %d and the best span within it (--window K shows another; bertj qa answers over all)",
                        windows.size(), settings.maxSeqLength(), settings.docStride(), window));
            }
            if (answers.isEmpty()) notes.add("no valid answer span in this window");
            List<Explanation.Setting> s = common(loaded, tok, c);
            s.add(1, new Explanation.Setting("input", "--question " + abbreviate(q) + "  --context " + abbreviate(ctx)));
            s.add(new Explanation.Setting("window", window + " of " + windows.size() + " (passage tokens from " + f.passageStart() + ")"));
            s.add(new Explanation.Setting("QA settings", String.format(Locale.ROOT,
                    "max-seq-length %d, doc-stride %d, max-query-length %d, n-best-size %d, max-answer-length %d",
                    settings.maxSeqLength(), settings.docStride(), settings.maxQueryLength(), settings.nBestSize(), settings.maxAnswerLength())));
            return new Explanation(title(loaded), f.tokens(), f.inputIds(), f.tokenTypeIds(), inPassage, c, span, s, info(loaded), notes);
        }
    }

    /**
     * The token positions of the decoded answer: the valid (start, end) pair whose logits are the answer's. The
     * decoder reports logits, not positions; two positions with bit-identical logits do not occur in practice,
     * and if they did the first valid pair would be as good an answer.
     */
    static Explanation.Span span(Feature f, Capture c, Answer a, QaSettings s) {
        double[] st = c.startLogits(), en = c.endLogits();
        for (int i = 0; i < f.length(); i++) {
            if (st[i] != a.startLogit() || !f.inPassage(i) || !f.maxContext()[i]) continue;
            for (int j = i; j < f.length() && j - i + 1 <= s.maxAnswerLength(); j++) {
                if (en[j] == a.endLogit() && f.inPassage(j)) return new Explanation.Span(i, j, a.text(), a.score(), a.probability());
            }
        }
        throw new IllegalStateException("the decoded answer's logits are at no valid position of the window");
    }

    private List<Explanation.Setting> common(LoadedModel loaded, BertTokenizer tok, Capture c) {
        List<Explanation.Setting> s = new ArrayList<>();
        s.add(new Explanation.Setting("model", loaded.source() + " (" + loaded.format() + ")"));
        s.add(new Explanation.Setting("tokenizer", tok.describe()));
        s.add(new Explanation.Setting("tokens", Integer.toString(c.seqLen())));
        s.add(new Explanation.Setting("backend", c.backend() + " (" + c.precision() + ")"
                + (setup.backend.threads != null && setup.backend.threads > 0 ? ", " + setup.backend.threads + " threads" : "")
                + (c.backend().equals("opencl") ? ", device " + (setup.backend.device == null ? 0 : setup.backend.device) : "")));
        s.add(new Explanation.Setting("GELU", loaded.config().gelu().label()));
        s.add(new Explanation.Setting("forward pass", String.format(Locale.ROOT, "%.3f s (with the copies of every intermediate to the host)", c.seconds())));
        String v = Main.class.getPackage().getImplementationVersion();
        s.add(new Explanation.Setting("made by", "bertj " + (v == null ? "development build" : v) + ", "
                + ZonedDateTime.now().truncatedTo(ChronoUnit.SECONDS).format(DateTimeFormatter.ISO_OFFSET_DATE_TIME)));
        return s;
    }

    private void checkVocabulary(BertTokenizer tok, LoadedModel loaded) {
        Vocabulary v = tok.vocab();
        if (v.idLimit() > loaded.config().vocabSize()) {
            throw new Main.UserError(v.source() + ": the vocabulary has ids up to " + (v.idLimit() - 1) + " but the model's word"
                    + " embeddings have " + loaded.config().vocabSize() + " rows; is this the model's vocabulary?");
        }
    }

    /** The model as the user named it: "minilm", or the file's name. */
    private String title(LoadedModel m) {
        Path name = setup.model.model.getFileName();
        return name == null ? setup.model.model.toString() : name.toString();
    }

    private static String info(LoadedModel m) {
        StringWriter w = new StringWriter();
        InfoCommand.printText(new PrintWriter(w), m);
        return w.toString();
    }

    private static String abbreviate(String s) {
        String one = s.replaceAll("\\s+", " ").trim();
        return one.codePointCount(0, one.length()) <= 200 ? one : one.substring(0, one.offsetByCodePoints(0, 199)) + "…";
    }

    /** Decimal units, as file managers show them: 1 MB = 10⁶ bytes. */
    static String size(long bytes) {
        return bytes >= 1_000_000 ? String.format(Locale.ROOT, "%.1f MB", bytes / 1e6) : String.format(Locale.ROOT, "%.0f kB", bytes / 1e3);
    }
}
