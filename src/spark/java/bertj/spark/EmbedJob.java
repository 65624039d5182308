package bertj.spark;

import bertj.embed.SentenceEmbedder;
import bertj.embed.SentenceEmbedder.Embedding;
import bertj.tokenizer.BertTokenizer;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;

/**
 * Sentence embeddings of a text column, as {@code bertj embed} computes them ({@link SentenceEmbedder}: pooling
 * over the last hidden state, optionally L2-normalised), added to each row as
 * <pre>
 *   embedding  array&lt;float&gt;   null when the row has an error
 *   tokens     int            ids fed to the model, [CLS] and [SEP] included
 *   truncated  boolean        whether the text was cut to max length
 *   error      string         null, or why the row has no embedding (an empty text, a text over max length
 *                             with truncation off, …): a bad row never fails the job
 * </pre>
 * Each task takes its partition {@code chunkRows} rows at a time, sorts a chunk's texts by length, runs them in
 * forward passes of at most {@code batchTokens} padded tokens ({@link TokenBudget}) and gives the rows back in
 * their input order. The model is loaded once per executor JVM ({@link ExecutorModels}).
 *
 * @param textColumn  the input column holding the texts (string)
 * @param pooling     "mean" (sentence-transformers) or "cls"
 * @param normalize   L2-normalise each embedding (what all-MiniLM-L6-v2 is trained for)
 * @param maxLength   ids per text, [CLS] and [SEP] included; null: the model's positions (512 for minilm)
 * @param truncate    cut longer texts to maxLength (as {@code bertj embed} does); false: such a row gets an error
 * @param batchTokens padded tokens per forward pass (rows × longest row)
 * @param chunkRows   rows of a partition sorted and batched together
 */
