package bertj.spark;

import bertj.testing.PyTorch;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.core.appender.ConsoleAppender;
import org.apache.logging.log4j.core.config.Configurator;
import org.apache.logging.log4j.core.config.builder.api.ConfigurationBuilder;
import org.apache.logging.log4j.core.config.builder.api.ConfigurationBuilderFactory;
import org.apache.logging.log4j.core.config.builder.impl.BuiltConfiguration;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * What the Spark tests share, made once per test JVM: a local[2] session bound to loopback, corpora, and a random
 * NVIDIA-format 4L-288D checkpoint (weights/make_checkpoint.py) with the BERT-uncased vocabulary beside it.
 */
final class SparkTesting {
    private SparkTesting() {
    }

    private static SparkSession spark;
    private static Path qaDir;

    static synchronized SparkSession spark() {
        if (spark == null) {
            // Warnings and errors only, on stderr. A configuration of our own, not log4j's default one: Spark
            // replaces a default configuration with its own, which logs every task at INFO.
            ConfigurationBuilder<BuiltConfiguration> b = ConfigurationBuilderFactory.newConfigurationBuilder();
            b.add(b.newAppender("stderr", "Console").addAttribute("target", ConsoleAppender.Target.SYSTEM_ERR)
                    .add(b.newLayout("PatternLayout").addAttribute("pattern", "%d{HH:mm:ss} %p %c{1}: %m%n")));
            b.add(b.newRootLogger(Level.WARN).add(b.newAppenderRef("stderr")));
            Configurator.reconfigure(b.build());
            spark = SparkSession.builder()
                    .master("local[2]")
                    .appName("bertj spark tests")
                    .config("spark.driver.host", "127.0.0.1")
                    .config("spark.driver.bindAddress", "127.0.0.1")
                    .config("spark.ui.enabled", "false")
                    .config("spark.ui.showConsoleProgress", "false")
                    .config("spark.sql.shuffle.partitions", "2")
                    .getOrCreate();
        }
        return spark;
    }

    /** Rows in exactly {@code partitions} contiguous slices, in order. */
    static Dataset<Row> rows(List<Row> rows, StructType schema, int partitions) {
        var rdd = JavaSparkContext.fromSparkContext(spark().sparkContext()).parallelize(rows, partitions);
        return spark().createDataFrame(rdd, schema);
    }

    private static final String[] SUBJECTS = {"The old mill", "A young engineer", "The city council", "Our neighbour's dog",
            "The river", "A group of students", "The orchestra", "My grandmother", "The ferry", "An astronomer"};
    private static final String[] VERBS = {"crossed", "repaired", "discussed", "photographed", "measured", "painted", "described",
            "ignored", "celebrated", "studied"};
    private static final String[] OBJECTS = {"the stone bridge", "a broken violin", "the annual budget", "the northern lights",
            "three wooden boats", "the migrating geese", "a forgotten letter", "the harbour walls", "an empty theatre",
            "the winter festival"};
    private static final String[] TAILS = {"", " yesterday", " in the rain", " before dawn", " with great care", " for the first time",
            " despite the noise", " near the station", ", which surprised everyone", " and then went home"};

    /** One sentence; {@code clauses} joined clauses, so lengths vary from a few tokens to hundreds. */
    static String sentence(Random r, int clauses) {
        StringBuilder sb = new StringBuilder();
        for (int c = 0; c < clauses; c++) {
            if (c > 0) sb.append(r.nextBoolean() ? "; " : ", and ");
            sb.append(c == 0 ? SUBJECTS[r.nextInt(SUBJECTS.length)] : SUBJECTS[r.nextInt(SUBJECTS.length)].toLowerCase())
                    .append(' ').append(VERBS[r.nextInt(VERBS.length)]).append(' ').append(OBJECTS[r.nextInt(OBJECTS.length)])
                    .append(TAILS[r.nextInt(TAILS.length)]);
            if (r.nextInt(5) == 0) sb.append(" in ").append(1800 + r.nextInt(220));
        }
        return sb.append('.').toString();
    }

    /** Texts of 1 to 3 clauses (about 6 to 40 tokens), and one in 25 of 6 to 12 (up to about 150). */
    static List<String> corpus(long seed, int n) {
        Random r = new Random(seed);
        List<String> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) out.add(sentence(r, r.nextInt(25) == 0 ? 6 + r.nextInt(7) : 1 + r.nextInt(3)));
        return out;
    }

    /** A directory with bert.pt (random, NVIDIA's format, 4L-288D) and vocab.txt (BERT uncased), made once. */
    static synchronized Path qaModelDir() {
        if (qaDir == null) {
            try {
                Path dir = Files.createTempDirectory("bertj-spark-qa-");
                PyTorch.checkpoint(dir, "bert.pt", PyTorch.seed("spark QA checkpoint"));
                vocabTxt(dir.resolve("vocab.txt"));
                qaDir = dir;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return qaDir;
    }

    /** BERT's uncased vocabulary (from all-MiniLM-L6-v2's tokenizer.json, a test dependency) as a vocab.txt. */
    static void vocabTxt(Path out) throws IOException {
        JsonNode vocab;
        try (InputStream in = SparkTesting.class.getClassLoader().getResourceAsStream("all-minilm-l6-v2-tokenizer.json")) {
            if (in == null) throw new AssertionError("all-minilm-l6-v2-tokenizer.json is not on the test class path");
            vocab = new ObjectMapper().readTree(in).get("model").get("vocab");
        }
        String[] byId = new String[vocab.size()];
        vocab.properties().forEach(e -> byId[e.getValue().asInt()] = e.getKey());
        Files.writeString(out, String.join("\n", byId) + "\n", StandardCharsets.UTF_8);
    }

    /** A passage of {@code sentences} sentences, and questions about it built from its own words. */
    record Passage(String context, List<String> questions) {
    }

    static Passage passage(Random r, int sentences, int questions) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < sentences; i++) sb.append(i == 0 ? "" : " ").append(sentence(r, 1 + r.nextInt(2)));
        List<String> q = new ArrayList<>();
        String[] wh = {"Who", "What", "When", "Where", "Why did", "How many times"};
        for (int i = 0; i < questions; i++) {
            q.add(wh[r.nextInt(wh.length)] + " " + VERBS[r.nextInt(VERBS.length)] + " " + OBJECTS[r.nextInt(OBJECTS.length)] + "?");
        }
        return new Passage(sb.toString(), q);
    }
}
