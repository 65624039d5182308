package bertj.qa;

import bertj.backend.Backend;
import bertj.backend.Backends;
import bertj.encoder.BertEncoder;
import bertj.model.LoadedModel;
import bertj.model.ModelLoader;
import bertj.readers.ModelFileException;
import bertj.tokenizer.BertTokenizer;
import bertj.tokenizer.LowerCasing;
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
 * The windows are run_squad.py's ({@link Features}); the decoding ({@link SpanDecoder}) is the settings' {@link Decoding}:
 * {@link Decoding#MASKED} by default (padding never competes; no answer when no span is valid), or
 * {@link Decoding#NVIDIA}, which gives exactly the answers and n-best lists of NVIDIA's run_squad.py — including
 * its placeholder {@code "empty"} ({@link Answer#isPlaceholder()}) when padding leaves no valid span — at the cost
 * of padding every window to max_seq_length. For NVIDIA's tokens too, build the tokenizer with
 * {@link LowerCasing#PYTHON} (what {@link #load} does for {@link Decoding#NVIDIA} unless told otherwise).
 * Safe for concurrent callers: tokenization and decoding run in the caller's thread; forward passes take turns on
 * the one model; nothing is mutable.
 */
public final class QuestionAnswerer implements AutoCloseable {
    /**
     * @param backend        "reference", "cpu" or "opencl" (see {@link Backends})
     * @param backendOptions device and threads
     * @param settings       windows and decoding ({@link QaSettings#decoding()}, masked by default)
     * @param cased          true/false to force the casing; null: the vocabulary decides ({@link BertTokenizer#of})
     * @param batchSize      features per forward pass
     * @param model          how to read the checkpoint (GELU form, heads, config)
     * @param lowerCasing    how an uncased tokenizer lower-cases; null: as the decoding implies
     *                       ({@link LowerCasing#PYTHON} for {@link Decoding#NVIDIA}, {@link LowerCasing#HF} for masked)
     */
    public record Options(String backend, Backends.Options backendOptions, QaSettings settings, Boolean cased, int batchSize,
                          ModelLoader.Options model, LowerCasing lowerCasing) {
        /** Lower-casing as the decoding implies. */
        public Options(String backend, Backends.Options backendOptions, QaSettings settings, Boolean cased, int batchSize,
                       ModelLoader.Options model) {
            this(backend, backendOptions, settings, cased, batchSize, model, null);
        }

        public static Options defaults() {
            return new Options("cpu", Backends.Options.defaults(), QaSettings.RUN_SQUAD, null, 16, ModelLoader.Options.defaults());
        }

        public Options withBackend(String name) {
            return new Options(name, backendOptions, settings, cased, batchSize, model, lowerCasing);
        }

        public Options withSettings(QaSettings s) {
            return new Options(backend, backendOptions, s, cased, batchSize, model, lowerCasing);
        }

        public Options withBatchSize(int n) {
            return new Options(backend, backendOptions, settings, cased, n, model, lowerCasing);
        }

        /** The same settings decoded the given way. */
        public Options withDecoding(Decoding d) {
            return withSettings(settings.withDecoding(d));
        }

        public Options withLowerCasing(LowerCasing l) {
            return new Options(backend, backendOptions, settings, cased, batchSize, model, l);
        }

        /** The lower-casing to tokenize with: as given, else as the decoding implies. */
        public LowerCasing effectiveLowerCasing() {
            return lowerCasing != null ? lowerCasing : defaultLowerCasing(settings.decoding());
        }
    }

    /** {@link LowerCasing#PYTHON} for {@link Decoding#NVIDIA} (NVIDIA's tokenization.py), {@link LowerCasing#HF} for masked. */
    public static LowerCasing defaultLowerCasing(Decoding d) {
        return d == Decoding.NVIDIA ? LowerCasing.PYTHON : LowerCasing.HF;
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
        BertTokenizer tok = BertTokenizer.load(loaded.vocabulary(vocab), o.cased(), o.effectiveLowerCasing());
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

    /**
     * The best answer; when no window holds a valid span, null ({@link Decoding#MASKED}) or NVIDIA's placeholder
     * {@code "empty"} ({@link Decoding#NVIDIA}, {@link Answer#isPlaceholder()}).
     */
    public Answer answer(String question, String context) {
        List<Answer> a = answers(question, context, 1);
        return a.isEmpty() ? null : a.get(0);
    }

    /**
     * The best k answers (k at most the n-best size), best first; probabilities are over the whole n-best list.
     * With {@link Decoding#NVIDIA} the list may repeat a text (from two windows), or be NVIDIA's placeholder alone.
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
        Passage p = context == null || context.isBlank() ? null : passage(context);
        return example("", question, p);
    }

    /**
     * A question about a passage, checked as {@link #answers} checks it: an empty question or passage (null, or
     * blank), or one with nothing left after text cleaning, is an IllegalArgumentException that says which.
     */
    public Example example(String id, String question, Passage passage) {
        if (question == null || question.isBlank()) throw new IllegalArgumentException("the question is empty");
        if (passage == null || passage.context().isBlank()) throw new IllegalArgumentException("the context is empty");
        if (passage.tokens().isEmpty()) {
            throw new IllegalArgumentException("the context has no tokens once control and zero-width characters are removed");
        }
        if (tokenizer.encode(question).ids().length == 0) {
            throw new IllegalArgumentException("the question has no tokens once control and zero-width characters are removed");
        }
        return new Example(id, question, passage);
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
        List<List<Answer>> out = new ArrayList<>(examples.size());
        for (Prediction p : predictions(examples, perExample, progress)) out.add(p.nbest());
        return out;
    }

    /**
     * As {@link #decode}, with whether padding was among each question's n-best positions. With
     * {@link Decoding#NVIDIA} every window is padded to max_seq_length with id 0, segment 0, mask 0, as
     * run_squad.py pads it; with masked, each batch to its longest window.
     */
    public List<Prediction> predictions(List<Example> examples, List<List<Feature>> perExample, Batches.Progress progress) {
        List<Feature> all = new ArrayList<>();
        for (List<Feature> f : perExample) all.addAll(f);
        Batches.Logits logits = Batches.run(encoder, encoder, all, batchSize, Batches.DEFAULT_TOKEN_BUDGET, settings, tokenizer.vocab().padId(),
                progress);
        return predictionsOf(examples, perExample, logits);
    }

    /**
     * Decodes examples whose features the caller has run through {@link #encoder()} itself (batched its own way,
     * e.g. with {@link Batches#run} by a token budget): {@code logits} holds one row per feature, in the order of
     * {@code perExample} flattened. With masked decoding a feature's logits do not depend on the batch it rode in;
     * with {@link Decoding#NVIDIA} each row must cover a window padded to max_seq_length (id 0, segment 0,
     * mask 0), as {@link #predictions} runs them, or padding would not compete as NVIDIA's script has it compete.
     */
    public List<List<Answer>> decodeLogits(List<Example> examples, List<List<Feature>> perExample, Batches.Logits logits) {
        if (settings.decoding() == Decoding.NVIDIA) {
            for (double[] row : logits.start()) {
                if (row.length != settings.maxSeqLength()) {
                    throw new IllegalArgumentException("NVIDIA decoding needs the logits of windows padded to max_seq_length "
                            + settings.maxSeqLength() + ", got a row of " + row.length);
                }
            }
        }
        List<List<Answer>> out = new ArrayList<>(examples.size());
        for (Prediction p : predictionsOf(examples, perExample, logits)) out.add(p.nbest());
        return out;
    }

    /**
     * Decodes each example from logits computed elsewhere (a server batching features of many requests): as
     * {@link #decodeLogits}.
     */
    public List<List<Answer>> decode(List<Example> examples, List<List<Feature>> perExample, Batches.Logits logits) {
        return decodeLogits(examples, perExample, logits);
    }

    private List<Prediction> predictionsOf(List<Example> examples, List<List<Feature>> perExample, Batches.Logits logits) {
        List<Prediction> out = new ArrayList<>(examples.size());
        int at = 0;
        for (int i = 0; i < examples.size(); i++) {
            List<Feature> f = perExample.get(i);
            List<double[]> s = new ArrayList<>(f.size()), e = new ArrayList<>(f.size());
            for (int j = 0; j < f.size(); j++) {
                s.add(logits.start()[at + j]);
                e.add(logits.end()[at + j]);
            }
            at += f.size();
            out.add(SpanDecoder.predict(examples.get(i).passage(), f, s, e, settings, tokenizer.basic()));
        }
        return out;
    }

    @Override
    public void close() {
        encoder.close();
    }
}
