package bertj.spark;

import org.apache.spark.sql.SparkSession;
import org.apache.spark.util.LongAccumulator;

import java.io.Serializable;
import java.util.Locale;

/**
 * Counters the tasks of a job add to (Spark accumulators, summed on the driver): rows, rows with an error, forward
 * passes, and tokens with and without padding. Read them after the job's action has run; a task that Spark runs
 * twice (a retry, a speculative copy) counts twice.
 */
public final class JobStats implements Serializable {
    private static final long serialVersionUID = 1L;

    final LongAccumulator rows, errors, passes, tokens, paddedTokens;

    private JobStats(SparkSession spark) {
        var sc = spark.sparkContext();
        rows = sc.longAccumulator("bertj rows");
        errors = sc.longAccumulator("bertj rows with an error");
        passes = sc.longAccumulator("bertj forward passes");
        tokens = sc.longAccumulator("bertj tokens");
        paddedTokens = sc.longAccumulator("bertj tokens with padding");
    }

    public static JobStats register(SparkSession spark) {
        return new JobStats(spark);
    }

    public long rows() {
        return rows.value();
    }

    public long errors() {
        return errors.value();
    }

    public long passes() {
        return passes.value();
    }

    public long tokens() {
        return tokens.value();
    }

    public long paddedTokens() {
        return paddedTokens.value();
    }

    /** e.g. "1,000 rows (3 with an error), 12 forward passes, 14,210 tokens, 91.2% of the padded 15,580". */
    public String summary() {
        long padded = paddedTokens();
        return String.format(Locale.ROOT, "%,d rows (%,d with an error), %,d forward passes, %,d tokens%s", rows(), errors(), passes(),
                tokens(), padded == 0 ? "" : String.format(Locale.ROOT, ", %.1f%% of the padded %,d", 100.0 * tokens() / padded, padded));
    }
}
