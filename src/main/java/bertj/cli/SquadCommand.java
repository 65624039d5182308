package bertj.cli;

import bertj.model.LoadedModel;
import bertj.qa.Answer;
import bertj.qa.Decoding;
import bertj.qa.Feature;
import bertj.qa.Passage;
import bertj.qa.Prediction;
import bertj.qa.QaSettings;
import bertj.qa.QuestionAnswerer;
import bertj.qa.SquadData;
import bertj.qa.SquadEvaluation;
import bertj.tokenizer.BertTokenizer;
import bertj.tokenizer.LowerCasing;
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
        "When the file holds answers, print {\"exact_match\": ..., \"f1\": ...} as the official v1.1 evaluation computes them",
        "(--json: one object with the decoding and counts as well).",
        "Decoding: nvidia (default) gives exactly NVIDIA's run_squad.py predictions and n-best lists; masked lets padding never compete.",
        "Existing output files are not overwritten unless --force is given.",
        "A question whose passage has no tokens is predicted as \"\" (masked) or, as NVIDIA's script does, left out (nvidia).",
        "A SQuAD v2.0 file, an unanswerable (is_impossible) or an empty question is refused with the JSON path of the question.",
        "Progress goes to stderr: a bar with rate and time left on a terminal, plain lines otherwise."})
public final class SquadCommand implements Callable<Integer> {
    @Mixin
    EncoderOptions setup;
    @Mixin
    QaOptions qa;

    @Option(names = "--data", required = true, paramLabel = "dev-v1.1.json", description = "SQuAD v1.1 JSON (answers optional).")
    Path data;

    @Option(names = "--out", required = true, paramLabel = "predictions.json", description = "Where to write the predictions.")
    Path out;

    @Option(names = "--nbest-out", paramLabel = "F", description = "Also write each question's n-best answers (text, probability, start_logit, end_logit).")
    Path nbestOut;

    @Option(names = "--force", description = "Overwrite --out and --nbest-out if they exist.")
    boolean force;

    @Option(names = "--json", description = "Print one JSON object: exact_match and f1 (null without answers), decoding, lowercasing, "
            + "questions, windows, tokens (real tokens of the windows), padding_among_best (questions whose n-best positions held padding), empty (NVIDIA's placeholder "
            + "answers), no_prediction, seconds.")
    boolean json;

    @Option(names = "--progress", paramLabel = "auto|bar|lines|none", defaultValue = "auto",
            description = "Progress on stderr: a bar on a terminal, plain lines otherwise (default ${DEFAULT-VALUE}).")
    String progress;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        CommandLine cmd = spec.commandLine();
        setup.check(cmd);
        QaSettings settings = qa.settings(cmd, Decoding.NVIDIA);
        LowerCasing lowerCasing = qa.lowerCasing(cmd, settings);
        boolean nvidia = settings.decoding() == Decoding.NVIDIA;
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
        setup.backend.warmUp();
        SquadData squad = SquadData.read(data);
        VocabularyOptions.Loaded read = qa.load(setup.model, lowerCasing);
        LoadedModel loaded = read.model();
        BertTokenizer tok = read.tokenizer();

        List<Prediction> answers;
        List<SquadData.Question> questions = new ArrayList<>();
        int windows;
        long tokens = 0;
        long t0 = System.nanoTime();
        try (QuestionAnswerer answerer = QuestionAnswerer.of(loaded, tok, setup.backend(), settings, qa.batch)) {
            List<QuestionAnswerer.Example> examples = new ArrayList<>();
            for (SquadData.Paragraph p : squad.paragraphs()) {
                Passage passage = answerer.passage(p.context());
                for (SquadData.Question q : p.questions()) {
                    examples.add(new QuestionAnswerer.Example(q.id(), q.question(), passage));
                    questions.add(q);
                }
            }
            List<List<Feature>> features = answerer.features(examples);
            windows = features.stream().mapToInt(List::size).sum();
            for (List<Feature> fs : features) for (Feature f : fs) tokens += f.length();
            if (mode != Progress.Mode.NONE) {
                err.printf("%,d questions on %,d passages: %,d windows, tokenized in %.2f s; decoding %s%n", examples.size(),
                        squad.paragraphs().size(), windows, (System.nanoTime() - t0) / 1e9, settings.describe(lowerCasing));
            }
            answers = answerer.predictions(examples, features, new Progress(err, mode, "windows"));
        }
        double seconds = (System.nanoTime() - t0) / 1e9;

        Map<String, String> predictions = new LinkedHashMap<>();
        ObjectNode predJson = Json.object(), nbestJson = Json.object();
        int none = 0, empty = 0, padded = 0, left = 0;
        for (int i = 0; i < questions.size(); i++) {
            List<Answer> a = answers.get(i).nbest();
            if (answers.get(i).paddingAmongBest()) padded++;
            if (a.isEmpty() && nvidia) {
                left++; // no window: NVIDIA's get_answers gives such a question no prediction at all
                continue;
            }
            String text = a.isEmpty() ? "" : a.get(0).text();
            if (a.isEmpty()) none++;
            if (!a.isEmpty() && a.get(0).isPlaceholder()) empty++;
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
        if (left > 0) {
            err.printf("bertj: %,d questions have no tokens in their passage; as NVIDIA's run_squad.py, they have no prediction "
                    + "(the evaluation scores them 0)%n", left);
        }
        if (nvidia && mode != Progress.Mode.NONE) {
            err.printf("decoding nvidia: padding was among the %d best start/end positions for %,d of %,d questions; "
                    + "%,d answered with NVIDIA's placeholder \"empty\"%n", settings.nBestSize(), padded, questions.size(), empty);
        }

        List<SquadEvaluation.Question> answered = squad.answered();
        if (!answered.isEmpty()) {
            if (answered.size() < questions.size()) {
                err.printf("bertj: %,d of %,d questions have no answers in %s and are left out of the evaluation%n",
                        questions.size() - answered.size(), questions.size(), data);
            }
        }
        SquadEvaluation.Result r = answered.isEmpty() ? null : SquadEvaluation.evaluate(answered, predictions);
        ObjectNode res = Json.object();
        if (r != null) {
            res.put("exact_match", r.exactMatch());
            res.put("f1", r.f1());
        } else if (json) {
            res.putNull("exact_match");
            res.putNull("f1");
        }
        if (json) {
            res.put("decoding", settings.decoding().cliName());
            res.put("lowercasing", lowerCasing.cliName());
            res.put("questions", questions.size());
            res.put("windows", windows);
            res.put("tokens", tokens);
            res.put("padding_among_best", padded);
            res.put("empty", empty);
            res.put("no_prediction", left + none);
            res.put("seconds", seconds);
        }
        if (r != null || json) {
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
