package bertj.serve;

import bertj.backend.Backend;
import bertj.embed.SentenceEmbedder;
import bertj.encoder.BertEncoder;
import bertj.model.BertConfig;
import bertj.model.LoadedModel;
import bertj.qa.Answer;
import bertj.qa.Batches;
import bertj.qa.Feature;
import bertj.qa.QaSettings;
import bertj.qa.QuestionAnswerer;
import bertj.tokenizer.BertTokenizer;
import bertj.tokenizer.TokenSpans;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/**
 * What {@code bertj serve} serves, without HTTP: sentence embeddings, question answering and tokenization over
 * one model, with the sequences of all concurrent requests batched together by a {@link Batcher} (one model
 * instance per worker). Tokenization and decoding run in the caller's thread; the answers are those of the
 * {@link SentenceEmbedder} and {@link QuestionAnswerer} the command line uses, because they are computed by them.
 *
 * <p>An admission limit ({@link #admit}) bounds the requests in the engine at once: one over it is refused at
 * once ({@link ServeException.Reason#OVERLOADED}) rather than queued without bound. Thread-safe.
 */
public final class Engine implements AutoCloseable {

    /**
     * @param maxBatchTokens        padded tokens per batch (longest × rows)
     * @param maxBatchRequests      sequences per batch (0: no limit but the token budget)
     * @param maxConcurrentRequests requests admitted at once; more are refused
     * @param maxClientBatchSize    inputs per request
     * @param maxInputLength        tokens per input, [CLS] and [SEP] included (0: the model's positions)
     * @param autoTruncate          cut inputs that are too long instead of refusing them, when a request does not say
     * @param maxContextChars       longest /qa context in characters (code points)
     * @param qa                    the question-answering settings requests start from (run_squad.py's)
     * @param requestTimeout        longest wait for the model before a request is answered "unavailable"
     */
    public record Settings(int maxBatchTokens, int maxBatchRequests, int maxConcurrentRequests, int maxClientBatchSize,
                           int maxInputLength, boolean autoTruncate, int maxContextChars, QaSettings qa, Duration requestTimeout) {
        public static Settings defaults() {
            return new Settings(16384, 0, 512, 32, 0, false, 100_000, QaSettings.RUN_SQUAD, Duration.ofSeconds(60));
        }

        public Settings {
            if (maxBatchTokens < 1) throw new IllegalArgumentException("--max-batch-tokens must be at least 1 (got " + maxBatchTokens + ")");
            if (maxBatchRequests < 0) throw new IllegalArgumentException("--max-batch-requests must be 0 (no limit) or positive");
            if (maxConcurrentRequests < 1) {
                throw new IllegalArgumentException("--max-concurrent-requests must be at least 1 (got " + maxConcurrentRequests + ")");
            }
            if (maxClientBatchSize < 1) {
                throw new IllegalArgumentException("--max-client-batch-size must be at least 1 (got " + maxClientBatchSize + ")");
            }
            if (maxInputLength < 0) throw new IllegalArgumentException("--max-input-length must be 0 (the model's positions) or at least 2");
            if (maxContextChars < 1) throw new IllegalArgumentException("--max-context-chars must be at least 1 (got " + maxContextChars + ")");
            if (requestTimeout.isNegative() || requestTimeout.isZero()) throw new IllegalArgumentException("the request timeout must be positive");
        }

        public Settings withMaxBatchTokens(int n) {
            return new Settings(n, maxBatchRequests, maxConcurrentRequests, maxClientBatchSize, maxInputLength, autoTruncate,
                    maxContextChars, qa, requestTimeout);
        }

        public Settings withMaxConcurrentRequests(int n) {
            return new Settings(maxBatchTokens, maxBatchRequests, n, maxClientBatchSize, maxInputLength, autoTruncate,
                    maxContextChars, qa, requestTimeout);
        }

        public Settings withMaxInputLength(int n) {
            return new Settings(maxBatchTokens, maxBatchRequests, maxConcurrentRequests, maxClientBatchSize, n, autoTruncate,
                    maxContextChars, qa, requestTimeout);
        }

        public Settings withRequestTimeout(Duration d) {
            return new Settings(maxBatchTokens, maxBatchRequests, maxConcurrentRequests, maxClientBatchSize, maxInputLength, autoTruncate,
                    maxContextChars, qa, d);
        }
    }

