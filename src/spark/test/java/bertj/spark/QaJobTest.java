package bertj.spark;

import bertj.backend.Backends;
import bertj.model.ModelLoader;
import bertj.qa.Answer;
import bertj.qa.QaSettings;
import bertj.qa.QuestionAnswerer;
import bertj.testing.PyTorch;
import bertj.tokenizer.BertTokenizer;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The qa job on local[2] against the single-JVM {@link QuestionAnswerer} on a random NVIDIA-format 4L-288D
 * checkpoint: about 200 questions over passages of one to several windows, bad rows in one partition, the model and
 * vocabulary given as file:// URIs (copied through Hadoop's FileSystem once per JVM).
 */
class QaJobTest {
    static final StructType SCHEMA = new StructType().add("id", DataTypes.IntegerType, false)
            .add("question", DataTypes.StringType, true).add("context", DataTypes.StringType, true);

    @Test
    void sameAnswersAsTheSingleJvmAnswererAndBadRowsDoNotFailTheJob() {
        Path dir = SparkTesting.qaModelDir();
        Random r = new Random(PyTorch.seed("spark QA questions"));
        List<String[]> qc = new ArrayList<>();
        for (int p = 0; p < 40; p++) {
            // Mostly one window; every eighth passage is long enough for several (384-token windows, stride 128).
            SparkTesting.Passage passage = SparkTesting.passage(r, p % 8 == 0 ? 30 + r.nextInt(20) : 3 + r.nextInt(6), 5);
            for (String q : passage.questions()) qc.add(new String[] {q, passage.context()});
        }
        // Bad rows, all in the third of 4 partitions (rows 100..149 of 200).
        Map<Integer, String[]> bad = new HashMap<>();
        bad.put(110, new String[] {null, qc.get(110)[1]});
        bad.put(115, new String[] {"   ", qc.get(115)[1]});
        bad.put(120, new String[] {qc.get(120)[0], null});
        bad.put(125, new String[] {qc.get(125)[0], "\n\t "});
        bad.put(130, new String[] {qc.get(130)[0], "\u200B\u0000\u200B"});
        bad.put(135, new String[] {"\u0001\u200B", qc.get(135)[1]});
        bad.put(140, new String[] {qc.get(140)[0], "word ".repeat(2_000)});
        bad.forEach(qc::set);
        int n = qc.size();
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < n; i++) rows.add(RowFactory.create(i, qc.get(i)[0], qc.get(i)[1]));

        ModelSpec spec = ModelSpec.of(dir.resolve("bert.pt").toUri().toString()).withVocab(dir.resolve("vocab.txt").toUri().toString());
        QaJob job = QaJob.of(spec).withBatching(3000, 16).withRules(false, 5_000);
        int copies = ModelFiles.copies();
        JobStats stats = JobStats.register(SparkTesting.spark());
        long t0 = System.nanoTime();
        List<Row> out = BertjSpark.answer(SparkTesting.rows(rows, SCHEMA, 4), job, stats).collectAsList();
        System.out.printf("[spark qa] %s in %.1f s%n", stats.summary(), (System.nanoTime() - t0) / 1e9);
        assertEquals(1, ExecutorModels.loads(spec));
        assertEquals(copies + 2, ModelFiles.copies(), "model and vocabulary copied once each");

        var loaded = ModelLoader.load(dir.resolve("bert.pt"));
        BertTokenizer tok = BertTokenizer.load(dir.resolve("vocab.txt"), null);
        int answered = 0, none = 0;
        try (QuestionAnswerer ref = QuestionAnswerer.of(loaded, tok, Backends.create("cpu"), QaSettings.RUN_SQUAD, 16)) {
            assertEquals(n, out.size());
            for (int i = 0; i < n; i++) {
                Row o = out.get(i);
                assertEquals(i, o.getInt(0), "rows come back in input order");
                String q = qc.get(i)[0], c = qc.get(i)[1];
                if (i == 140) {
                    assertEquals("the context has 10,000 characters, over the limit of 5,000 (--max-context-chars; 0 for none)", o.getAs("error"));
                    continue;
                }
                if (bad.containsKey(i)) {
                    // The same sentence the single-JVM answerer throws.
                    String expected = assertThrows(IllegalArgumentException.class, () -> ref.answer(q, c)).getMessage();
                    assertEquals(expected, o.getAs("error"), "row " + i);
                    assertNull(o.getAs("answer"));
                    continue;
                }
                Answer a = ref.answer(q, c);
                assertNull(o.getAs("error"), () -> "row " + o);
                if (a == null) {
                    assertNull(o.getAs("answer"));
                    none++;
                    continue;
                }
                assertEquals(a.text(), o.getAs("answer"), "row " + i);
                assertEquals(a.score(), (double) o.getAs("score"), 0.0, "row " + i + ": bit for bit");
                assertEquals(a.probability(), (double) o.getAs("probability"), 0.0, "row " + i);
                assertEquals(a.start(), (int) o.getAs("start"));
                assertEquals(a.end(), (int) o.getAs("end"));
                answered++;
            }
        }
        System.out.println("[spark qa] " + answered + " answers equal, bit for bit, to QuestionAnswerer.answer on one JVM ("
                + none + " without a valid span, " + bad.size() + " bad rows)");
        assertTrue(answered >= 150, "answered " + answered);
        assertEquals(bad.size(), stats.errors());
        // Windows of several questions share passes: far fewer passes than windows.
        assertTrue(stats.passes() < n / 2, stats.summary());
        // Negative control: the other GELU (erf; NVIDIA's checkpoints use tanh) moves the scores, and the comparison
        // sees it. Not every score moves: with the checkpoint seed 455694635 and the questions seed 61000143, row 3's
        // score came out bit-identical under both forms (they agree in float32 wherever |x| is large); the other
        // nine moved. So most of the rows must move, not all.
        var erf = ModelLoader.load(dir.resolve("bert.pt"), new ModelLoader.Options(bertj.model.GeluForm.ERF, null, null));
        try (QuestionAnswerer other = QuestionAnswerer.of(erf, tok, Backends.create("cpu"), QaSettings.RUN_SQUAD, 16)) {
            int compared = 0, moved = 0;
            for (int i = 0; i < 10; i++) {
                Answer a = other.answer(qc.get(i)[0], qc.get(i)[1]);
                Row o = out.get(i);
                if (a == null || o.getAs("score") == null) continue;
                if (a.score() != (double) o.getAs("score")) moved++;
                compared++;
            }
            System.out.println("[spark qa] negative control, erf GELU: " + moved + " of " + compared + " scores moved");
            assertTrue(compared >= 5, "compared " + compared);
            assertTrue(moved >= compared - 2, "the erf GELU moved only " + moved + " of " + compared + " scores");
        }
    }
}
