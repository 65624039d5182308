package bertj.spark;

import bertj.qa.SquadData;
import bertj.qa.SquadEvaluation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * SQuAD v1.1 files as rows, and the rows' answers as {@code bertj squad} writes them: the predictions file
 * ({"id": "answer", …}, "" for a question without a valid span) and EM/F1 by the official v1.1 evaluation.
 */
public final class Squad {
    private Squad() {
    }

    public static final String ID = "id", TITLE = "title", QUESTION = "question", CONTEXT = "context", ANSWERS = "answers";

    /** One row per question: id, the article's title, question, the paragraph's context, the answer texts (maybe empty). */
    public static final StructType SCHEMA = new StructType()
            .add(ID, DataTypes.StringType, false)
            .add(TITLE, DataTypes.StringType, true)
            .add(QUESTION, DataTypes.StringType, false)
            .add(CONTEXT, DataTypes.StringType, false)
            .add(ANSWERS, DataTypes.createArrayType(DataTypes.StringType, false), false);

    /** Same writer settings as bertj's commands: indented, NaN as a string. */
    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .enable(JsonWriteFeature.WRITE_NAN_AS_STRINGS)
            .build();

    /** Reads and checks a SQuAD v1.1 file (local path or Hadoop filesystem URI), on the driver. */
    public static SquadData read(String location) throws java.io.IOException {
        return SquadData.parse(Io.readText(location), location);
    }

    /**
     * The questions as rows in file order, in {@code partitions} contiguous slices (questions about one paragraph
     * stay together, so a task splits each context once).
     */
    public static Dataset<Row> rows(SparkSession spark, SquadData data, int partitions) {
        List<Row> rows = new ArrayList<>(data.questionCount());
        for (SquadData.Paragraph p : data.paragraphs()) {
            for (SquadData.Question q : p.questions()) {
                Object answers = q.answers().stream().map(SquadData.Answer::text).toArray(String[]::new);
                rows.add(RowFactory.create(q.id(), p.title(), q.question(), p.context(), answers));
            }
        }
        var rdd = JavaSparkContext.fromSparkContext(spark.sparkContext()).parallelize(rows, Math.max(1, partitions));
        return spark.createDataFrame(rdd, SCHEMA);
    }

    /** id → answer text, in the rows' order; "" where the answer is null (no valid span, or an error). */
    public static Map<String, String> predictions(List<Row> answered) {
        Map<String, String> out = new LinkedHashMap<>();
        for (Row r : answered) {
            String a = r.getAs(QaJob.ANSWER);
            out.put(r.getAs(ID), a == null ? "" : a);
        }
        return out;
    }

    /** The predictions file's text, byte for byte as {@code bertj squad --out} writes it. */
    public static String predictionsJson(Map<String, String> predictions) {
        ObjectNode n = JSON.createObjectNode();
        predictions.forEach(n::put);
        try {
            return JSON.writeValueAsString(n) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {"exact_match":…,"f1":…} on one line, as {@code bertj squad} prints it; null when the file holds no answers. */
    public static String scoreLine(SquadData data, Map<String, String> predictions) {
        List<SquadEvaluation.Question> answered = data.answered();
        if (answered.isEmpty()) return null;
        SquadEvaluation.Result r = SquadEvaluation.evaluate(answered, predictions);
        ObjectNode res = JSON.createObjectNode();
        res.put("exact_match", r.exactMatch());
        res.put("f1", r.f1());
        try {
            return JSON.writer().without(SerializationFeature.INDENT_OUTPUT).writeValueAsString(res);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
