package bertj.spark;

import bertj.qa.Decoding;
import bertj.qa.QaSettings;
import bertj.qa.QuestionAnswerer;
import bertj.qa.SquadData;
import bertj.tokenizer.LowerCasing;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * The Spark job's command line, for spark-submit:
 * <pre>
 *   spark-submit --class bertj.spark.SparkMain bertj-spark.jar embed --model M --input texts.parquet --output out.parquet
 *   spark-submit --class bertj.spark.SparkMain bertj-spark.jar qa --model bert.pt --vocab vocab.txt --squad dev-v1.1.json --predictions p.json
 * </pre>
 * Exit codes as bertj's: 0 success, 1 an error (one line on stderr; a stack trace only with --verbose), 2 a usage
 * error. A row that cannot be processed is not an error of the job: it gets an {@code error} column.
 */
@Command(name = "bertj-spark", mixinStandardHelpOptions = true, scope = CommandLine.ScopeType.INHERIT,
        versionProvider = SparkMain.Version.class,
        description = "bertj as a Spark job: sentence embeddings and question answering over Parquet or JSON Lines rows.",
        subcommands = {SparkMain.Embed.class, SparkMain.Qa.class})
public final class SparkMain implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a command is required: embed or qa (try --help)");
    }

    public static void main(String[] args) {
        PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true, StandardCharsets.UTF_8);
        PrintStream err = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.err), true, StandardCharsets.UTF_8);
        int code = run(args, out, err);
        out.flush();
        err.flush();
        System.exit(code);
    }

    /** Runs the command line; uses (and then leaves running) a SparkSession that already exists in this JVM, else makes one and stops it. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        boolean verbose = Arrays.asList(args).contains("--verbose");
        CommandLine cmd = new CommandLine(new SparkMain());
        cmd.setOut(new PrintWriter(out, true));
        cmd.setErr(new PrintWriter(err, true));
        cmd.setParameterExceptionHandler((ex, a) -> {
            err.println("bertj-spark: " + oneLine(ex.getMessage()) + " (see '" + ex.getCommandLine().getCommandSpec().qualifiedName() + " --help')");
            return 2;
        });
        cmd.setExecutionExceptionHandler((ex, c, parsed) -> {
            if (ex instanceof CommandLine.ParameterException pe) {
                err.println("bertj-spark: " + oneLine(pe.getMessage()) + " (see '" + c.getCommandSpec().qualifiedName() + " --help')");
                return 2;
            }
            err.println("bertj-spark: " + describe(ex));
            if (verbose) ex.printStackTrace(err);
            return 1;
        });
        return cmd.execute(args);
    }

    /**
     * A sentence for what went wrong. Spark wraps what a task threw (SparkException → … → the cause): the innermost
     * bertj error is the one to show.
     */
    static String describe(Throwable ex) {
        for (Throwable t = ex; t != null; t = t.getCause()) {
            if (t instanceof bertj.readers.ModelFileException || t instanceof bertj.backend.BackendException
                    || t instanceof IllegalArgumentException && t.getClass() == IllegalArgumentException.class) {
                return oneLine(t.getMessage());
            }
        }
        if (ex instanceof org.apache.spark.sql.AnalysisException a) return oneLine(a.getMessage());
        Throwable root = ex;
        while (root.getCause() != null && root.getCause() != root) root = root.getCause();
        if (root instanceof java.nio.file.NoSuchFileException) return "no such file: " + root.getMessage();
        if (root instanceof IOException) return "I/O error: " + oneLine(root.getMessage());
        if (root instanceof OutOfMemoryError) {
            return "out of memory; give the executors more (spark.executor.memory) or lower --batch-tokens";
        }
        return "error: " + root.getClass().getSimpleName() + ": " + oneLine(String.valueOf(root.getMessage()))
                + " (run with --verbose for the stack trace)";
    }

    static String oneLine(String s) {
        if (s == null) return "error";
        String t = s.replace("\r", " ").replace("\n", " ").trim();
        return t.length() > 600 ? t.substring(0, 597) + "..." : t;
    }

    /** Where the model is and what runs it: the same options as bertj's commands. */
    static class ModelOptions {
        @Option(names = "--model", required = true, paramLabel = "PATH|URI",
                description = "Checkpoint (.pt/.bin, .safetensors, .onnx, a Hugging Face directory) or minilm. A URI (hdfs://, s3a://, "
                        + "file://, …) is copied to each executor once; a plain path must exist on every executor, or be shipped with --files.")
        String model;

        @Option(names = "--vocab", paramLabel = "PATH|URI", description = "vocab.txt or tokenizer.json (default: the one beside the model).")
        String vocab;

        @Option(names = "--config", paramLabel = "PATH|URI", description = "A config.json to read the model's shape from.")
        String config;

        @Option(names = "--gelu", paramLabel = "erf|tanh", description = "Override the GELU form.")
        String gelu;

        @Option(names = "--heads", paramLabel = "N", description = "Attention heads, when no config tells them.")
        Integer heads;

        @ArgGroup(exclusive = true, multiplicity = "0..1")
        Casing casing;

        static class Casing {
            @Option(names = "--cased", description = "Keep case and accents.")
            boolean cased;

            @Option(names = "--uncased", description = "Lower-case and strip accents.")
            boolean uncased;
        }

        @Option(names = "--backend", paramLabel = "NAME", defaultValue = "cpu", description = "reference, cpu (default) or opencl.")
        String backend;

        @Option(names = "--device", paramLabel = "N", defaultValue = "0", description = "OpenCL device index.")
        int device;

        @Option(names = "--threads", paramLabel = "T", defaultValue = "0",
                description = "CPU threads per executor for the cpu backend (0: spark.executor.cores when set, else all cores).")
        int threads;

        ModelSpec spec(CommandLine cmd) {
            if (!bertj.backend.Backends.NAMES.contains(backend)) {
                throw new CommandLine.ParameterException(cmd, "unknown backend '" + backend + "' (choose from "
                        + String.join(", ", bertj.backend.Backends.NAMES) + ")");
            }
            if (gelu != null) {
                try {
                    bertj.model.GeluForm.parse(gelu);
                } catch (IllegalArgumentException e) {
                    throw new CommandLine.ParameterException(cmd, "--gelu: " + e.getMessage());
                }
            }
            try {
                Boolean c = casing == null ? null : casing.cased ? Boolean.TRUE : Boolean.FALSE;
                return new ModelSpec(model, vocab, config, gelu, heads, c, null, backend, device, threads);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(cmd, e.getMessage());
            }
        }
    }

    /** Rows in and out, batching, and the Spark session. */
    static class JobOptions {
        @Option(names = "--input-format", paramLabel = "parquet|jsonl", description = "Default: told by --input's extension.")
        String inputFormat;

        @Option(names = "--output", paramLabel = "PATH", description = "Where to write the rows (a directory of part files, Spark's layout).")
        String output;

        @Option(names = "--output-format", paramLabel = "parquet|jsonl", description = "Default: told by --output's extension.")
        String outputFormat;

        @Option(names = "--force", description = "Overwrite --output (and --predictions) if they exist.")
        boolean force;

        @Option(names = "--batch-tokens", paramLabel = "N", defaultValue = "" + EmbedJob.DEFAULT_BATCH_TOKENS,
                description = "Padded tokens per forward pass, rows x longest row (default ${DEFAULT-VALUE}); a longer row runs alone.")
        int batchTokens;

        @Option(names = "--chunk-rows", paramLabel = "N", defaultValue = "" + EmbedJob.DEFAULT_CHUNK_ROWS,
                description = "Rows of a partition sorted by length and batched together (default ${DEFAULT-VALUE}).")
        int chunkRows;

        @Option(names = "--partitions", paramLabel = "N", description = "Spread the input over N partitions, keeping its order (default: as read).")
        Integer partitions;

        @Option(names = "--master", paramLabel = "URL", description = "Spark master, e.g. local[2], when not run by spark-submit.")
        String master;

        @Option(names = "--verbose", description = "Print the stack trace of an error.")
        boolean verbose;

        void check(CommandLine cmd) {
            if (batchTokens < 1) throw new CommandLine.ParameterException(cmd, "--batch-tokens must be at least 1, got " + batchTokens);
            if (chunkRows < 1) throw new CommandLine.ParameterException(cmd, "--chunk-rows must be at least 1, got " + chunkRows);
            if (partitions != null && partitions < 1) throw new CommandLine.ParameterException(cmd, "--partitions must be at least 1");
        }

        String outputFormat(CommandLine cmd) {
            return format(cmd, outputFormat, output, "--output-format");
        }
    }

    static String format(CommandLine cmd, String given, String path, String option) {
        try {
            return Io.format(given, path, option);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cmd, e.getMessage());
        }
    }

    /** A session: the one this JVM already has, or a new one (stopped by {@link #close}). */
    static final class Session implements AutoCloseable {
        final SparkSession spark;
        private final boolean own;

        Session(String app, String master) {
            boolean existed = SparkSession.getActiveSession().isDefined() || SparkSession.getDefaultSession().isDefined();
            SparkSession.Builder b = SparkSession.builder().appName(app);
            if (master != null) b.master(master);
            this.spark = b.getOrCreate();
            this.own = !existed;
        }

        @Override
        public void close() {
            if (own) spark.stop();
        }
    }

    static Dataset<Row> input(SparkSession spark, String path, String format, Integer partitions) {
        Dataset<Row> in = Io.read(spark, path, format);
        return partitions == null ? in : BertjSpark.repartitionInOrder(in, partitions);
    }

    static void report(PrintWriter err, String what, JobStats stats, long t0, String wrote) {
        double s = (System.nanoTime() - t0) / 1e9;
        err.printf(Locale.ROOT, "bertj-spark: %s %s in %.1f s (%.1f rows/s)%s%n", what, stats.summary(), s, stats.rows() / s,
                wrote == null ? "" : "; wrote " + wrote);
    }

    @Command(name = "embed", description = {
            "Sentence embeddings of a text column, as 'bertj embed' computes them: each row gets embedding (array<float>),",
            "tokens, truncated and error (null, or why the row has no embedding)."})
    static final class Embed implements Callable<Integer> {
        @Mixin
        ModelOptions model;
        @Mixin
        JobOptions job;
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Option(names = "--input", required = true, paramLabel = "PATH", description = "Rows with a text column: Parquet or JSON Lines.")
        String input;

        @Option(names = "--text-column", paramLabel = "NAME", defaultValue = "text", description = "Default: ${DEFAULT-VALUE}.")
        String textColumn;

        @Option(names = "--pooling", paramLabel = "mean|cls", defaultValue = "mean", description = "Default: ${DEFAULT-VALUE}.")
        String pooling;

        @Option(names = "--normalize", description = "L2-normalise each embedding (what all-MiniLM-L6-v2 is trained for).")
        boolean normalize;

        @Option(names = "--max-length", paramLabel = "N", description = "Ids per text, [CLS] and [SEP] included (default: the model's positions).")
        Integer maxLength;

        @Option(names = "--no-truncate", description = "A text over --max-length gets an error instead of being cut.")
        boolean noTruncate;

        @Override
        public Integer call() {
            CommandLine cmd = spec.commandLine();
            job.check(cmd);
            if (job.output == null) throw new CommandLine.ParameterException(cmd, "--output is required");
            String inFormat = format(cmd, job.inputFormat, input, "--input-format");
            String outFormat = job.outputFormat(cmd);
            EmbedJob ej;
            try {
                ej = new EmbedJob(model.spec(cmd), textColumn, pooling, normalize, maxLength, !noTruncate, job.batchTokens, job.chunkRows);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(cmd, e.getMessage());
            }
            try (Session s = new Session("bertj embed", job.master)) {
                Dataset<Row> in = input(s.spark, input, inFormat, job.partitions);
                ej.outputSchema(in.schema());
                // Load on the driver first: a bad model or option fails here, in seconds, with its own message.
                ej.embedder(ExecutorModels.get(ej.model()));
                JobStats stats = JobStats.register(s.spark);
                long t0 = System.nanoTime();
                Io.write(BertjSpark.embed(in, ej, stats), job.output, outFormat, job.force);
                report(cmd.getErr(), "embedded", stats, t0, job.output + " (" + outFormat + ")");
            }
            return 0;
        }
    }

    @Command(name = "qa", description = {
            "Question answering over question and context columns, or over a SQuAD v1.1 file, as 'bertj qa' answers: each row",
            "gets answer, score, probability, start, end (code points, end exclusive) and error. With --squad, --predictions",
            "writes the predictions file as 'bertj squad --out' does, and {\"exact_match\", \"f1\"} is printed when the file holds answers."})
    static final class Qa implements Callable<Integer> {
        @Mixin
        ModelOptions model;
        @Mixin
        JobOptions job;
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @ArgGroup(exclusive = true, multiplicity = "1")
        Source source;

        static final class Source {
            @Option(names = "--input", required = true, paramLabel = "PATH", description = "Rows with question and context columns: Parquet or JSON Lines.")
            String input;

            @Option(names = "--squad", required = true, paramLabel = "dev-v1.1.json", description = "A SQuAD v1.1 file (local or a URI), one row per question.")
            String squad;
        }

        @Option(names = "--question-column", paramLabel = "NAME", defaultValue = "question", description = "Default: ${DEFAULT-VALUE}.")
        String questionColumn;

        @Option(names = "--context-column", paramLabel = "NAME", defaultValue = "context", description = "Default: ${DEFAULT-VALUE}.")
        String contextColumn;

        @Option(names = "--predictions", paramLabel = "predictions.json", description = "With --squad: write {\"id\": \"answer\", ...} here.")
        String predictions;

        @Option(names = "--max-seq-length", paramLabel = "N", defaultValue = "384", description = "Tokens per window (default ${DEFAULT-VALUE}).")
        int maxSeqLength;

        @Option(names = "--doc-stride", paramLabel = "N", defaultValue = "128", description = "Passage tokens between window starts (default ${DEFAULT-VALUE}).")
        int docStride;

        @Option(names = "--max-query-length", paramLabel = "N", defaultValue = "64", description = "Question tokens kept (default ${DEFAULT-VALUE}).")
        int maxQueryLength;

        @Option(names = "--n-best-size", paramLabel = "N", defaultValue = "20", description = "Start/end candidates per window (default ${DEFAULT-VALUE}).")
        int nBestSize;

        @Option(names = "--max-answer-length", paramLabel = "N", defaultValue = "30", description = "Longest answer in tokens (default ${DEFAULT-VALUE}).")
        int maxAnswerLength;

        @Option(names = "--decoding", paramLabel = "nvidia|masked",
                description = "nvidia: exactly NVIDIA's run_squad.py (every window padded to --max-seq-length, padding ranked among the"
                        + " n-best positions, \"empty\" when no span is left), as 'bertj squad'; masked: padding never competes, as"
                        + " 'bertj qa'. Default: nvidia with --squad, masked with --input.")
        String decoding;

        @Option(names = "--lowercasing", paramLabel = "hf|python",
                description = "How uncased text is lower-cased: hf (Hugging Face tokenizers) or python (NVIDIA's tokenization.py,"
                        + " Python's str.lower() per word). Default: python with --decoding nvidia, hf otherwise.")
        String lowerCasing;

        @Option(names = "--max-context-chars", paramLabel = "N", defaultValue = "" + QaJob.DEFAULT_MAX_CONTEXT_CHARS,
                description = "Without --squad: a longer context gets an error (0: no limit; default ${DEFAULT-VALUE}).")
        int maxContextChars;

        @Override
        public Integer call() throws IOException {
            CommandLine cmd = spec.commandLine();
            job.check(cmd);
            boolean squad = source.squad != null;
            if (!squad && job.output == null) throw new CommandLine.ParameterException(cmd, "--output is required with --input");
            if (!squad && predictions != null) throw new CommandLine.ParameterException(cmd, "--predictions needs --squad");
            String outFormat = job.output == null ? null : job.outputFormat(cmd);
            String inFormat = squad ? null : format(cmd, job.inputFormat, source.input, "--input-format");
            Decoding d;
            try {
                d = decoding == null ? (squad ? Decoding.NVIDIA : Decoding.MASKED) : Decoding.parse(decoding);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(cmd, "--decoding must be nvidia or masked, got '" + decoding + "'");
            }
            LowerCasing l;
            try {
                l = lowerCasing == null ? QuestionAnswerer.defaultLowerCasing(d) : LowerCasing.parse(lowerCasing);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(cmd, "--lowercasing must be hf or python, got '" + lowerCasing + "'");
            }
            QaJob qj;
            try {
                QaSettings settings = new QaSettings(maxSeqLength, docStride, maxQueryLength, nBestSize, maxAnswerLength, d);
                qj = QaJob.of(model.spec(cmd).withLowerCasing(l.cliName())).withSettings(settings).withBatching(job.batchTokens, job.chunkRows)
                        .withRules(squad, maxContextChars);
                if (!squad) qj = qj.withColumns(questionColumn, contextColumn);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(cmd, e.getMessage());
            }
            if (predictions != null && !job.force && Io.exists(predictions)) {
                throw new IllegalArgumentException(predictions + " already exists; choose another --predictions or pass --force");
            }
            SquadData data = squad ? Squad.read(source.squad) : null;
            PrintWriter err = cmd.getErr();
            try (Session s = new Session("bertj qa", job.master)) {
                Dataset<Row> in = squad
                        ? Squad.rows(s.spark, data, job.partitions != null ? job.partitions : s.spark.sparkContext().defaultParallelism())
                        : input(s.spark, source.input, inFormat, job.partitions);
                qj.outputSchema(in.schema());
                qj.answerer(ExecutorModels.get(qj.model()));
                JobStats stats = JobStats.register(s.spark);
                err.printf("bertj-spark: decoding %s%n", qj.settings().describe(l));
                long t0 = System.nanoTime();
                Dataset<Row> answered = BertjSpark.answer(in, qj, stats);
                if (!squad) {
                    Io.write(answered, job.output, outFormat, job.force);
                    report(err, "answered", stats, t0, job.output + " (" + outFormat + ")");
                    return 0;
                }
                // SQuAD: the rows are needed twice (written, and collected for the predictions): compute them once.
                answered = answered.persist(org.apache.spark.storage.StorageLevel.MEMORY_AND_DISK());
                try {
                    if (job.output != null) Io.write(answered, job.output, outFormat, job.force);
                    List<Row> rows = answered.select(Squad.ID, QaJob.ANSWER).collectAsList();
                    Map<String, String> pred = Squad.predictions(rows);
                    if (predictions != null) Io.writeText(predictions, Squad.predictionsJson(pred), job.force);
                    report(err, "answered", stats, t0, predictions == null && job.output == null ? null
                            : String.join(" and ", java.util.stream.Stream.of(job.output, predictions).filter(x -> x != null).toList()));
                    long none = pred.values().stream().filter(String::isEmpty).count();
                    if (none > 0) err.printf("bertj-spark: %,d questions had no valid answer span and are predicted as \"\"%n", none);
                    String score = Squad.scoreLine(data, pred);
                    if (score != null) cmd.getOut().println(score);
                } finally {
                    answered.unpersist();
                }
            }
            return 0;
        }
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = SparkMain.class.getPackage().getImplementationVersion();
            return new String[] {"bertj-spark " + (v == null ? "development build" : v)};
        }
    }
}
