package bertj.cli;

import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Option;

/**
 * {@code --cased} / {@code --uncased}, shared by every command that tokenizes (tokenize, qa, squad, embed,
 * similarity): they override the one casing rule of {@link bertj.tokenizer.BertTokenizer#of}.
 */
public class CasingOptions {
    @ArgGroup(exclusive = true, multiplicity = "0..1")
    Choice choice;

    static class Choice {
        @Option(names = "--cased", description = "Keep case and accents. Default: what a tokenizer.json's normalizer says; "
                + "for a vocab.txt, uncased unless some token has an upper-case letter.")
        boolean cased;

        @Option(names = "--uncased", description = "Lower-case and strip accents (BERT uncased), whatever the vocabulary suggests.")
        boolean uncased;
    }

    /** True (--cased), false (--uncased), or null: the vocabulary decides. */
    Boolean cased() {
        if (choice == null || choice.cased == choice.uncased) return null;
        return choice.cased;
    }
}