    /** One sequence for the model: the input of an embedding, or one window of a question over its context. */
    public sealed interface Row permits EmbedRow, QaRow {
        int length();
    }

    public record EmbedRow(BertTokenizer.Sequence sequence) implements Row {
        public int length() {
            return sequence.ids().length;
        }
    }

    /**
     * A window of a question; {@code padTo} is 0 when the window is padded with its batch (masked decoding), else the
     * length it must be padded to ({@link bertj.qa.Decoding#NVIDIA}: its request's max_seq_length), which is then
     * what it costs in a batch.
     */
    public record QaRow(Feature feature, int padTo) implements Row {
        public int length() {
            return padTo > 0 ? padTo : feature.length();
        }
    }

    /** A row's result: its pooled embedding (not normalised), or its start and end logits. */
    public record Output(double[] vector, double[] start, double[] end) {
    }

    /** Where a request's time went, in nanoseconds; queue and inference are means over its sequences. */
    public record Timing(long tokenization, long queue, long inference) {
    }

    /** Embeddings in input order, the tokens of each input ([CLS] and [SEP] included), and the timing. */
    public record Embedded(List<double[]> vectors, int[] tokens, Timing timing) {
        public int totalTokens() {
            int n = 0;
            for (int t : tokens) n += t;
            return n;
        }
    }

    /** Answers, best first, and the timing. */
    public record Answered(List<Answer> answers, int tokens, Timing timing) {
    }

    /** A token for /tokenize; start and end are code point offsets, -1 for [CLS] and [SEP] added around the text. */
    public record Token(int id, String token, boolean special, int start, int end) {
    }

    /** Holds one admission; close it when the request is done. */
    public final class Permit implements AutoCloseable {
        private boolean released;

        @Override
        public synchronized void close() {
            if (!released) {
                released = true;
                admission.release();
            }
        }
    }

    private record Worker(BertEncoder encoder, SentenceEmbedder embedder) {
    }

    private final String modelId;
    private final LoadedModel model;
    private final BertTokenizer tokenizer;
    private final SentenceEmbedder.Pooling pooling;
    private final Settings settings;
    private final int maxInputLength;
    private final List<Worker> workers;
    private final Batcher<Row, Output> batcher;
    private final Semaphore admission;
    private final Metrics metrics;
    private final Metrics.Histogram tokenizationTime, queueTime, inferenceTime;
    private volatile boolean closing;

    /**
     * Builds one model instance per backend (weights uploaded to each) and starts the workers; closes the backends
     * if anything fails.
     *
     * @param modelId  the name the server reports (/info, /v1/embeddings' "model")
     * @param backends one per worker; the engine owns them
     * @param wrap     lets tests wrap each worker's runner (e.g. to hold a batch); null: none
     */
    public static Engine start(String modelId, LoadedModel model, BertTokenizer tokenizer, SentenceEmbedder.Pooling pooling,
                               List<Supplier<Backend>> backends, Settings settings, Metrics metrics,
                               UnaryOperator<Batcher.Runner<Row, Output>> wrap) {
        int positions = model.config().maxPositions();
        int maxLen = settings.maxInputLength() == 0 ? positions : settings.maxInputLength();
        if (maxLen < 2 || maxLen > positions) {
            throw new IllegalArgumentException("--max-input-length must be between 2 and the model's " + positions + " positions, got " + maxLen);
        }
        List<Worker> workers = new ArrayList<>();
        try {
            for (Supplier<Backend> s : backends) {
                Backend b = s.get();
                BertEncoder enc;
                try {
                    enc = new BertEncoder(model.weights(), b);
                } catch (RuntimeException | Error e) {
                    b.close();
                    throw e;
                }
                workers.add(new Worker(enc, new SentenceEmbedder(enc, tokenizer, pooling, false, maxLen)));
            }
            if (workers.isEmpty()) throw new IllegalArgumentException("at least one worker is needed");
            if (workers.get(0).encoder().hasQaHead()) {
                // the checks QuestionAnswerer makes (vocabulary against the model, window length), once, at start
                new QuestionAnswerer(workers.get(0).encoder(), tokenizer, settings.qa(), 1);
            }
            return new Engine(modelId, model, tokenizer, pooling, settings, maxLen, workers, metrics, wrap);
        } catch (RuntimeException | Error e) {
            for (Worker w : workers) w.encoder().close();
            throw e;
        }
    }

