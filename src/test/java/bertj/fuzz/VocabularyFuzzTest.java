package bertj.fuzz;

import bertj.readers.ModelFileException;
import bertj.readers.Utf8;
import bertj.tokenizer.BertTokenizer;
import bertj.tokenizer.Vocabulary;
import com.code_intelligence.jazzer.junit.DictionaryFile;
import com.code_intelligence.jazzer.junit.FuzzTest;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * vocab.txt and tokenizer.json loading from bytes (strict UTF-8, then {@link Vocabulary#parse}), and the tokenizer
 * built on whatever loaded, run on a text. An input: a byte choosing --cased / --uncased / neither, the vocabulary
 * file as a chunk, then the text. Property: {@link ModelFileException} with a one-line message, or a tokenizer
 * whose output agrees with its vocabulary ({@link TokenChecks}).
 */
class VocabularyFuzzTest {
    static final Boolean[] CASED = {null, Boolean.TRUE, Boolean.FALSE};

    static byte[] encode(int cased, String file, String text) {
        return new FuzzInput.Writer().u8(cased).chunk(file.getBytes(StandardCharsets.UTF_8)).rest(text.getBytes(StandardCharsets.UTF_8)).toBytes();
    }

    static final String VOCAB_TXT = "[PAD]\n[unused0]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n!\n,\n.\na\nthe\nquick\nbrown\nfox\n##s\n##es\n##ing\nrun\njump\n"
            + "over\nlazy\ndog\n中\n##中\né\nσ\n";
    static final String TOKENIZER_JSON = "{\"version\":\"1.0\",\"added_tokens\":[{\"id\":0,\"content\":\"[PAD]\",\"special\":true},"
            + "{\"id\":1,\"content\":\"[UNK]\",\"special\":true},{\"id\":2,\"content\":\"[CLS]\",\"special\":true},"
            + "{\"id\":3,\"content\":\"[SEP]\",\"special\":true},{\"id\":4,\"content\":\"[MASK]\",\"special\":true}],"
            + "\"normalizer\":{\"type\":\"BertNormalizer\",\"clean_text\":true,\"handle_chinese_chars\":true,\"strip_accents\":null,\"lowercase\":true},"
            + "\"pre_tokenizer\":{\"type\":\"BertPreTokenizer\"},"
            + "\"model\":{\"type\":\"WordPiece\",\"unk_token\":\"[UNK]\",\"continuing_subword_prefix\":\"##\",\"max_input_chars_per_word\":100,"
            + "\"vocab\":{\"[PAD]\":0,\"[UNK]\":1,\"[CLS]\":2,\"[SEP]\":3,\"[MASK]\":4,\"the\":5,\"fox\":6,\"##es\":7,\"jump\":8,\"##s\":9,\".\":10,\"Fox\":11}}}";
    static final String TEXT = "The quick brown foxes jump over the lazy dogs. [SEP] Élan σ中文 [MASK]!";

    static Stream<Arguments> seeds() {
        return Stream.of(
                Arguments.of(Named.of("vocab.txt", encode(0, VOCAB_TXT, TEXT))),
                Arguments.of(Named.of("vocab.txt, --cased, CRLF and a BOM", encode(1, "\uFEFF" + VOCAB_TXT.replace("\n", "\r\n"), TEXT))),
                Arguments.of(Named.of("tokenizer.json", encode(0, TOKENIZER_JSON, TEXT))),
                Arguments.of(Named.of("tokenizer.json, --uncased, cased normalizer",
                        encode(2, TOKENIZER_JSON.replace("\"lowercase\":true", "\"lowercase\":false"), TEXT))));
    }

    @MethodSource("seeds")
    @DictionaryFile(resourcePath = "vocabulary.dict")
    @FuzzTest
    void vocabulary(byte[] input) {
        Contract.holds(() -> {
            FuzzInput in = new FuzzInput(input);
            Boolean cased = CASED[in.u8() % CASED.length];
            Vocabulary v = Vocabulary.parse(Utf8.decode(in.chunk(), "vocab.txt"), "vocab.txt");
            String text = new String(in.rest(), StandardCharsets.UTF_8);
            BertTokenizer t = BertTokenizer.of(v, cased);
            t.describe();
            TokenChecks.encoding(t, text);
            TokenChecks.passage(text, t);
        }, ModelFileException.class);
    }

    /** The seeds' vocabularies load and split words into pieces, keep special tokens whole, and lower-case or not as asked. */
    @Test
    void seedsTokenize() {
        BertTokenizer t = BertTokenizer.of(Vocabulary.parse(VOCAB_TXT, "v"), null);
        assertEquals(List.of("the", "quick", "brown", "fox", "##es"), t.tokenize(TEXT).subList(0, 5));
        assertTrue(t.tokenize(TEXT).containsAll(List.of("[SEP]", "[MASK]", "中", "σ")), t.tokenize(TEXT).toString());
        t = BertTokenizer.of(Vocabulary.parse(TOKENIZER_JSON, "t"), null);
        assertEquals(List.of("the", "[UNK]", "[UNK]", "fox", "##es", "jump"), t.tokenize(TEXT).subList(0, 6));
        t = BertTokenizer.of(Vocabulary.parse(TOKENIZER_JSON, "t"), true);
        assertEquals(List.of("[UNK]", "[UNK]", "[UNK]", "fox", "##es", "jump"), t.tokenize(TEXT).subList(0, 6));
    }
}
