package bertj.spark;

import bertj.backend.Backends;
import bertj.embed.SentenceEmbedder;
import bertj.encoder.BertEncoder;
import bertj.model.LoadedModel;
import bertj.model.ModelLoader;
import bertj.testing.PyTorch;
import bertj.tokenizer.BertTokenizer;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The embed job on local[2] against the single-JVM {@link SentenceEmbedder} on the built-in all-MiniLM-L6-v2:
 * 1,000 texts in 8 partitions, bad rows in one of them, the output written as Parquet and JSON Lines and read back.
 */
class EmbedJobTest {
    @TempDir
    static Path dir;

    static final StructType SCHEMA = new StructType().add("id", DataTypes.IntegerType, false).add("text", DataTypes.StringType, true);
    static final int N = 1000, PARTITIONS = 8;
    /** Rows of partition 3 (rows 375..499) that cannot be embedded, and why. */
    static final Map<Integer, String> BAD = new HashMap<>();
    static List<String> texts;
    static Dataset<Row> out;
    static List<Row> collected;
    static JobStats stats;
    static final ModelSpec SPEC = ModelSpec.of("minilm");
    static final EmbedJob JOB = EmbedJob.of(SPEC).withPooling("mean", true).withMaxLength(null, false).withBatching(4096, 50);

