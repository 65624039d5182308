package bertj.cli;

import bertj.model.LoadedModel;
import bertj.qa.Answer;
import bertj.qa.Feature;
import bertj.qa.Passage;
import bertj.qa.QaSettings;
import bertj.qa.QuestionAnswerer;
import bertj.qa.SquadData;
import bertj.qa.SquadEvaluation;
import bertj.tokenizer.BertTokenizer;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "squad", description = {
        "Answer every question of a SQuAD v1.1 file and write the predictions in the official format ({\"id\": \"answer\", ...}).",
        "When the file holds answers, print {\"exact_match\": ..., \"f1\": ...} as the official v1.1 evaluation computes them.",
        "Existing output files are not overwritten unless --force is given.",
        "A question whose passage has no tokens is predicted as \"\".",
        "Progress goes to stderr: a bar with rate and time left on a terminal, plain lines otherwise."})
public final class SquadCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model;
    @Mixin
    QaOptions qa;
    @Mixin
    BackendOptions backend;
    @Mixin
    VerboseOption verbose;

    @Option(names = "--data", required = true, paramLabel = "dev-v1.1.json", description = "SQuAD v1.1 JSON (answers optional).")
    Path data;

    @Option(names = "--out", required = true, paramLabel = "predictions.json", description = "Where to write the predictions.")
    Path out;

    @Option(names = "--nbest-out", paramLabel = "F", description = "Also write each question's n-best answers (text, probability, start_logit, end_logit).")
    Path nbestOut;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "16", description = "Windows per forward pass (default ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--force", description = "Overwrite --out and --nbest-out if they exist.")
    boolean force;

    @Option(names = "--progress", paramLabel = "auto|bar|lines|none", defaultValue = "auto",
            description = "Progress on stderr: a bar on a terminal, plain lines otherwise (default ${DEFAULT-VALUE}).")
    String progress;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        CommandLine cmd = spec.commandLine();
        QaSettings settings = qa.settings(cmd);
        if (batch < 1) throw new CommandLine.ParameterException(cmd, "--batch must be at least 1, got " + batch);
        Progress.Mode mode = switch (progress) {
            case "auto" -> Progress.auto();
            case "bar" -> Progress.Mode.BAR;
            case "lines" -> Progress.Mode.LINES;
            case "none" -> Progress.Mode.NONE;
            default -> throw new CommandLine.ParameterException(cmd, "--progress must be auto, bar, lines or none, got '" + progress + "'");
        };
        checkWritable(out, "--out");
        if (nbestOut != null) {
            checkWritable(nbestOut, "--nbest-out");
            if (nbestOut.toAbsolutePath().normalize().equals(out.toAbsolutePath().normalize())) {
                throw new CommandLine.ParameterException(cmd, "--out and --nbest-out name the same file");
            }
        }
        PrintWriter err = cmd.getErr();
        backend.warmUp();
        SquadData squad = SquadData.read(data);
        LoadedModel loaded = model.load();
        BertTokenizer tok = qa.tokenizer(loaded);

        List<List<Answer>> answers;
        List<SquadData.Question> questions = new ArrayList<>();
        try (QuestionAnswerer answerer = QuestionAnswerer.of(loaded, tok, backend.create(), settings, batch)) {
            long t0 = System.nanoTime();
            List<QuestionAnswerer.Example> examples = new ArrayList<>();
            for (SquadData.Paragraph p : squad.paragraphs()) {
                Passage passage = answerer.passage(p.context());
                for (SquadData.Question q : p.questions()) {
                    examples.add(new QuestionAnswerer.Example(q.id(), q.question(), passage));
                    questions.add(q);
                }
            }
            List<List<Feature>> features = answerer.features(examples);
            int windows = features.stream().mapToInt(List::size).sum();
            if (mode != Progress.Mode.NONE) {
                err.printf("%,d questions on %,d passages: %,d windows, tokenized in %.2f s%n", examples.size(),
                        squad.paragraphs().size(), windows, (System.nanoTime() - t0) / 1e9);
            }
            answers = answerer.decode(examples, features, new Progress(err, mode, "windows"));
        }

        Map<String, String> predictions = new LinkedHashMap<>();
        ObjectNode predJson = Json.object(), nbestJson = Json.object();
        int none = 0;
        for (int i = 0; i < questions.size(); i++) {
            List<Answer> a = answers.get(i);
            String text = a.isEmpty() ? "" : a.get(0).text();
            if (a.isEmpty()) none++;
            predictions.put(questions.get(i).id(), text);
            predJson.put(questions.get(i).id(), text);
            ArrayNode list = nbestJson.putArray(questions.get(i).id());
            for (Answer x : a) {
                ObjectNode n = list.addObject();
                n.put("text", x.text());
                n.put("probability", x.probability());
                n.put("start_logit", x.startLogit());
                n.put("end_logit", x.endLogit());
            }
        }
        write(out, Json.write(predJson));
        if (nbestOut != null) write(nbestOut, Json.write(nbestJson));
        if (mode != Progress.Mode.NONE) {
            err.printf("wrote %,d predictions to %s%s%n", predictions.size(), out, nbestOut == null ? "" : " and the n-best to " + nbestOut);
        }
        if (none > 0) err.printf("bertj: %,d questions had no valid answer span and are predicted as \"\"%n", none);

        List<SquadEvaluation.Question> answered = squad.answered();
        if (!answered.isEmpty()) {
            if (answered.size() < questions.size()) {
                err.printf("bertj: %,d of %,d questions have no answers in %s and are left out of the evaluation%n",
                        questions.size() - answered.size(), questions.size(), data);
            }
            SquadEvaluation.Result r = SquadEvaluation.evaluate(answered, predictions);
            ObjectNode res = Json.object();
            res.put("exact_match", r.exactMatch());
            res.put("f1", r.f1());
            cmd.getOut().println(Json.MAPPER.writer().without(com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT)
                    .writeValueAsString(res));
        }
        return 0;
    }

    private void checkWritable(Path p, String option) {
        if (Files.isDirectory(p)) throw new Main.UserError(p + " is a directory; " + option + " needs a file name");
        if (Files.exists(p) && !force) throw new Main.UserError(p + " already exists; choose another " + option + " or pass --force");
        Path parent = p.toAbsolutePath().getParent();
        if (parent != null && !Files.isDirectory(parent)) throw new Main.UserError("directory " + parent + " does not exist (" + option + ")");
    }

    /** Writes a sibling temporary file, then moves it into place: a failed run never leaves half a file. */
    private static void write(Path p, String text) throws IOException {
        Path dir = p.toAbsolutePath().getParent();
        Path tmp = Files.createTempFile(dir, "." + p.getFileName() + ".", ".tmp");
        try {
            Files.writeString(tmp, text + "\n", StandardCharsets.UTF_8);
            Files.move(tmp, p, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