    private Engine(String modelId, LoadedModel model, BertTokenizer tokenizer, SentenceEmbedder.Pooling pooling, Settings settings,
                   int maxInputLength, List<Worker> workers, Metrics metrics, UnaryOperator<Batcher.Runner<Row, Output>> wrap) {
        this.modelId = modelId;
        this.model = model;
        this.tokenizer = tokenizer;
        this.pooling = pooling;
        this.settings = settings;
        this.maxInputLength = maxInputLength;
        this.workers = List.copyOf(workers);
        this.metrics = metrics;
        this.admission = new Semaphore(settings.maxConcurrentRequests());
        List<Batcher.Runner<Row, Output>> runners = new ArrayList<>();
        for (Worker w : workers) {
            Batcher.Runner<Row, Output> r = rows -> run(w, rows);
            runners.add(wrap == null ? r : wrap.apply(r));
        }
        Metrics.Histogram size = metrics.histogram("te_batch_next_size", "Sequences per batch", Metrics.SIZE_BUCKETS);
        Metrics.Histogram tokens = metrics.histogram("te_batch_next_tokens", "Tokens per batch (real tokens)", Metrics.TOKEN_BUCKETS);
        Metrics.Histogram padded = metrics.histogram("bertj_batch_padded_tokens", "Padded tokens per batch: longest sequence x sequences",
                Metrics.TOKEN_BUCKETS);
        Metrics.Histogram forward = metrics.histogram("bertj_batch_inference_duration", "Forward pass of one batch, seconds",
                Metrics.DURATION_BUCKETS);
        Metrics.Counter batches = metrics.counter("bertj_batches", "Batches run");
        Metrics.Counter served = metrics.counter("bertj_batch_tokens", "Real tokens run through the model");
        Metrics.Counter servedPadded = metrics.counter("bertj_batch_padded_tokens_total", "Padded tokens run through the model");
        Metrics.Counter sequences = metrics.counter("bertj_batch_sequences", "Sequences run through the model");
        Metrics.Counter forwardNanos = metrics.counter("bertj_batch_inference_nanoseconds", "Time spent in forward passes, nanoseconds");
        this.batcher = new Batcher<>(new Batcher.Limits(settings.maxBatchTokens(),
                settings.maxBatchRequests() == 0 ? Integer.MAX_VALUE : settings.maxBatchRequests()),
                Row::length, Row::getClass, runners, (n, real, pad, nanos) -> {
                    size.observe(n);
                    tokens.observe(real);
                    padded.observe(pad);
                    forward.observeNanos(nanos);
                    batches.inc();
                    sequences.add(n);
                    served.add(real);
                    servedPadded.add(pad);
                    forwardNanos.add(nanos);
                });
        metrics.gauge("te_queue_size", "Sequences waiting for a batch", batcher::queued);
        metrics.gauge("bertj_batches_running", "Batches in the model right now", batcher::running);
        metrics.gauge("bertj_requests_in_flight", "Requests admitted and not yet answered",
                () -> settings.maxConcurrentRequests() - admission.availablePermits());
        tokenizationTime = metrics.histogram("te_request_tokenization_duration", "Tokenization per request, seconds", Metrics.DURATION_BUCKETS);
        queueTime = metrics.histogram("te_request_queue_duration", "Wait for a batch per request (mean over its sequences), seconds",
                Metrics.DURATION_BUCKETS);
        inferenceTime = metrics.histogram("te_request_inference_duration",
                "Forward pass per request (mean over its sequences' batches), seconds", Metrics.DURATION_BUCKETS);
    }