    @BeforeAll
    static void run() {
        texts = new ArrayList<>(SparkTesting.corpus(PyTorch.seed("spark embed corpus"), N));
        String longText = String.join(" ", SparkTesting.corpus(11, 60));
        texts.set(380, null);
        BAD.put(380, "the text is null");
        texts.set(390, "");
        BAD.put(390, "the text is empty");
        texts.set(400, " \t\n ");
        BAD.put(400, "the text is empty");
        texts.set(410, longText);
        texts.set(420, longText + " " + longText);
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < N; i++) rows.add(RowFactory.create(i, texts.get(i)));
        stats = JobStats.register(SparkTesting.spark());
        out = BertjSpark.embed(SparkTesting.rows(rows, SCHEMA, PARTITIONS), JOB, stats).persist(StorageLevel.MEMORY_AND_DISK());
        long t0 = System.nanoTime();
        collected = out.collectAsList();
        System.out.printf("[spark embed] %s in %.1f s%n", stats.summary(), (System.nanoTime() - t0) / 1e9);
    }

    @AfterAll
    static void release() {
        if (out != null) out.unpersist();
    }

    @Test
    void sameEmbeddingsAsTheSingleJvmEmbedderInInputOrder() {
        LoadedModel m = ModelLoader.load(Path.of("minilm"));
        BertTokenizer tok = BertTokenizer.load(m.vocab(), null);
        List<String> good = new ArrayList<>();
        for (int i = 0; i < N; i++) {
            if (i != 410 && i != 420 && !BAD.containsKey(i)) good.add(texts.get(i));
        }
        List<SentenceEmbedder.Embedding> expected, cls, raw;
        try (BertEncoder encoder = new BertEncoder(m.weights(), Backends.create("cpu"))) {
            expected = new SentenceEmbedder(encoder, tok, SentenceEmbedder.Pooling.MEAN, true, 512).embed(good, 32);
            // For the negative controls below: a wrong pooling, a missing normalisation.
            cls = new SentenceEmbedder(encoder, tok, SentenceEmbedder.Pooling.CLS, true, 512).embed(good.subList(0, 20), 32);
            raw = new SentenceEmbedder(encoder, tok, SentenceEmbedder.Pooling.MEAN, false, 512).embed(good.subList(0, 20), 32);
        }
        assertEquals(N, collected.size());
        int at = 0, compared = 0;
        for (int i = 0; i < N; i++) {
            Row r = collected.get(i);
            assertEquals(i, r.getInt(0), "rows come back in input order");
            assertEquals(texts.get(i), r.getString(1));
            if (BAD.containsKey(i)) {
                assertTrue(r.isNullAt(2) && r.isNullAt(3) && r.isNullAt(4));
                assertEquals(BAD.get(i), r.getString(5));
                continue;
            }
            if (i == 410 || i == 420) {
                assertTrue(r.isNullAt(2));
                assertTrue(r.getString(5).matches("the text has [0-9,]+ tokens with \\[CLS] and \\[SEP], over the max length of 512; .*"),
                        r.getString(5));
                continue;
            }
            SentenceEmbedder.Embedding e = expected.get(at++);
            assertNull(r.get(5), () -> "row " + r + " has an error");
            assertArrayEquals(floats(e.vector()), floats(r.getList(2)), "row " + i + ": bit for bit as the single-JVM embedder");
            assertEquals(e.tokens(), r.getInt(3));
            assertEquals(e.truncated(), r.getBoolean(4));
            compared++;
        }
        assertEquals(N - 5, compared);
        System.out.println("[spark embed] " + compared + " embeddings equal, bit for bit, to SentenceEmbedder.embed on one JVM");

        // Negative controls: the comparison sees a wrong pooling, or a missing normalisation.
        for (int k = 0; k < cls.size(); k++) {
            assertFalse(java.util.Arrays.equals(floats(expected.get(k).vector()), floats(cls.get(k).vector())));
            assertFalse(java.util.Arrays.equals(floats(expected.get(k).vector()), floats(raw.get(k).vector())));
        }
    }

    @Test
    void batchedByTokensSortedByLength() {
        assertEquals(N, stats.rows());
        assertEquals(BAD.size() + 2, stats.errors());
        double efficiency = (double) stats.tokens() / stats.paddedTokens();
        // 20 chunks of 50 rows, each sorted by length: a few passes per chunk, no row more than a quarter padding.
        assertTrue(stats.passes() <= 200, stats.summary());
        assertTrue(efficiency >= 0.75, stats.summary());
    }

    @Test
    void modelLoadedOncePerJvmWhateverTheTasks() {
        int before = ExecutorModels.uses(SPEC);
        // A second job with the same model: 4 more tasks, no second load.
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < 12; i++) rows.add(RowFactory.create(i, texts.get(i)));
        List<Row> again = BertjSpark.embed(SparkTesting.rows(rows, SCHEMA, 4), JOB).collectAsList();
        for (int i = 0; i < 12; i++) assertEquals(collected.get(i), again.get(i));
        assertEquals(1, ExecutorModels.loads(SPEC));
        assertTrue(ExecutorModels.uses(SPEC) >= PARTITIONS + 4, "uses " + ExecutorModels.uses(SPEC));
        assertEquals(before + 4, ExecutorModels.uses(SPEC));
        System.out.println("[spark embed] model loaded " + ExecutorModels.loads(SPEC) + " time(s) for " + ExecutorModels.uses(SPEC) + " tasks");
    }

    @Test
    void writtenOutputReadBackEqualsTheRows() {
        Map<Integer, Row> byId = new HashMap<>();
        for (Row r : collected) byId.put(r.getInt(0), r);
        for (String format : List.of(Io.PARQUET, Io.JSONL)) {
            String path = dir.resolve("out." + format).toString();
            Io.write(out, path, format, false);
            List<Row> back = Io.read(SparkTesting.spark(), path, format, out.schema()).collectAsList();
            assertEquals(N, back.size(), format);
            for (Row r : back) assertEquals(byId.get(r.getInt(0)), r, format + " row " + r.getInt(0));
            // Written once: a second write without --force is refused, with force it replaces.
            var e = assertThrows(Exception.class, () -> Io.write(out, path, format, false));
            assertTrue(String.valueOf(e.getMessage()).contains("already exists"), e.getMessage());
        }
        // A float that JSON could not carry back exactly would show here: one row, its embedding compared as bits.
        Row first = byId.get(0);
        Row json = Io.read(SparkTesting.spark(), dir.resolve("out.jsonl").toString(), Io.JSONL, out.schema())
                .filter("id = 0").collectAsList().get(0);
        assertArrayEquals(floats(first.getList(2)), floats(json.getList(2)));
        assertNotEquals(0, floats(first.getList(2))[0]);
    }

    @Test
    void schemaProblemsAreSentencesBeforeAnythingRuns() {
        Dataset<Row> in = SparkTesting.rows(List.of(RowFactory.create(1, "x")), SCHEMA, 1);
        assertEquals("the input has no column 'body' for the text (its columns: id, text); choose one with --text-column",
                assertThrows(IllegalArgumentException.class, () -> BertjSpark.embed(in, JOB.withTextColumn("body"))).getMessage());
        assertEquals("column 'id' is int, not a string; the text must be text",
                assertThrows(IllegalArgumentException.class, () -> BertjSpark.embed(in, JOB.withTextColumn("id"))).getMessage());
        Dataset<Row> clash = in.withColumnRenamed("id", "error");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> BertjSpark.embed(clash, JOB)).getMessage()
                .contains("already has a column 'error'"));
    }

    @Test
    void repartitionInOrderKeepsTheOrder() {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < 200; i++) rows.add(RowFactory.create(i, "t" + i));
        Dataset<Row> one = SparkTesting.rows(rows, SCHEMA, 1);
        Dataset<Row> four = BertjSpark.repartitionInOrder(one, 4);
        assertEquals(4, four.javaRDD().getNumPartitions());
        assertEquals(rows, four.collectAsList());
        // Negative control: a plain repartition scatters the rows.
        assertNotEquals(rows, one.repartition(4).collectAsList());
    }

    static float[] floats(double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) f[i] = (float) v[i];
        return f;
    }

    static float[] floats(List<Object> v) {
        float[] f = new float[v.size()];
        for (int i = 0; i < f.length; i++) f[i] = (Float) v.get(i);
        return f;
    }
}
