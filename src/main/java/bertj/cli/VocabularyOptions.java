package bertj.cli;

import bertj.model.LoadedModel;
import bertj.model.ModelLoader;
import bertj.tokenizer.BertTokenizer;
import bertj.tokenizer.LowerCasing;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Supplier;

/** {@code --vocab} and {@code --cased}/{@code --uncased}: how every command that tokenizes finds its tokenizer. */
public class VocabularyOptions {
    @Option(names = "--vocab", paramLabel = "PATH",
            description = "vocab.txt or tokenizer.json (default: the one beside the model file, in its directory, "
                    + "or inside a built-in model's jar).")
    Path vocab;

    @Mixin
    CasingOptions casing;

    /**
     * The tokenizer of --vocab, else of the vocabulary beside the model; cased by {@link BertTokenizer#of}'s rule,
     * lower-casing (when uncased) as {@code l} says.
     */
    BertTokenizer tokenizer(LoadedModel m, LowerCasing l) {
        return BertTokenizer.load(m.vocabulary(vocab), casing.cased(), l);
    }

    /**
     * Loads the model at {@code modelPath} with {@code load} on this thread while its vocabulary is read on a
     * second one: both are single-threaded, and in a new JVM a tokenizer.json's vocabulary took 0.2–0.6 s, a
     * quarter of a one-text {@code embed}. Errors come in the order of loading the model and then calling
     * {@link #tokenizer(LoadedModel, LowerCasing)}: a model that fails to load is reported first (the
     * vocabulary read is dropped), a bad vocabulary by {@link Loaded#tokenizer()}, with tokenizer()'s message.
     */
    Loaded load(Path modelPath, Supplier<LoadedModel> load, LowerCasing l) {
        Path early = vocab != null ? vocab : ModelLoader.vocabularyFor(modelPath);
        Boolean cased = casing.cased();
        CompletableFuture<BertTokenizer> read = null;
        if (early != null && Runtime.getRuntime().availableProcessors() > 1) {
            read = CompletableFuture.supplyAsync(() -> BertTokenizer.load(early, cased, l), task -> {
                Thread t = new Thread(task, "bertj-vocabulary");
                t.setDaemon(true);
                t.start();
            });
        }
        return new Loaded(load.get(), early, read, l);
    }

    /** A loaded model and its tokenizer, read meanwhile (see {@link #load}). */
    final class Loaded {
        private final LoadedModel model;
        private final Path early;
        private final CompletableFuture<BertTokenizer> read;
        private final LowerCasing l;

        private Loaded(LoadedModel model, Path early, CompletableFuture<BertTokenizer> read, LowerCasing l) {
            this.model = model;
            this.early = early;
            this.read = read;
            this.l = l;
        }

        LoadedModel model() {
            return model;
        }

        /** {@link #tokenizer(LoadedModel, LowerCasing)} of the model: the vocabulary read meanwhile when it is that one. */
        BertTokenizer tokenizer() {
            Path p = model.vocabulary(vocab);
            if (read == null || !p.equals(early)) return VocabularyOptions.this.tokenizer(model, l);
            try {
                return read.join();
            } catch (CompletionException e) {
                // the vocabulary's own error, as tokenizer() would have thrown it on this thread
                if (e.getCause() instanceof RuntimeException r) throw r;
                if (e.getCause() instanceof Error r) throw r;
                throw e;
            }
        }
    }
}