    /** A batch on one worker: one forward pass through the same embedder and QA code the command line runs. */
    private List<Output> run(Worker w, List<Row> rows) {
        List<Output> out = new ArrayList<>(rows.size());
        if (rows.get(0) instanceof EmbedRow) {
            List<BertTokenizer.Sequence> seqs = new ArrayList<>(rows.size());
            for (Row r : rows) seqs.add(((EmbedRow) r).sequence());
            for (double[] v : w.embedder().embedSequences(seqs)) out.add(new Output(v, null, null));
        } else {
            // Windows padded with their batch run together; windows of NVIDIA's decoding are padded to their request's
            // max_seq_length, so each such length runs as its own pass.
            Output[] res = new Output[rows.size()];
            java.util.Map<Integer, List<Integer>> byPad = new java.util.LinkedHashMap<>();
            for (int i = 0; i < rows.size(); i++) byPad.computeIfAbsent(((QaRow) rows.get(i)).padTo(), k -> new ArrayList<>()).add(i);
            for (var group : byPad.entrySet()) {
                int padTo = group.getKey();
                List<Feature> features = new ArrayList<>(group.getValue().size());
                for (int i : group.getValue()) features.add(((QaRow) rows.get(i)).feature());
                Batches.Logits l = Batches.run(w.encoder(), w.encoder(), features, features.size(), Integer.MAX_VALUE,
                        padTo > 0 ? 0 : tokenizer.vocab().padId(), padTo, null);
                for (int k = 0; k < features.size(); k++) res[group.getValue().get(k)] = new Output(null, l.start()[k], l.end()[k]);
            }
            out.addAll(java.util.Arrays.asList(res));
        }
        return out;
    }

    /** One admission, or OVERLOADED at once when {@link Settings#maxConcurrentRequests} are in. */
    public Permit admit() {
        if (closing) throw new ServeException(ServeException.Reason.UNAVAILABLE, "the server is shutting down");
        if (!admission.tryAcquire()) {
            throw new ServeException(ServeException.Reason.OVERLOADED, "Model is overloaded: " + settings.maxConcurrentRequests()
                    + " requests are being served (--max-concurrent-requests); try again shortly");
        }
        return new Permit();
    }

    /**
     * Embeddings of the texts, one per text, pooled as this server pools and L2-normalised when asked.
     *
     * @param truncate cut a text longer than {@link #maxInputLength()} tokens instead of refusing the request
     */
    public Embedded embed(List<String> texts, boolean truncate, boolean normalize) {
        long t0 = System.nanoTime();
        SentenceEmbedder front = workers.get(0).embedder();
        List<Row> rows = new ArrayList<>(texts.size());
        int[] tokens = new int[texts.size()];
        for (int i = 0; i < texts.size(); i++) {
            BertTokenizer.Sequence s = front.sequence(texts.get(i));
            if (s.truncated() && !truncate) {
                int given = tokenizer.encode(texts.get(i)).ids().length + 2;
                throw new ServeException(ServeException.Reason.INVALID, (texts.size() > 1 ? "input " + i + " has " : "the input has ")
                        + given + " tokens ([CLS] and [SEP] included), more than the " + maxInputLength
                        + " this server takes; send \"truncate\": true to cut it");
            }
            tokens[i] = s.ids().length;
            rows.add(new EmbedRow(s));
        }
        long tokenization = System.nanoTime() - t0;
        tokenizationTime.observeNanos(tokenization);
        long[] qi = new long[2];
        List<Output> outs = await(rows, qi);
        List<double[]> vectors = new ArrayList<>(outs.size());
        for (Output o : outs) {
            double[] v = normalize ? SentenceEmbedder.normalized(o.vector()) : o.vector();
            for (double x : v) {
                if (!Double.isFinite(x)) {
                    throw new ServeException(ServeException.Reason.FAILED, "the model produced a non-finite value (NaN or infinity) in an embedding");
                }
            }
            vectors.add(v);
        }
        return new Embedded(vectors, tokens, new Timing(tokenization, qi[0], qi[1]));
    }

