package bertj.qa;

import bertj.readers.ModelFileException;
import bertj.readers.Utf8;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A SQuAD v1.1 file: {"data": [{"title", "paragraphs": [{"context", "qas": [{"id", "question", "answers":
 * [{"text", "answer_start"}]}]}]}]}. Read strictly: a missing or mistyped field is a one-line error naming the
 * JSON path (data[3].paragraphs[0].qas[2].question); "answers" may be absent (a file to predict, not evaluate);
 * "title" and "answer_start" are optional; question ids must be unique.
 *
 * <p>Refused as well, with the path: a "version" other than 1.1 (SQuAD v2.0 says "v2.0"), a question marked
 * "is_impossible" (v2.0's unanswerable questions need a no-answer decision that a v1.1 model and the v1.1
 * evaluation do not make), and an empty or blank question (`qa` refuses one too: there is nothing to answer, and a
 * span predicted for it would only look like an answer). The whole file is refused rather than the question
 * skipped: the official evaluation scores a missing prediction as wrong, so a skipped question would change EM/F1
 * without a word.
 */
public record SquadData(String version, List<Paragraph> paragraphs) {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The "version" values of SQuAD v1.1 files (dev-v1.1.json and train-v1.1.json say "1.1"). */
    private static final Set<String> SUPPORTED_VERSIONS = Set.of("1.1", "v1.1");

    public record Answer(String text, int answerStart) {
    }

    public record Question(String id, String question, List<Answer> answers) {
    }

    public record Paragraph(String title, String context, List<Question> questions) {
    }

    public int questionCount() {
        int n = 0;
        for (Paragraph p : paragraphs) n += p.questions().size();
        return n;
    }

    /** Questions with at least one answer, for evaluation. */
    public List<SquadEvaluation.Question> answered() {
        List<SquadEvaluation.Question> out = new ArrayList<>();
        for (Paragraph p : paragraphs) {
            for (Question q : p.questions()) {
                if (!q.answers().isEmpty()) out.add(new SquadEvaluation.Question(q.id(), SquadEvaluation.texts(q.answers())));
            }
        }
        return out;
    }

    public static SquadData read(Path file) {
        return parse(Utf8.read(file, "a SQuAD v1.1 JSON file"), file.toString());
    }

    public static SquadData parse(String text, String source) {
        JsonNode root;
        try {
            root = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            var loc = e.getLocation();
            throw new ModelFileException(source + ": not valid JSON" + (loc == null ? "" : " (line " + loc.getLineNr()
                    + ", column " + loc.getColumnNr() + ")") + ": " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) throw bad(source, "", "the file must hold a JSON object with a \"data\" array");
        JsonNode data = root.get("data");
        if (data == null || !data.isArray()) throw bad(source, "data", "missing or not an array; is this a SQuAD v1.1 file?");
        JsonNode v = root.get("version");
        String version = v == null || v.isNull() ? null : v.asText();
        if (version != null && !SUPPORTED_VERSIONS.contains(version)) {
            throw bad(source, "", "version \"" + version + "\": " + (version.replace("v", "").startsWith("2")
                    ? "a SQuAD v2.0 file; bertj answers SQuAD v1.1 (every question answerable), not v2.0's unanswerable questions"
                    : "not SQuAD v1.1 (\"version\": \"1.1\")"));
        }
        List<Paragraph> paragraphs = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        for (int a = 0; a < data.size(); a++) {
            String ap = "data[" + a + "]";
            JsonNode article = data.get(a);
            if (!article.isObject()) throw bad(source, ap, "must be an object");
            String title = optionalString(source, ap, article, "title");
            JsonNode ps = article.get("paragraphs");
            if (ps == null || !ps.isArray()) throw bad(source, ap + ".paragraphs", "missing or not an array");
            for (int p = 0; p < ps.size(); p++) {
                String pp = ap + ".paragraphs[" + p + "]";
                JsonNode para = ps.get(p);
                if (!para.isObject()) throw bad(source, pp, "must be an object");
                String context = string(source, pp, para, "context");
                JsonNode qas = para.get("qas");
                if (qas == null || !qas.isArray()) throw bad(source, pp + ".qas", "missing or not an array");
                List<Question> questions = new ArrayList<>();
                for (int q = 0; q < qas.size(); q++) {
                    String qp = pp + ".qas[" + q + "]";
                    JsonNode qa = qas.get(q);
                    if (!qa.isObject()) throw bad(source, qp, "must be an object");
                    String id = string(source, qp, qa, "id");
                    if (!ids.add(id)) throw bad(source, qp + ".id", "\"" + id + "\" is used by another question; ids must be unique");
                    String question = string(source, qp, qa, "question");
                    if (question.isBlank()) throw bad(source, qp + ".question", "question \"" + id + "\" is empty; every question needs text");
                    JsonNode impossible = qa.get("is_impossible");
                    if (impossible != null && impossible.asBoolean(false)) {
                        throw bad(source, qp + ".is_impossible", "question \"" + id + "\" is marked unanswerable (SQuAD v2.0); "
                                + "bertj answers SQuAD v1.1, where every question has an answer");
                    }
                    List<Answer> answers = new ArrayList<>();
                    JsonNode as = qa.get("answers");
                    if (as != null && !as.isNull()) {
                        if (!as.isArray()) throw bad(source, qp + ".answers", "must be an array");
                        for (int k = 0; k < as.size(); k++) {
                            String kp = qp + ".answers[" + k + "]";
                            JsonNode an = as.get(k);
                            if (!an.isObject()) throw bad(source, kp, "must be an object");
                            String t = string(source, kp, an, "text");
                            JsonNode st = an.get("answer_start");
                            if (st != null && !st.isNull() && !st.canConvertToInt()) throw bad(source, kp + ".answer_start", "must be an integer");
                            answers.add(new Answer(t, st == null || st.isNull() ? -1 : st.asInt()));
                        }
                    }
                    questions.add(new Question(id, question, List.copyOf(answers)));
                }
                paragraphs.add(new Paragraph(title, context, List.copyOf(questions)));
            }
        }
        return new SquadData(version, List.copyOf(paragraphs));
    }

    private static String string(String source, String path, JsonNode obj, String field) {
        JsonNode n = obj.get(field);
        if (n == null || !n.isTextual()) {
            throw bad(source, path + "." + field, n == null ? "missing (a string is required)" : "must be a string, not " + n.getNodeType().name().toLowerCase());
        }
        return n.asText();
    }

    private static String optionalString(String source, String path, JsonNode obj, String field) {
        JsonNode n = obj.get(field);
        if (n == null || n.isNull()) return null;
        if (!n.isTextual()) throw bad(source, path + "." + field, "must be a string");
        return n.asText();
    }

    private static ModelFileException bad(String source, String path, String what) {
        return new ModelFileException(source + ": " + (path.isEmpty() ? "" : path + ": ") + what);
    }
}
