package bertj.qa;

import bertj.backend.Backend;
import bertj.backend.Backends;
import bertj.encoder.BertEncoder;
import bertj.model.LoadedModel;
import bertj.model.ModelLoader;
import bertj.readers.ModelFileException;
import bertj.tokenizer.BertTokenizer;
import bertj.tokenizer.Vocabulary;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Extractive question answering with a SQuAD fine-tuned BERT: load once, then ask.
 * <pre>
 *   try (QuestionAnswerer qa = QuestionAnswerer.load(Path.of("bert_4l_288d.pt"), Path.of("vocab.txt"))) {
 *       Answer a = qa.answer("Where is the Eiffel Tower?", "The Eiffel Tower is in Paris.");
 *       System.out.println(a.text() + " " + a.score());   // Paris ...
 *   }
 * </pre>
 * The answer is the one NVIDIA's run_squad.py gives for the same checkpoint: the same windows ({@link Features}),
 * the same decoding ({@link SpanDecoder}). Safe for concurrent callers: tokenization and decoding run in the
 * caller's thread; forward passes take turns on the one model.
 */
public final class QuestionAnswerer implements AutoCloseable {
    /**
     * @param backend        "reference", "cpu" or "opencl" (see {@link Backends})
     * @param backendOptions device and threads
     * @param settings       windows and decoding
     * @param cased          true/false to force the casing; null: the vocabulary decides ({@link BertTokenizer#of})
     * @param batchSize      features per forward pass
     * @param model          how to read the checkpoint (GELU form, heads, config)
     */
    public record Options(String backend, Backends.Options backendOptions, QaSettings settings, Boolean cased, int batchSize,
                          ModelLoader.Options model) {
        public static Options defaults() {
            return new Options("cpu", Backends.Options.defaults(), QaSettings.RUN_SQUAD, null, 16, ModelLoader.Options.defaults());
        }

        public Options withBackend(String name) {
            return new Options(name, backendOptions, settings, cased, batchSize, model);
        }

        public Options withSettings(QaSettings s) {
            return new Options(backend, backendOptions, s, cased, batchSize, model);
        }

        public Options withBatchSize(int n) {
            return new Options(backend, backendOptions, settings, cased, n, model);
        }
    }

    /** A question about a passage, for {@link #predict}. */
    public record Example(String id, String question, Passage passage) {
    }

    private final BertEncoder encoder;
    private final BertTokenizer tokenizer;
    private final QaSettings settings;
    private final int batchSize;

    public QuestionAnswerer(BertEncoder encoder, BertTokenizer tokenizer, QaSettings settings, int batchSize) {
        if (!encoder.hasQaHead()) {
            throw new ModelFileException("the model has no QA head (qa_outputs); question answering needs a SQuAD fine-tuned checkpoint");
        }
        Vocabulary v = tokenizer.vocab();
        if (v.idLimit() > encoder.config().vocabSize()) {
            throw new ModelFileException(v.source() + ": the vocabulary has ids up to " + (v.idLimit() - 1) + " but the model's word"
                    + " embeddings have " + encoder.config().vocabSize() + " rows; is this the model's vocabulary?");
        }
        if (settings.maxSeqLength() > encoder.config().maxPositions()) {
            throw new IllegalArgumentException("max sequence length " + settings.maxSeqLength() + " exceeds the model's "
                    + encoder.config().maxPositions() + " positions");
        }
        if (batchSize < 1) throw new IllegalArgumentException("batch size must be at least 1 (got " + batchSize + ")");
        this.encoder = encoder;
        this.tokenizer = tokenizer;
        this.settings = settings;
        this.batchSize = batchSize;
    }

    public static QuestionAnswerer load(Path model, Path vocab) {
        return load(model, vocab, Options.defaults());
    }

    /**
     * Loads a checkpoint and its vocabulary. {@code vocab} null: the vocab.txt / tokenizer.json beside a Hugging
     * Face style model directory; a model without one is an error asking for the vocabulary.
     */
    public static QuestionAnswerer load(Path model, Path vocab, Options o) {
        LoadedModel loaded = ModelLoader.load(model, o.model());
        BertTokenizer tok = BertTokenizer.load(loaded.vocabulary(vocab), o.cased());
        return of(loaded, tok, Backends.create(o.backend(), o.backendOptions()), o.settings(), o.batchSize());
    }

