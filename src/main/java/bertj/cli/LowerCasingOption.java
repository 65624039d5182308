package bertj.cli;

import bertj.tokenizer.LowerCasing;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/** {@code --lowercasing hf|python}: how an uncased tokenizer lower-cases ({@link LowerCasing}); tokenize, qa, squad. */
public class LowerCasingOption {
    @Option(names = "--lowercasing", paramLabel = "hf|python",
            description = "How uncased text is lower-cased: hf, each character on its own (Hugging Face tokenizers), or python,"
                    + " each word with Python's str.lower() (NVIDIA's tokenization.py: a word-final capital sigma becomes ς)."
                    + " Default: python for qa/squad --decoding nvidia, hf otherwise.")
    String value;

    /** The choice, or {@code otherwise} when none was given; a bad value is a usage error. */
    LowerCasing or(CommandLine cmd, LowerCasing otherwise) {
        if (value == null) return otherwise;
        try {
            return LowerCasing.parse(value);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cmd, "--lowercasing must be hf or python, got '" + value + "'");
        }
    }
}
