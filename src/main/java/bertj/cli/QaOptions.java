package bertj.cli;

import bertj.qa.Decoding;
import bertj.qa.QaSettings;
import bertj.qa.QuestionAnswerer;
import bertj.tokenizer.LowerCasing;
import picocli.CommandLine;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;


/** SQuAD window and decoding settings (run_squad.py's defaults), windows per pass, the vocabulary and its casing: qa's and squad's. */
public class QaOptions {
    @Mixin
    VocabularyOptions vocabulary;

    @Mixin
    LowerCasingOption lowerCasing;

    @Option(names = "--max-seq-length", paramLabel = "N", defaultValue = "384", description = "Tokens per window (default ${DEFAULT-VALUE}).")
    int maxSeqLength;

    @Option(names = "--doc-stride", paramLabel = "N", defaultValue = "128", description = "Passage tokens between window starts (default ${DEFAULT-VALUE}).")
    int docStride;

    @Option(names = "--max-query-length", paramLabel = "N", defaultValue = "64", description = "Question tokens kept (default ${DEFAULT-VALUE}).")
    int maxQueryLength;

    @Option(names = "--n-best-size", paramLabel = "N", defaultValue = "20", description = "Start/end candidates per window and answers kept (default ${DEFAULT-VALUE}).")
    int nBestSize;

    @Option(names = "--max-answer-length", paramLabel = "N", defaultValue = "30", description = "Longest answer in tokens (default ${DEFAULT-VALUE}).")
    int maxAnswerLength;

    @Option(names = "--decoding", paramLabel = "nvidia|masked",
            description = "nvidia: exactly NVIDIA's run_squad.py (every window padded to --max-seq-length, padding ranked among the"
                    + " n-best positions, repeated texts removed per window, \"empty\" when no span is left); masked: padding never"
                    + " competes (Hugging Face's pipeline). Default: nvidia for squad, masked for qa (see docs/qa.md).")
    String decoding;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "16", converter = Converters.Positive.class,
            description = "Windows per forward pass (default ${DEFAULT-VALUE}).")
    int batch;

    /** The settings; {@code otherwise} is the command's default decoding. */
    QaSettings settings(CommandLine cmd, Decoding otherwise) {
        Decoding d;
        try {
            d = decoding == null ? otherwise : Decoding.parse(decoding);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cmd, "--decoding must be nvidia or masked, got '" + decoding + "'");
        }
        try {
            return new QaSettings(maxSeqLength, docStride, maxQueryLength, nBestSize, maxAnswerLength, d);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cmd, e.getMessage());
        }
    }

    /** The lower-casing: --lowercasing, else what the decoding implies. */
    LowerCasing lowerCasing(CommandLine cmd, QaSettings s) {
        return lowerCasing.or(cmd, QuestionAnswerer.defaultLowerCasing(s.decoding()));
    }

    /** The model and its tokenizer, read at once ({@link VocabularyOptions#load}). */
    VocabularyOptions.Loaded load(ModelShapeOptions model, LowerCasing l) {
        return vocabulary.load(model.path(), model::load, l);
    }
}
