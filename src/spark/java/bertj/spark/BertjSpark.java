package bertj.spark;

import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;

/**
 * bertj over a Spark Dataset: sentence embeddings and question answering as transformations, computed on the
 * executors by the same {@link bertj.embed.SentenceEmbedder} and {@link bertj.qa.QuestionAnswerer} the command
 * line uses.
 * <pre>
 *   Dataset&lt;Row&gt; texts = spark.read().parquet("texts.parquet");              // a string column "text"
 *   EmbedJob job = EmbedJob.of(ModelSpec.of("hdfs:///models/minilm")).withPooling("mean", true);
 *   BertjSpark.embed(texts, job).write().parquet("embeddings.parquet");        // + embedding, tokens, truncated, error
 * </pre>
 * Both are lazy, like any transformation; each action runs them again (cache the result to reuse it). Within a
 * partition the output rows keep the input's order; a row that cannot be processed gets a null result and an
 * {@code error}, and the job goes on. The model is loaded once per executor JVM, from a path every executor can
 * read, a file shipped with {@code --files}, or a Hadoop filesystem URI copied to each executor once
 * ({@link ModelSpec}).
 */
public final class BertjSpark {
    private BertjSpark() {
    }

    /** The rows plus {@code embedding}, {@code tokens}, {@code truncated}, {@code error} ({@link EmbedJob}). */
    public static Dataset<Row> embed(Dataset<Row> input, EmbedJob job) {
        return job.run(input, null);
    }

    /** As {@link #embed(Dataset, EmbedJob)}, counting rows, errors, passes and tokens into {@code stats}. */
    public static Dataset<Row> embed(Dataset<Row> input, EmbedJob job, JobStats stats) {
        return job.run(input, stats);
    }

    /** The rows plus {@code answer}, {@code score}, {@code probability}, {@code start}, {@code end}, {@code error} ({@link QaJob}). */
    public static Dataset<Row> answer(Dataset<Row> input, QaJob job) {
        return job.run(input, null);
    }

    public static Dataset<Row> answer(Dataset<Row> input, QaJob job, JobStats stats) {
        return job.run(input, stats);
    }

    /**
     * The same rows in {@code partitions} partitions and in the same order: range-partitioned on a row number, then
     * sorted within each partition (a plain repartition would shuffle the order).
     */
    public static Dataset<Row> repartitionInOrder(Dataset<Row> input, int partitions) {
        String n = "__bertj_row";
        Column row = functions.col(n);
        return input.withColumn(n, functions.monotonically_increasing_id())
                .repartitionByRange(partitions, row)
                .sortWithinPartitions(row)
                .drop(n);
    }
}
