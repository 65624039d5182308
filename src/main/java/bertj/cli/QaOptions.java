package bertj.cli;

import bertj.qa.QaSettings;
import picocli.CommandLine;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;


/** SQuAD window and decoding settings (run_squad.py's defaults), windows per pass, the vocabulary and its casing: qa's and squad's. */
public class QaOptions {
    @Mixin
    VocabularyOptions vocabulary;

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

    @Option(names = "--batch", paramLabel = "N", defaultValue = "16", converter = Converters.Positive.class,
            description = "Windows per forward pass (default ${DEFAULT-VALUE}).")
    int batch;

    QaSettings settings(CommandLine cmd) {
        try {
            return new QaSettings(maxSeqLength, docStride, maxQueryLength, nBestSize, maxAnswerLength);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cmd, e.getMessage());
        }
    }

    bertj.tokenizer.BertTokenizer tokenizer(bertj.model.LoadedModel m) {
        return vocabulary.tokenizer(m);
    }
}
