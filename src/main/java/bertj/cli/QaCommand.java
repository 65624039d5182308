package bertj.cli;

import bertj.model.LoadedModel;
import bertj.qa.Answer;
import bertj.qa.Decoding;
import bertj.qa.QaSettings;
import bertj.qa.QuestionAnswerer;
import bertj.readers.Utf8;
import bertj.tokenizer.BertTokenizer;
import bertj.tokenizer.LowerCasing;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "qa", description = {
        "Answer a question from a passage with run_squad.py's windows and decoding.",
        "--decoding nvidia gives exactly the answer NVIDIA's run_squad.py gives with the same checkpoint; masked (the default)",
        "differs from it only where padding outranks the passage among the n-best positions.",
        "JSON: {\"answer\", \"score\" (start + end logit), \"probability\" (softmax over the n-best), \"start\", \"end\"};",
        "start/end are character (code point) offsets into the context, end exclusive; a list when --top-k > 1.",
        "When no window holds a valid span the answer is null (an empty list with --top-k > 1);",
        "with --decoding nvidia it is NVIDIA's placeholder \"empty\" (score 0, probability 1, start/end null)."})
public final class QaCommand implements Callable<Integer> {
    @Mixin
    EncoderOptions setup;
    @Mixin
    QaOptions qa;

    @Option(names = "--question", required = true, paramLabel = "Q", description = "The question.")
    String question;

    @ArgGroup(multiplicity = "1")
    Context context;

    static final class Context {
        @Option(names = "--context", required = true, paramLabel = "C", description = "The passage.")
        String text;

        @Option(names = "--context-file", required = true, paramLabel = "F", description = "A UTF-8 file holding the passage.")
        Path file;
    }

    @Option(names = "--top-k", paramLabel = "K", defaultValue = "1", description = "Answers to give, best first (at most --n-best-size; default 1).")
    int topK;

    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    @Option(names = "--max-context-chars", paramLabel = "N", defaultValue = "100000",
            description = "Refuse longer passages (0: no limit; default ${DEFAULT-VALUE}). A passage takes one forward pass per"
                    + " window, about one per 128 tokens, so a megabyte of text is thousands of passes.")
    int maxContextChars;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        CommandLine cmd = spec.commandLine();
        setup.check(cmd);
        QaSettings settings = qa.settings(cmd, Decoding.MASKED);
        LowerCasing lowerCasing = qa.lowerCasing(cmd, settings);
        if (topK < 1 || topK > settings.nBestSize()) {
            throw new CommandLine.ParameterException(cmd, "--top-k must be between 1 and --n-best-size (" + settings.nBestSize() + "), got " + topK);
        }
        if (maxContextChars < 0) throw new CommandLine.ParameterException(cmd, "--max-context-chars must be 0 (no limit) or positive");
        String ctx = context.file != null ? Utf8.read(context.file, "the passage as UTF-8 text") : context.text;
        if (question.isBlank()) throw new Main.UserError("the question is empty");
        if (ctx.isBlank()) throw new Main.UserError(context.file != null ? context.file + ": the passage is empty" : "the context is empty");
        long chars = ctx.codePointCount(0, ctx.length());
        if (maxContextChars > 0 && chars > maxContextChars) {
            throw new Main.UserError(String.format("the context has %,d characters, over the limit of %,d (--max-context-chars); "
                    + "it would take about %,d windows of %d tokens; pass a larger limit, or 0 for none, to run it anyway",
                    chars, maxContextChars, Math.max(1, chars / 4 / settings.docStride()), settings.maxSeqLength()));
        }
        VocabularyOptions.Loaded read = qa.load(setup.model, lowerCasing);
        LoadedModel loaded = read.model();
        BertTokenizer tok = read.tokenizer();
        List<Answer> answers;
        try (QuestionAnswerer answerer = QuestionAnswerer.of(loaded, tok, setup.backend(), settings, qa.batch)) {
            answers = answerer.answers(question, ctx, topK);
        }
        PrintWriter out = cmd.getOut();
        if (answers.isEmpty() || answers.get(0).isPlaceholder()) {
            cmd.getErr().println("bertj: no valid answer span: every top start/end candidate fell outside the passage"
                    + (settings.decoding() == Decoding.NVIDIA ? " (padding included, with --decoding nvidia)" : "")
                    + ", outside its best window, or made a span longer than --max-answer-length"
                    + (answers.isEmpty() ? "" : "; answering with NVIDIA's placeholder \"empty\""));
        }
        if (json) {
            if (topK == 1) {
                out.println(Json.write(answers.isEmpty() ? none() : toJson(answers.get(0))));
            } else {
                ArrayNode list = Json.MAPPER.createArrayNode();
                for (Answer a : answers) list.add(toJson(a));
                out.println(Json.write(list));
            }
        } else {
            for (int i = 0; i < answers.size(); i++) {
                Answer a = answers.get(i);
                String prefix = topK > 1 ? (i + 1) + ". " : "";
                out.println(prefix + a.text());
                if (a.isPlaceholder()) {
                    out.printf("%sNVIDIA's placeholder: no span (score 0, probability 1)%n", " ".repeat(prefix.length()));
                } else {
                    out.printf("%sscore %.4f (probability %.4f), characters %d-%d%n", " ".repeat(prefix.length()), a.score(),
                            a.probability(), a.start(), a.end());
                }
            }
        }
        return 0;
    }

    static ObjectNode toJson(Answer a) {
        ObjectNode n = Json.object();
        n.put("answer", a.text());
        n.put("score", a.score());
        n.put("probability", a.probability());
        n.put("start", a.startOrNull());
        n.put("end", a.endOrNull());
        n.put("start_logit", a.startLogit());
        n.put("end_logit", a.endLogit());
        return n;
    }

    private static ObjectNode none() {
        ObjectNode n = Json.object();
        n.putNull("answer");
        n.putNull("score");
        n.putNull("probability");
        n.putNull("start");
        n.putNull("end");
        return n;
    }
}