    /**
     * The best {@code topK} answers to a question about a context, as {@code bertj qa --top-k} gives them with the
     * same settings.
     */
    public Answered answer(String question, String context, QaSettings qaSettings, int topK) {
        if (!hasQaHead()) {
            throw new ServeException(ServeException.Reason.INVALID, "this model has no question-answering head (qa_outputs), so it cannot"
                    + " answer questions; /qa needs a SQuAD fine-tuned checkpoint such as NVIDIA's BERT 4L-288D");
        }
        long chars = context.codePointCount(0, context.length());
        if (chars > settings.maxContextChars()) {
            throw new ServeException(ServeException.Reason.INVALID, String.format(java.util.Locale.ROOT,
                    "the context has %d characters, over this server's limit of %d (--max-context-chars)", chars, settings.maxContextChars()));
        }
        long t0 = System.nanoTime();
        QuestionAnswerer qa;
        QuestionAnswerer.Example example;
        try {
            qa = new QuestionAnswerer(workers.get(0).encoder(), tokenizer, qaSettings, 1);
            if (topK < 1 || topK > qaSettings.nBestSize()) {
                throw new IllegalArgumentException("top_k must be between 1 and " + qaSettings.nBestSize() + " (got " + topK + ")");
            }
            example = qa.example(question, context);
        } catch (IllegalArgumentException e) {
            throw new ServeException(ServeException.Reason.INVALID, e.getMessage());
        }
        List<Feature> features = qa.features(List.of(example)).get(0);
        List<Row> rows = new ArrayList<>(features.size());
        int tokens = 0;
        for (Feature f : features) {
            rows.add(new QaRow(f, qaSettings.decoding() == bertj.qa.Decoding.NVIDIA ? qaSettings.maxSeqLength() : 0));
            tokens += f.length();
        }
        long tokenization = System.nanoTime() - t0;
        tokenizationTime.observeNanos(tokenization);
        long[] qi = new long[2];
        List<Output> outs = await(rows, qi);
        double[][] start = new double[outs.size()][], end = new double[outs.size()][];
        for (int i = 0; i < outs.size(); i++) {
            start[i] = outs.get(i).start();
            end[i] = outs.get(i).end();
        }
        List<Answer> all = qa.decode(List.of(example), List.of(features), new Batches.Logits(start, end)).get(0);
        for (Answer a : all) {
            if (!Double.isFinite(a.score()) || !Double.isFinite(a.probability())) {
                throw new ServeException(ServeException.Reason.FAILED, "the model produced a non-finite logit (NaN or infinity)");
            }
        }
        return new Answered(List.copyOf(all.subList(0, Math.min(topK, all.size()))), tokens, new Timing(tokenization, qi[0], qi[1]));
    }

    /** The tokens of a text with their spans; with {@code addSpecialTokens}, [CLS] first and [SEP] last. */
    public List<Token> tokenize(String text, boolean addSpecialTokens) {
        List<Token> out = new ArrayList<>();
        if (addSpecialTokens) out.add(special(tokenizer.vocab().clsId()));
        for (TokenSpans.Span s : TokenSpans.of(tokenizer, text)) out.add(new Token(s.id(), s.token(), s.special(), s.start(), s.end()));
        if (addSpecialTokens) out.add(special(tokenizer.vocab().sepId()));
        return out;
    }

    private Token special(int id) {
        return new Token(id, tokenizer.vocab().token(id), true, -1, -1);
    }

    /**
     * A real forward pass of a two-token sequence through the queue and a worker, within {@code timeout}: true when
     * it came back finite.
     */
    public boolean healthy(Duration timeout) {
        if (closing) return false;
        int[] ids = {tokenizer.vocab().clsId(), tokenizer.vocab().sepId()};
        List<CompletableFuture<Batcher.Done<Output>>> f;
        try {
            f = batcher.submit(List.of(new EmbedRow(new BertTokenizer.Sequence(ids, false))));
        } catch (IllegalStateException e) {
            return false;
        }
        try {
            double[] v = f.get(0).get(timeout.toNanos(), TimeUnit.NANOSECONDS).value().vector();
            for (double x : v) if (!Double.isFinite(x)) return false;
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            f.get(0).cancel(false);
            return false;
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            f.get(0).cancel(false);
            return false;
        }
    }

