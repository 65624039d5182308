package bertj.spark;

import bertj.model.BuiltinModels;
import bertj.readers.ModelFileException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.SparkEnv;
import org.apache.spark.SparkFiles;
import scala.Tuple2;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Turns where a model (or vocabulary, or config) is said to be into a file this JVM can read, in order:
 * <ol>
 *   <li>a URI with a scheme (hdfs://, s3a://, gs://, abfs://, file://, …): copied with Hadoop's FileSystem (file or
 *       directory) to this JVM's local disk, once per JVM and URI, under Spark's work directory for the
 *       application (so Spark deletes it), and read from there;</li>
 *   <li>a path that exists here: read in place;</li>
 *   <li>a built-in model name (minilm): left to {@link bertj.model.ModelLoader};</li>
 *   <li>a file shipped with {@code spark-submit --files}: found by its name with {@link SparkFiles#get}.</li>
 * </ol>
 * Anything else is returned as given, for the loader's "no such file" error.
 */
public final class ModelFiles {
    private ModelFiles() {
    }

    private static final Map<String, Path> COPIED = new ConcurrentHashMap<>();
    private static final AtomicInteger COPIES = new AtomicInteger();

    /** The local file for a location; null for null. */
    public static Path local(String location) {
        if (location == null) return null;
        if (isUri(location)) {
            // compute runs the copy once; concurrent tasks asking for the same URI wait for it. A copy that is gone
            // (its application's work directory removed when a session stopped, in a JVM that goes on) is made again.
            return COPIED.compute(location, (k, copied) -> copied != null && Files.exists(copied) ? copied : copy(k));
        }
        Path p = Path.of(location);
        if (Files.exists(p) || BuiltinModels.byName(location) != null) return p;
        if (SparkEnv.get() != null && p.getFileName() != null) {
            Path shipped = Path.of(SparkFiles.get(p.getFileName().toString()));
            if (Files.exists(shipped)) return shipped;
        }
        return p;
    }

    /** How many copies from a Hadoop filesystem this JVM has made (for tests: once per URI). */
    public static int copies() {
        return COPIES.get();
    }

    /** A URI with a scheme of two or more letters: {@code C:\models} (a Windows drive) is a path. */
    static boolean isUri(String s) {
        try {
            String scheme = new URI(s).getScheme();
            return scheme != null && scheme.length() > 1;
        } catch (URISyntaxException e) {
            return false;
        }
    }

    private static Path copy(String location) {
        org.apache.hadoop.fs.Path src = new org.apache.hadoop.fs.Path(URI.create(location));
        try {
            FileSystem fs = src.getFileSystem(hadoopConfiguration());
            if (!fs.exists(src)) throw new ModelFileException(location + ": no such file or directory");
            Path root = Path.of(SparkEnv.get() != null ? SparkFiles.getRootDirectory() : System.getProperty("java.io.tmpdir"));
            Path dir = Files.createTempDirectory(root.toAbsolutePath(), "bertj-model-");
            String name = src.getName().isEmpty() ? "model" : src.getName();
            Path dst = dir.resolve(name);
            // useRawLocalFileSystem: no .crc files beside the copy.
            fs.copyToLocalFile(false, src, new org.apache.hadoop.fs.Path(dst.toUri()), true);
            COPIES.incrementAndGet();
            return dst;
        } catch (IOException e) {
            throw new ModelFileException(location + ": cannot copy it from its filesystem: " + e.getMessage(), e);
        }
    }

    /** Hadoop's configuration as Spark gives it to its own readers: the defaults plus every spark.hadoop.* setting. */
    static Configuration hadoopConfiguration() {
        Configuration conf = new Configuration();
        SparkEnv env = SparkEnv.get();
        if (env != null) {
            for (Tuple2<String, String> kv : env.conf().getAll()) {
                if (kv._1().startsWith("spark.hadoop.")) conf.set(kv._1().substring("spark.hadoop.".length()), kv._2());
            }
        }
        return conf;
    }
}
