package bertj.spark;

import bertj.qa.Answer;
import bertj.qa.Batches;
import bertj.qa.Decoding;
import bertj.qa.Feature;
import bertj.qa.Passage;
import bertj.qa.QaSettings;
import bertj.qa.QuestionAnswerer;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Extractive question answering over question and context columns, as {@code bertj qa} answers
 * ({@link QuestionAnswerer}: run_squad.py's windows and span decoding), added to each row as
 * <pre>
 *   answer       string   the best span's text; null when no window holds a valid span, or on an error
 *   score        double   its start logit + end logit
 *   probability  double   softmax of the score over the question's n-best answers
 *   start, end   int      code point offsets of the answer in the context, end exclusive; null for NVIDIA's
 *                         placeholder "empty" (--decoding nvidia, no valid span left)
 *   error        string   null, or why the row was not answered (an empty question or context, a context over
 *                         maxContextChars, …): a bad row never fails the job
 * </pre>
 * Each task takes its partition {@code chunkRows} rows at a time, splits each context into words and tokens once
 * (questions about the same context share it), builds every question's windows, sorts the windows of the chunk
 * by length, runs them in forward passes of at most {@code batchTokens} padded tokens ({@link TokenBudget}), decodes
 * each question and gives the rows back in their input order. The model is loaded once per executor JVM.
 *
 * @param decoding   how logits become answers ({@link Decoding}): NVIDIA's run_squad.py, as {@code bertj squad}
 *                   decodes by default, or masked, as {@code bertj qa} does
 * @param squadRules answer every question as {@code bertj squad} does (no emptiness checks, no context limit: a
 *                   passage without tokens gets a null answer); false: check each row as {@code bertj qa} does
 */
public record QaJob(ModelSpec model, String questionColumn, String contextColumn, int maxSeqLength, int docStride, int maxQueryLength,
                    int nBestSize, int maxAnswerLength, Decoding decoding, int maxContextChars, boolean squadRules, int batchTokens,
                    int chunkRows)
        implements Serializable {
    public static final String ANSWER = "answer", SCORE = "score", PROBABILITY = "probability", START = "start", END = "end",
            ERROR = "error";
    public static final int DEFAULT_MAX_CONTEXT_CHARS = 100_000;

    public QaJob {
        if (model == null) throw new IllegalArgumentException("a model is required");
        new QaSettings(maxSeqLength, docStride, maxQueryLength, nBestSize, maxAnswerLength, decoding);
        if (maxContextChars < 0) throw new IllegalArgumentException("max context chars must be 0 (no limit) or positive, got " + maxContextChars);
        if (batchTokens < 1) throw new IllegalArgumentException("batch tokens must be at least 1, got " + batchTokens);
        if (chunkRows < 1) throw new IllegalArgumentException("chunk rows must be at least 1, got " + chunkRows);
    }

    /** Columns "question" and "context", run_squad.py's windows, {@code bertj qa}'s decoding (masked), checks and context limit. */
    public static QaJob of(ModelSpec model) {
        QaSettings s = QaSettings.RUN_SQUAD;
        return new QaJob(model, "question", "context", s.maxSeqLength(), s.docStride(), s.maxQueryLength(), s.nBestSize(),
                s.maxAnswerLength(), s.decoding(), DEFAULT_MAX_CONTEXT_CHARS, false, EmbedJob.DEFAULT_BATCH_TOKENS, EmbedJob.DEFAULT_CHUNK_ROWS);
    }

    public QaJob withColumns(String question, String context) {
        return new QaJob(model, question, context, maxSeqLength, docStride, maxQueryLength, nBestSize, maxAnswerLength, decoding,
                maxContextChars, squadRules, batchTokens, chunkRows);
    }

    /** Windows and decoding as {@code s} says (its decoding included). */
    public QaJob withSettings(QaSettings s) {
        return new QaJob(model, questionColumn, contextColumn, s.maxSeqLength(), s.docStride(), s.maxQueryLength(), s.nBestSize(),
                s.maxAnswerLength(), s.decoding(), maxContextChars, squadRules, batchTokens, chunkRows);
    }

    public QaJob withRules(boolean squad, int contextChars) {
        return new QaJob(model, questionColumn, contextColumn, maxSeqLength, docStride, maxQueryLength, nBestSize, maxAnswerLength,
                decoding, contextChars, squad, batchTokens, chunkRows);
    }

    public QaJob withBatching(int tokens, int rows) {
        return new QaJob(model, questionColumn, contextColumn, maxSeqLength, docStride, maxQueryLength, nBestSize, maxAnswerLength,
                decoding, maxContextChars, squadRules, tokens, rows);
    }

    public QaSettings settings() {
        return new QaSettings(maxSeqLength, docStride, maxQueryLength, nBestSize, maxAnswerLength, decoding);
    }

    /** The question answerer a task uses: the executor's shared model and this job's settings. */
    QuestionAnswerer answerer(ExecutorModels.Shared m) {
        // The batch size is unused: this job batches windows itself, by tokens.
        return new QuestionAnswerer(m.encoder(), m.tokenizer(), settings(), 1);
    }

    StructType outputSchema(StructType in) {
        Jobs.requireString(in, questionColumn, "questions", "--question-column");
        Jobs.requireString(in, contextColumn, "contexts", "--context-column");
        Jobs.requireFree(in, ANSWER, SCORE, PROBABILITY, START, END, ERROR);
        return in.add(ANSWER, DataTypes.StringType, true)
                .add(SCORE, DataTypes.DoubleType, true)
                .add(PROBABILITY, DataTypes.DoubleType, true)
                .add(START, DataTypes.IntegerType, true)
                .add(END, DataTypes.IntegerType, true)
                .add(ERROR, DataTypes.StringType, true);
    }

    Dataset<Row> run(Dataset<Row> input, JobStats stats) {
        StructType out = outputSchema(input.schema());
        return input.mapPartitions(new Partitions(this, input.schema().fieldIndex(questionColumn), input.schema().fieldIndex(contextColumn),
                stats), Encoders.row(out));
    }

    /** The row's question as the answerer takes it, or an exception saying why the row is not answered. */
    QuestionAnswerer.Example example(QuestionAnswerer qa, String question, String context, Map<String, Passage> passages) {
        if (squadRules) return new QuestionAnswerer.Example("", question, passages.computeIfAbsent(context, qa::passage));
        if (context != null && maxContextChars > 0) {
            long chars = context.codePointCount(0, context.length());
            if (chars > maxContextChars) {
                throw new IllegalArgumentException(String.format(Locale.ROOT, "the context has %,d characters, over the limit of %,d"
                        + " (--max-context-chars; 0 for none)", chars, maxContextChars));
            }
        }
        Passage p = context == null || context.isBlank() ? null : passages.computeIfAbsent(context, qa::passage);
        return qa.example("", question, p);
    }

    static final class Partitions implements MapPartitionsFunction<Row, Row> {
        private static final long serialVersionUID = 1L;
        private final QaJob job;
        private final int questionIndex, contextIndex;
        private final JobStats stats;

        Partitions(QaJob job, int questionIndex, int contextIndex, JobStats stats) {
            this.job = job;
            this.questionIndex = questionIndex;
            this.contextIndex = contextIndex;
            this.stats = stats;
        }

        @Override
        public Iterator<Row> call(Iterator<Row> rows) {
            QuestionAnswerer qa = job.answerer(ExecutorModels.get(job.model()));
            return new Chunks(rows, job.chunkRows(), chunk -> chunk(qa, chunk));
        }

        private List<Row> chunk(QuestionAnswerer qa, List<Row> rows) {
            int n = rows.size();
            String[] error = new String[n];
            Answer[] best = new Answer[n];
            // Questions that get to the model: their row, example and windows.
            List<Integer> rowOf = new ArrayList<>(n);
            List<QuestionAnswerer.Example> examples = new ArrayList<>(n);
            List<List<Feature>> windows = new ArrayList<>(n);
            Map<String, Passage> passages = new HashMap<>();
            for (int i = 0; i < n; i++) {
                Row r = rows.get(i);
                try {
                    QuestionAnswerer.Example ex = job.example(qa, r.getString(questionIndex), r.getString(contextIndex), passages);
                    List<Feature> f = qa.features(List.of(ex)).get(0);
                    rowOf.add(i);
                    examples.add(ex);
                    windows.add(f);
                } catch (RuntimeException e) {
                    error[i] = RowErrors.describe(e);
                }
            }
            List<Feature> all = new ArrayList<>();
            List<Integer> ownerOf = new ArrayList<>();
            for (int k = 0; k < windows.size(); k++) {
                for (Feature f : windows.get(k)) {
                    all.add(f);
                    ownerOf.add(k);
                }
            }
            // a window costs what it is padded to: with NVIDIA's decoding, max_seq_length (the passes then hold
            // batchTokens / max_seq_length windows each, in input order, and their logits are the same as in any
            // other grouping: each row of a pass is computed on its own)
            boolean nvidia = job.decoding() == Decoding.NVIDIA;
            int[] real = all.stream().mapToInt(Feature::length).toArray();
            int[] lengths = real;
            if (nvidia) {
                lengths = new int[real.length];
                java.util.Arrays.fill(lengths, job.maxSeqLength());
            }
            List<int[]> batches = TokenBudget.plan(lengths, job.batchTokens());
            double[][] start = new double[all.size()][], end = new double[all.size()][];
            String[] failed = new String[examples.size()];
            long passes = 0;
            for (int[] batch : batches) passes += run(qa, all, batch, start, end, ownerOf, failed);

            int at = 0;
            for (int k = 0; k < examples.size(); k++) {
                List<Feature> f = windows.get(k);
                int row = rowOf.get(k);
                if (failed[k] != null) {
                    error[row] = failed[k];
                } else {
                    try {
                        double[][] s = java.util.Arrays.copyOfRange(start, at, at + f.size());
                        double[][] e = java.util.Arrays.copyOfRange(end, at, at + f.size());
                        List<Answer> a = qa.decodeLogits(List.of(examples.get(k)), List.of(f), new Batches.Logits(s, e)).get(0);
                        best[row] = a.isEmpty() ? null : a.get(0);
                    } catch (RuntimeException ex) {
                        error[row] = RowErrors.describe(ex);
                    }
                }
                at += f.size();
            }

            List<Row> out = new ArrayList<>(n);
            long errors = 0;
            for (int i = 0; i < n; i++) {
                Row r = rows.get(i);
                Object[] v = new Object[r.length() + 6];
                for (int c = 0; c < r.length(); c++) v[c] = r.get(c);
                Answer a = best[i];
                if (a != null) {
                    v[r.length()] = a.text();
                    v[r.length() + 1] = a.score();
                    v[r.length() + 2] = a.probability();
                    v[r.length() + 3] = a.startOrNull(); // null for NVIDIA's placeholder "empty"
                    v[r.length() + 4] = a.endOrNull();
                }
                if (error[i] != null) {
                    v[r.length() + 5] = error[i];
                    errors++;
                }
                out.add(RowFactory.create(v));
            }
            if (stats != null) {
                stats.rows.add(n);
                stats.errors.add(errors);
                stats.passes.add(passes);
                stats.tokens.add(java.util.Arrays.stream(real).asLongStream().sum());
                stats.paddedTokens.add(TokenBudget.paddedTokens(lengths, batches));
            }
            return out;
        }

        /**
         * One forward pass over a batch of windows (Batches.run with the batch as one batch); when it fails, each
         * window alone, and a window that fails by itself fails its question. Returns the passes made.
         */
        private static int run(QuestionAnswerer qa, List<Feature> all, int[] batch, double[][] start, double[][] end,
                               List<Integer> ownerOf, String[] failed) {
            List<Feature> group = new ArrayList<>(batch.length);
            for (int k : batch) group.add(all.get(k));
            try {
                Batches.Logits l = Batches.run(qa.encoder(), qa.encoder(), group, group.size(), Integer.MAX_VALUE, qa.settings(),
                        qa.tokenizer().vocab().padId(), null);
                for (int j = 0; j < batch.length; j++) {
                    start[batch[j]] = l.start()[j];
                    end[batch[j]] = l.end()[j];
                }
                return 1;
            } catch (RuntimeException e) {
                if (batch.length == 1) {
                    failed[ownerOf.get(batch[0])] = RowErrors.describe(e);
                    return 1;
                }
            }
            int passes = 1;
            for (int k : batch) passes += run(qa, all, new int[] {k}, start, end, ownerOf, failed);
            return passes;
        }
    }
}