    /** Submits rows and waits for all of them; qi receives the mean queue and inference nanoseconds. */
    private List<Output> await(List<Row> rows, long[] qi) {
        if (closing) throw new ServeException(ServeException.Reason.UNAVAILABLE, "the server is shutting down");
        List<CompletableFuture<Batcher.Done<Output>>> futures;
        try {
            futures = batcher.submit(rows);
        } catch (IllegalStateException e) {
            throw new ServeException(ServeException.Reason.UNAVAILABLE, "the server is shutting down");
        }
        long deadline = System.nanoTime() + settings.requestTimeout().toNanos();
        List<Output> out = new ArrayList<>(rows.size());
        long queue = 0, inference = 0;
        try {
            for (CompletableFuture<Batcher.Done<Output>> f : futures) {
                Batcher.Done<Output> d = f.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                out.add(d.value());
                queue += d.queueNanos();
                inference += d.inferenceNanos();
            }
        } catch (TimeoutException e) {
            futures.forEach(f -> f.cancel(false));
            throw new ServeException(ServeException.Reason.UNAVAILABLE, "the model did not answer within "
                    + settings.requestTimeout().toSeconds() + " s; try again later");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            futures.forEach(f -> f.cancel(false));
            throw new ServeException(ServeException.Reason.UNAVAILABLE, "interrupted while waiting for the model");
        } catch (ExecutionException e) {
            futures.forEach(f -> f.cancel(false));
            Throwable c = e.getCause();
            if (c instanceof IllegalStateException && closing) {
                throw new ServeException(ServeException.Reason.UNAVAILABLE, "the server shut down before the request ran");
            }
            throw new ServeException(ServeException.Reason.FAILED, "inference failed: " + describe(c), c);
        }
        qi[0] = queue / rows.size();
        qi[1] = inference / rows.size();
        queueTime.observeNanos(qi[0]);
        inferenceTime.observeNanos(qi[1]);
        return out;
    }

    private static String describe(Throwable t) {
        if (t instanceof OutOfMemoryError) return "out of memory; give the server a larger heap (JAVA_OPTS=-Xmx…) or lower --max-batch-tokens";
        String m = t.getMessage();
        return (t instanceof IllegalArgumentException || t instanceof bertj.backend.BackendException) && m != null
                ? m.replace('\n', ' ') : t.getClass().getSimpleName() + (m == null ? "" : ": " + m.replace('\n', ' '));
    }

    public String modelId() {
        return modelId;
    }

    public LoadedModel model() {
        return model;
    }

    public BertConfig config() {
        return model.config();
    }

    public BertTokenizer tokenizer() {
        return tokenizer;
    }

    public SentenceEmbedder.Pooling pooling() {
        return pooling;
    }

    public Settings settings() {
        return settings;
    }

    /** Tokens per input this server takes, [CLS] and [SEP] included. */
    public int maxInputLength() {
        return maxInputLength;
    }

    public boolean hasQaHead() {
        return workers.get(0).encoder().hasQaHead();
    }

    public String backend() {
        return workers.get(0).encoder().backend().name();
    }

    public String precision() {
        return workers.get(0).encoder().backend().precision();
    }

    public int workers() {
        return workers.size();
    }

    public Metrics metrics() {
        return metrics;
    }

    /** Sequences waiting for a batch. */
    public int queued() {
        return batcher.queued();
    }

    /** Refuses new requests from now on (admit, health), without waiting. */
    public void beginShutdown() {
        closing = true;
    }

    /**
     * Refuses new work, runs what is queued (waiting at most {@code timeout}), then frees the model instances.
     */
    public void close(Duration timeout) {
        closing = true;
        batcher.close(timeout.toMillis());
        for (Worker w : workers) w.encoder().close();
    }

    @Override
    public void close() {
        close(Duration.ofMinutes(1));
    }
}
