package bertj.spark;

import bertj.testing.Cli;
import bertj.testing.PyTorch;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The spark-submit command line, run in-process on the tests' local[2] session: SQuAD against {@code bertj squad}, JSON Lines in, errors. */
class SparkMainTest {
    @TempDir
    static Path dir;
    static Path squad, texts;

    record Result(int code, String out, String err) {
    }

    static Result run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int code;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8); PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            code = SparkMain.run(args, o, e);
        }
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @BeforeAll
    static void files() throws IOException {
        SparkTesting.spark();
        ObjectMapper json = new ObjectMapper();
        Random r = new Random(PyTorch.seed("spark SQuAD file"));
        ObjectNode root = json.createObjectNode().put("version", "1.1");
        ArrayNode data = root.putArray("data");
        int id = 0;
        for (int a = 0; a < 3; a++) {
            ObjectNode article = data.addObject().put("title", "Article " + a);
            ArrayNode paragraphs = article.putArray("paragraphs");
            for (int p = 0; p < 3; p++) {
                SparkTesting.Passage passage = SparkTesting.passage(r, 3 + r.nextInt(5), 4);
                ObjectNode para = paragraphs.addObject().put("context", passage.context());
                ArrayNode qas = para.putArray("qas");
                String[] words = passage.context().split(" ");
                for (String q : passage.questions()) {
                    int from = r.nextInt(words.length - 3);
                    String answer = String.join(" ", List.of(words).subList(from, from + 1 + r.nextInt(3)));
                    ObjectNode qa = qas.addObject().put("id", "q" + id++).put("question", q);
                    qa.putArray("answers").addObject().put("text", answer).put("answer_start", passage.context().indexOf(answer));
                }
            }
        }
        squad = dir.resolve("squad.json");
        Files.writeString(squad, json.writeValueAsString(root));
        StringBuilder sb = new StringBuilder();
        List<String> corpus = SparkTesting.corpus(5, 30);
        for (int i = 0; i < corpus.size(); i++) {
            sb.append(json.writeValueAsString(json.createObjectNode().put("n", i).put("text", i == 7 ? "" : corpus.get(i)))).append('\n');
        }
        texts = dir.resolve("texts.jsonl");
        Files.writeString(texts, sb.toString());
    }

    @Test
    void squadPredictionsAndScoresAsBertjSquadWritesThem() throws IOException {
        Path model = SparkTesting.qaModelDir().resolve("bert.pt");
        Path ours = dir.resolve("spark-predictions.json"), theirs = dir.resolve("cli-predictions.json");
        // both commands' default (NVIDIA's decoding), then --decoding masked
        for (String decoding : new String[] {null, "masked"}) {
            List<String> extra = decoding == null ? List.of() : List.of("--decoding", decoding);
            List<String> sparkArgs = new java.util.ArrayList<>(List.of("qa", "--model", model.toString(), "--squad", squad.toString(),
                    "--predictions", ours.toString(), "--output", dir.resolve("answers.parquet").toString(), "--partitions", "3",
                    "--batch-tokens", "2000", "--force"));
            sparkArgs.addAll(extra);
            Result spark = run(sparkArgs.toArray(String[]::new));
            assertEquals(0, spark.code(), spark.err());
            assertTrue(spark.err().contains(decoding == null ? "decoding nvidia (every window padded to 384, lower-casing python)"
                    : "decoding masked (padding never ranked, lower-casing hf)"), spark.err());
            List<String> cliArgs = new java.util.ArrayList<>(List.of("squad", "--model", model.toString(), "--data", squad.toString(),
                    "--out", theirs.toString(), "--progress", "none", "--force"));
            cliArgs.addAll(extra);
            Cli.Result cli = Cli.run(cliArgs.toArray(String[]::new));
            assertEquals(0, cli.code(), cli.err());
            assertEquals(Files.readString(theirs), Files.readString(ours), "the predictions file, byte for byte (" + extra + ")");
            assertEquals(cli.out().strip(), spark.out().strip(), "EM/F1");
            assertTrue(spark.out().startsWith("{\"exact_match\":"), spark.out());
            assertTrue(spark.err().contains("answered 36 rows (0 with an error)"), spark.err());
            List<Row> rows = Io.read(SparkTesting.spark(), dir.resolve("answers.parquet").toString(), Io.PARQUET).collectAsList();
            assertEquals(36, rows.size());
            System.out.println("[spark qa] SQuAD through spark-submit's main" + (decoding == null ? "" : ", --decoding " + decoding)
                    + ": predictions and " + spark.out().strip() + " equal to bertj squad's");
        }
        Files.delete(ours);
        Result first = run("qa", "--model", model.toString(), "--squad", squad.toString(), "--predictions", ours.toString());
        assertEquals(0, first.code(), first.err());

        // Written once: without --force an existing predictions file is an error (exit 1), with it it is replaced.
        Result again = run("qa", "--model", model.toString(), "--squad", squad.toString(), "--predictions", ours.toString());
        assertEquals(1, again.code());
        assertTrue(again.err().contains("already exists; choose another --predictions or pass --force"), again.err());
    }

    @Test
    void embedJsonLinesToParquet() {
        String out = dir.resolve("emb.parquet").toString();
        Result r = run("embed", "--model", "minilm", "--input", texts.toString(), "--output", out, "--normalize", "--partitions", "2");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("embedded 30 rows (1 with an error)"), r.err());
        // Read back in the input's order (Spark reads part files in no set order).
        List<Row> rows = Io.read(SparkTesting.spark(), out, Io.PARQUET).orderBy("n").collectAsList();
        assertEquals(30, rows.size());
        for (int i = 0; i < rows.size(); i++) {
            Row row = rows.get(i);
            assertEquals(i, (long) row.getAs("n"));
            if (i == 7) assertEquals("the text is empty", row.getAs("error"));
            else assertEquals(384, row.getList(row.fieldIndex("embedding")).size());
        }
    }

    @Test
    void errorsAreOneLineWithTheRightExitCode() {
        String in = texts.toString();
        Result format = run("embed", "--model", "minilm", "--input", in, "--output", dir.resolve("x.txt").toString());
        assertEquals(2, format.code());
        assertTrue(format.err().startsWith("bertj-spark: cannot tell the format of"), format.err());
        Result column = run("embed", "--model", "minilm", "--input", in, "--output", dir.resolve("c.parquet").toString(), "--text-column", "body");
        assertEquals(1, column.code());
        assertEquals("bertj-spark: the input has no column 'body' for the text (its columns: n, text); choose one with --text-column\n", column.err());
        Result model = run("embed", "--model", dir.resolve("nosuch.pt").toString(), "--input", in, "--output", dir.resolve("m.parquet").toString());
        assertEquals(1, model.code());
        assertTrue(model.err().matches("bertj-spark: .*nosuch.pt: no such file or directory \\(built-in models: minilm\\)\n"), model.err());
        Result noHead = run("qa", "--model", "minilm", "--squad", squad.toString());
        assertEquals(1, noHead.code());
        assertTrue(noHead.err().startsWith("bertj-spark: the model has no QA head"), noHead.err());
        Result usage = run("qa", "--model", "minilm", "--input", in, "--output", dir.resolve("q.parquet").toString(), "--predictions", "p.json");
        assertEquals(2, usage.code());
        assertTrue(usage.err().contains("--predictions needs --squad"), usage.err());
        Result decoding = run("qa", "--model", "minilm", "--squad", squad.toString(), "--decoding", "hf");
        assertEquals(2, decoding.code());
        assertTrue(decoding.err().contains("--decoding must be nvidia or masked, got 'hf'"), decoding.err());
        Result backend = run("embed", "--model", "minilm", "--input", in, "--output", dir.resolve("b.parquet").toString(), "--backend", "gpu");
        assertEquals(2, backend.code());
        assertTrue(backend.err().contains("unknown backend 'gpu'"), backend.err());
        for (Result x : List.of(format, column, model, noHead, usage, decoding, backend)) {
            assertEquals(1, x.err().split("\n").length, "one line: " + x.err());
        }
    }
}