    /**
     * A question answerer over a loaded model; takes ownership of the backend (closed with this, or on failure).
     */
    public static QuestionAnswerer of(LoadedModel loaded, BertTokenizer tokenizer, Backend backend, QaSettings settings, int batchSize) {
        BertEncoder encoder;
        try {
            encoder = new BertEncoder(loaded.weights(), backend);
        } catch (RuntimeException e) {
            backend.close();
            throw e;
        }
        try {
            return new QuestionAnswerer(encoder, tokenizer, settings, batchSize);
        } catch (RuntimeException e) {
            encoder.close();
            throw e;
        }
    }

    public BertTokenizer tokenizer() {
        return tokenizer;
    }

    public QaSettings settings() {
        return settings;
    }

    public BertEncoder encoder() {
        return encoder;
    }

    /** The best answer, or null when no window holds a valid span (see {@link SpanDecoder}). */
    public Answer answer(String question, String context) {
        List<Answer> a = answers(question, context, 1);
        return a.isEmpty() ? null : a.get(0);
    }

    /**
     * The best k answers (k at most the n-best size), best first; probabilities are over the whole n-best list.
     * An empty question or context, or one with nothing left after text cleaning, is an IllegalArgumentException.
     */
    public List<Answer> answers(String question, String context, int k) {
        if (k < 1 || k > settings.nBestSize()) {
            throw new IllegalArgumentException("top-k must be between 1 and the n-best size " + settings.nBestSize() + " (got " + k + ")");
        }
        List<Answer> all = predict(List.of(example(question, context)), null).get(0);
        return all.subList(0, Math.min(k, all.size()));
    }

    /**
     * A question about a context, checked as {@link #answers} checks it: an empty question or context, or one with
     * nothing left after text cleaning, is an IllegalArgumentException.
     */
    public Example example(String question, String context) {
        if (question == null || question.isBlank()) throw new IllegalArgumentException("the question is empty");
        if (context == null || context.isBlank()) throw new IllegalArgumentException("the context is empty");
        Passage p = passage(context);
        if (p.tokens().isEmpty()) {
            throw new IllegalArgumentException("the context has no tokens once control and zero-width characters are removed");
        }
        BertTokenizer.Encoding q = tokenizer.encode(question);
        if (q.ids().length == 0) {
            throw new IllegalArgumentException("the question has no tokens once control and zero-width characters are removed");
        }
        return new Example("", question, p);
    }

    /** A context split into words and tokens, to share between questions about it. */
    public Passage passage(String context) {
        return Passage.of(context, tokenizer);
    }

    /** The windows of each example, numbered by the example's index in the list. */
    public List<List<Feature>> features(List<Example> examples) {
        List<List<Feature>> out = new ArrayList<>(examples.size());
        for (int i = 0; i < examples.size(); i++) {
            Example e = examples.get(i);
            BertTokenizer.Encoding q = tokenizer.encode(e.question());
            out.add(Features.build(i, q.tokens(), q.ids(), e.passage(), tokenizer.vocab(), settings));
        }
        return out;
    }

    /** The n-best answers of many questions: features of all of them are batched together. */
    public List<List<Answer>> predict(List<Example> examples, Batches.Progress progress) {
        return decode(examples, features(examples), progress);
    }

    /** Runs the model on already built features and decodes each example. */
    public List<List<Answer>> decode(List<Example> examples, List<List<Feature>> perExample, Batches.Progress progress) {
        List<Feature> all = new ArrayList<>();
        for (List<Feature> f : perExample) all.addAll(f);
        Batches.Logits logits = Batches.run(encoder, encoder, all, batchSize, tokenizer.vocab().padId(), progress);
        return decode(examples, perExample, logits);
    }

    /**
     * Decodes each example from logits computed elsewhere (a server batching features of many requests):
     * {@code logits} holds one start and one end row per feature, the features of all examples in order.
     */
    public List<List<Answer>> decode(List<Example> examples, List<List<Feature>> perExample, Batches.Logits logits) {
        List<List<Answer>> out = new ArrayList<>(examples.size());
        int at = 0;
        for (int i = 0; i < examples.size(); i++) {
            List<Feature> f = perExample.get(i);
            List<double[]> s = new ArrayList<>(f.size()), e = new ArrayList<>(f.size());
            for (int j = 0; j < f.size(); j++) {
                s.add(logits.start()[at + j]);
                e.add(logits.end()[at + j]);
            }
            at += f.size();
            out.add(SpanDecoder.decode(examples.get(i).passage(), f, s, e, settings, tokenizer.basic()));
        }
        return out;
    }

    @Override
    public void close() {
        encoder.close();
    }
}
