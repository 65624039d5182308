package bertj.cli;

import bertj.model.LoadedModel;
import bertj.tokenizer.BertTokenizer;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** {@code --vocab} and {@code --cased}/{@code --uncased}: how every command that tokenizes finds its tokenizer. */
public class VocabularyOptions {
    @Option(names = "--vocab", paramLabel = "PATH",
            description = "vocab.txt or tokenizer.json (default: the one beside the model file, in its directory, "
                    + "or inside a built-in model's jar).")
    Path vocab;

    @Mixin
    CasingOptions casing;

    /** The tokenizer of --vocab, else of the vocabulary beside the model; cased by {@link BertTokenizer#of}'s rule. */
    BertTokenizer tokenizer(LoadedModel m) {
        return tokenizer(m, bertj.tokenizer.LowerCasing.HF);
    }

    /** The same, lower-casing (when uncased) as {@code l} says. */
    BertTokenizer tokenizer(LoadedModel m, bertj.tokenizer.LowerCasing l) {
        return BertTokenizer.load(m.vocabulary(vocab), casing.cased(), l);
    }
}