public record EmbedJob(ModelSpec model, String textColumn, String pooling, boolean normalize, Integer maxLength, boolean truncate,
                       int batchTokens, int chunkRows) implements Serializable {
    public static final String EMBEDDING = "embedding", TOKENS = "tokens", TRUNCATED = "truncated", ERROR = "error";
    public static final int DEFAULT_BATCH_TOKENS = 8192, DEFAULT_CHUNK_ROWS = 4096;

    public EmbedJob {
        if (model == null) throw new IllegalArgumentException("a model is required");
        if (textColumn == null || textColumn.isEmpty()) throw new IllegalArgumentException("a text column is required");
        SentenceEmbedder.Pooling.parse(pooling);
        if (maxLength != null && maxLength < 2) throw new IllegalArgumentException("max length must be at least 2 ([CLS] and [SEP]), got " + maxLength);
        if (batchTokens < 1) throw new IllegalArgumentException("batch tokens must be at least 1, got " + batchTokens);
        if (chunkRows < 1) throw new IllegalArgumentException("chunk rows must be at least 1, got " + chunkRows);
    }

    /** Column "text", mean pooling, not normalised, the model's length, truncation on: {@code bertj embed}'s defaults. */
    public static EmbedJob of(ModelSpec model) {
        return new EmbedJob(model, "text", "mean", false, null, true, DEFAULT_BATCH_TOKENS, DEFAULT_CHUNK_ROWS);
    }

    public EmbedJob withTextColumn(String c) {
        return new EmbedJob(model, c, pooling, normalize, maxLength, truncate, batchTokens, chunkRows);
    }

    public EmbedJob withPooling(String p, boolean n) {
        return new EmbedJob(model, textColumn, p, n, maxLength, truncate, batchTokens, chunkRows);
    }

    public EmbedJob withMaxLength(Integer m, boolean t) {
        return new EmbedJob(model, textColumn, pooling, normalize, m, t, batchTokens, chunkRows);
    }

    public EmbedJob withBatching(int tokens, int rows) {
        return new EmbedJob(model, textColumn, pooling, normalize, maxLength, truncate, tokens, rows);
    }

    /** The embedder a task uses: the executor's shared model, this job's pooling and length. */
    SentenceEmbedder embedder(ExecutorModels.Shared m) {
        int positions = m.encoder().config().maxPositions();
        if (maxLength != null && maxLength > positions) {
            throw new IllegalArgumentException("max length " + maxLength + " is over the model's " + positions + " positions");
        }
        return new SentenceEmbedder(m.encoder(), m.tokenizer(), SentenceEmbedder.Pooling.parse(pooling), normalize,
                maxLength == null ? positions : maxLength);
    }

    /** The input's schema plus this job's columns; an input column of the same name, or a text column that is missing or not a string, is an error. */
    StructType outputSchema(StructType in) {
        Jobs.requireString(in, textColumn, "text", "--text-column");
        Jobs.requireFree(in, EMBEDDING, TOKENS, TRUNCATED, ERROR);
        return in.add(EMBEDDING, DataTypes.createArrayType(DataTypes.FloatType, false), true)
                .add(TOKENS, DataTypes.IntegerType, true)
                .add(TRUNCATED, DataTypes.BooleanType, true)
                .add(ERROR, DataTypes.StringType, true);
    }

    Dataset<Row> run(Dataset<Row> input, JobStats stats) {
        StructType out = outputSchema(input.schema());
        return input.mapPartitions(new Partitions(this, input.schema().fieldIndex(textColumn), stats), Encoders.row(out));
    }

    static final class Partitions implements MapPartitionsFunction<Row, Row> {
        private static final long serialVersionUID = 1L;
        private final EmbedJob job;
        private final int textIndex;
        private final JobStats stats;

        Partitions(EmbedJob job, int textIndex, JobStats stats) {
            this.job = job;
            this.textIndex = textIndex;
            this.stats = stats;
        }

        @Override
        public Iterator<Row> call(Iterator<Row> rows) {
            SentenceEmbedder embedder = job.embedder(ExecutorModels.get(job.model()));
            return new Chunks(rows, job.chunkRows(), chunk -> chunk(embedder, chunk));
        }

        private List<Row> chunk(SentenceEmbedder embedder, List<Row> rows) {
            int n = rows.size();
            Embedding[] done = new Embedding[n];
            String[] error = new String[n];
            List<Integer> good = new ArrayList<>(n);
            List<String> texts = new ArrayList<>(n);
            List<BertTokenizer.Sequence> seqs = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                String text = rows.get(i).getString(textIndex);
                try {
                    BertTokenizer.Sequence s = job.check(embedder, text);
                    good.add(i);
                    texts.add(text);
                    seqs.add(s);
                } catch (RuntimeException e) {
                    error[i] = RowErrors.describe(e);
                }
            }
            int[] lengths = seqs.stream().mapToInt(s -> s.ids().length).toArray();
            List<int[]> batches = TokenBudget.plan(lengths, job.batchTokens());
            long passes = 0;
            for (int[] batch : batches) {
                passes += embed(embedder, texts, good, seqs, batch, done, error);
            }
            List<Row> out = new ArrayList<>(n);
            long errors = 0;
            for (int i = 0; i < n; i++) {
                Row r = rows.get(i);
                Object[] v = new Object[r.length() + 4];
                for (int c = 0; c < r.length(); c++) v[c] = r.get(c);
                if (done[i] != null) {
                    double[] d = done[i].vector();
                    float[] f = new float[d.length];
                    for (int j = 0; j < d.length; j++) f[j] = (float) d[j];
                    v[r.length()] = f;
                    v[r.length() + 1] = done[i].tokens();
                    v[r.length() + 2] = done[i].truncated();
                } else {
                    v[r.length() + 3] = error[i];
                    errors++;
                }
                out.add(RowFactory.create(v));
            }
            if (stats != null) {
                stats.rows.add(n);
                stats.errors.add(errors);
                stats.passes.add(passes);
                stats.tokens.add(java.util.Arrays.stream(lengths).asLongStream().sum());
                stats.paddedTokens.add(TokenBudget.paddedTokens(lengths, batches));
            }
            return out;
        }

        /**
         * One forward pass over a batch; when it fails, each row alone, so that only the rows that fail by
         * themselves get an error. Returns the passes made.
         */
        private static int embed(SentenceEmbedder embedder, List<String> texts, List<Integer> good, List<BertTokenizer.Sequence> seqs,
                                 int[] batch, Embedding[] done, String[] error) {
            List<String> t = new ArrayList<>(batch.length);
            List<BertTokenizer.Sequence> s = new ArrayList<>(batch.length);
            for (int k : batch) {
                t.add(texts.get(k));
                s.add(seqs.get(k));
            }
            try {
                List<Embedding> e = embedder.embedSequences(t, s);
                for (int j = 0; j < batch.length; j++) done[good.get(batch[j])] = e.get(j);
                return 1;
            } catch (RuntimeException e) {
                if (batch.length == 1) {
                    error[good.get(batch[0])] = RowErrors.describe(e);
                    return 1;
                }
            }
            int passes = 1;
            for (int k : batch) passes += embed(embedder, texts, good, seqs, new int[] {k}, done, error);
            return passes;
        }
    }

    /** The row's model input, or an IllegalArgumentException saying why the row has none. */
    BertTokenizer.Sequence check(SentenceEmbedder embedder, String text) {
        if (text == null) throw new IllegalArgumentException("the text is null");
        if (text.isBlank()) throw new IllegalArgumentException("the text is empty");
        BertTokenizer.Sequence s = embedder.sequence(text);
        if (s.truncated() && !truncate) {
            int all = embedder.tokenizer().encode(text).ids().length + 2;
            throw new IllegalArgumentException(String.format(Locale.ROOT, "the text has %,d tokens with [CLS] and [SEP], over the"
                    + " max length of %d; shorten it, or turn truncation on to cut it", all, embedder.maxTokens()));
        }
        return s;
    }
}
