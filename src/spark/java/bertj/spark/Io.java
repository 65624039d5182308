package bertj.spark;

import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

/**
 * Reading and writing the jobs' rows (Parquet, JSON Lines) and single files (a SQuAD input, a predictions file) on
 * local disk or any Hadoop filesystem.
 */
public final class Io {
    private Io() {
    }

    public static final String PARQUET = "parquet", JSONL = "jsonl";

    /** "parquet" or "jsonl" as given, else told by the path's extension (.parquet; .jsonl, .json, .ndjson), else an error naming the option. */
    public static String format(String given, String path, String option) {
        if (given != null) {
            String g = given.toLowerCase(Locale.ROOT);
            if (g.equals(PARQUET) || g.equals(JSONL)) return g;
            throw new IllegalArgumentException(option + " must be parquet or jsonl, got '" + given + "'");
        }
        String p = path.toLowerCase(Locale.ROOT).replaceAll("/+$", "");
        if (p.endsWith(".parquet")) return PARQUET;
        if (p.endsWith(".jsonl") || p.endsWith(".json") || p.endsWith(".ndjson")) return JSONL;
        throw new IllegalArgumentException("cannot tell the format of " + path + " from its name; pass " + option + " parquet or jsonl");
    }

    public static Dataset<Row> read(SparkSession spark, String path, String format) {
        return format.equals(PARQUET) ? spark.read().parquet(path) : spark.read().json(path);
    }

    /** JSON Lines read with a known schema (no inference pass), e.g. to read back what {@link #write} wrote. */
    public static Dataset<Row> read(SparkSession spark, String path, String format, StructType schema) {
        return format.equals(PARQUET) ? spark.read().schema(schema).parquet(path) : spark.read().schema(schema).json(path);
    }

    /**
     * Writes a directory of part files (Spark's layout for both formats). JSON Lines keeps null fields
     * ({@code "answer": null}), as bertj's JSON does. An existing path is an error unless {@code force}.
     */
    public static void write(Dataset<Row> rows, String path, String format, boolean force) {
        var w = rows.write().mode(force ? SaveMode.Overwrite : SaveMode.ErrorIfExists);
        if (format.equals(PARQUET)) w.parquet(path);
        else w.option("ignoreNullFields", "false").json(path);
    }

    /** Whether a file or directory exists at a local path or a Hadoop filesystem URI. */
    public static boolean exists(String location) throws IOException {
        if (!ModelFiles.isUri(location)) return Files.exists(Path.of(location));
        org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(URI.create(location));
        return p.getFileSystem(ModelFiles.hadoopConfiguration()).exists(p);
    }

    /** A whole UTF-8 text file from a local path or a Hadoop filesystem URI. */
    public static String readText(String location) throws IOException {
        if (!ModelFiles.isUri(location)) return Files.readString(Path.of(location), StandardCharsets.UTF_8);
        org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(URI.create(location));
        FileSystem fs = p.getFileSystem(ModelFiles.hadoopConfiguration());
        try (InputStream in = fs.open(p)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /**
     * Writes a text file whole: locally through a temporary sibling moved into place (a failed run never leaves
     * half a file), on a Hadoop filesystem with create(overwrite = force). An existing file is an error unless
     * {@code force}.
     */
    public static void writeText(String location, String text, boolean force) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        if (!ModelFiles.isUri(location)) {
            Path p = Path.of(location).toAbsolutePath();
            if (Files.exists(p) && !force) throw new IllegalArgumentException(location + " already exists; choose another or pass --force");
            Path tmp = Files.createTempFile(p.getParent(), "." + p.getFileName() + ".", ".tmp");
            try {
                Files.write(tmp, bytes);
                Files.move(tmp, p, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(tmp);
            }
            return;
        }
        org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(URI.create(location));
        FileSystem fs = p.getFileSystem(ModelFiles.hadoopConfiguration());
        if (fs.exists(p) && !force) throw new IllegalArgumentException(location + " already exists; choose another or pass --force");
        try (FSDataOutputStream out = fs.create(p, force)) {
            out.write(bytes);
        }
    }
}
