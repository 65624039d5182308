package bertj.tokenizer;

import bertj.readers.ModelFileException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The tokenizer's rules on hand-worked cases, with a small vocabulary whose ids we know. */
class TokenizerTest {
    static final List<String> TOKENS = List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", ",", "world", "!",
            "un", "##aff", "##able", "σ", "##ο", "##σ", "cafe", "H", "##é", "##llo", "a", "##a", "中", "文", "x", "y", "é");

    static Vocabulary vocab() {
        return Vocabulary.parse(String.join("\n", TOKENS) + "\n", "test vocab.txt");
    }

    static BertTokenizer uncased() {
        return BertTokenizer.of(vocab(), false);
    }

    @Test
    void punctuationSplitsAndCaseFolds() {
        var e = uncased().encode("Hello, WORLD!");
        assertEquals(List.of("hello", ",", "world", "!"), e.tokens());
        assertArrayEquals(new int[] {5, 6, 7, 8}, e.ids());
    }

    @Test
    void greedyLongestMatchFirst() {
        assertEquals(List.of("un", "##aff", "##able"), uncased().tokenize("unaffable"));
        // "unaffablex": no piece continues with "x" → the whole word is [UNK], not a partial split.
        assertEquals(List.of("[UNK]"), uncased().tokenize("unaffablex"));
    }

    @Test
    void accentsStrippedAndMarksDroppedWhenUncased() {
        assertEquals(List.of("cafe", "cafe"), uncased().tokenize("Café cafe\u0301"));
        // cased: é stays, as a piece of its own vocabulary entry
        assertEquals(List.of("H", "##é", "##llo"), BertTokenizer.of(vocab(), true).tokenize("Héllo"));
    }

    @Test
    void finalSigmaLowerCasesCodePointByCodePoint() {
        // Per code point, Σ → σ even at the end of a word (Python's str.lower would give ς there).
        assertEquals(List.of("σ", "##ο", "##σ"), uncased().tokenize("ΣΟΣ"));
    }

    @Test
    void cjkIdeographsAreWordsOfTheirOwn() {
        assertEquals(List.of("中", "文", "x"), uncased().tokenize("中文x"));
    }

    @Test
    void wordsOverOneHundredCodePointsAreUnknown() {
        assertEquals(List.of("a", "##a"), uncased().tokenize("aa"));
        assertEquals(50, uncased().tokenize("a".repeat(50)).size());
        assertEquals(100, uncased().tokenize("a".repeat(100)).size());
        assertEquals(List.of("[UNK]"), uncased().tokenize("a".repeat(101)));
        // é written as e + U+0301 counts once after accent stripping: 100 letters, not 200 code points.
        assertEquals(100, uncased().tokenize("A\u0301".repeat(100)).size());
    }

    @Test
    void controlZeroWidthAndInvalidCharactersVanish() {
        assertEquals(List.of("x", "y"), uncased().tokenize("\u0000x\u200B\uFEFF \uFFFD\u0007y\u00AD"));
        // a lone surrogate cannot come from valid UTF-8, but a Java caller may pass one: it is dropped
        assertEquals(List.of("x", "y"), uncased().tokenize("x\uD83D \uDC00y"));
    }

    @Test
    void unicodeSpacesSeparateWords() {
        assertEquals(List.of("x", "y", "x", "y", "x"), uncased().tokenize("x\u00A0y\u2028x\u3000y\tx"));
    }

    @Test
    void specialTokensInTheTextAreKept() {
        var e = uncased().encode("x[SEP]y [CLS] [cls]");
        assertEquals(List.of("x", "[SEP]", "y", "[CLS]", "[UNK]", "[UNK]", "[UNK]"), e.tokens());
        assertEquals(3, e.ids()[1]);
    }

    @Test
    void vocabTxtToleratesCrLfAndKeepsLineNumbersAsIds(@TempDir Path dir) throws IOException {
        Path p = dir.resolve("vocab.txt");
        Files.writeString(p, String.join("\r\n", TOKENS) + "\r\n");
        Vocabulary v = Vocabulary.load(p);
        assertEquals(TOKENS.size(), v.size());
        assertEquals(7, v.id("world"));
        assertEquals("world", v.token(7));
        assertEquals(2, v.clsId());
        assertEquals(3, v.sepId());
        assertEquals(1, v.unkId());
        assertEquals(null, v.lowercase());
    }

    @Test
    void vocabularyWithoutSpecialTokensIsRefused() {
        var e = assertThrows(ModelFileException.class, () -> Vocabulary.parse("hello\nworld\n[UNK]\n", "v.txt"));
        assertTrue(e.getMessage().contains("[CLS], [SEP]"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
        assertThrows(ModelFileException.class, () -> Vocabulary.parse("", "empty.txt"));
    }

    @Test
    void tokenizerJsonThatIsNotWordPieceIsRefused() {
        var e = assertThrows(ModelFileException.class, () -> Vocabulary.parse(
                "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0}}}", "tokenizer.json"));
        assertTrue(e.getMessage().contains("BPE"), e.getMessage());
        assertThrows(ModelFileException.class, () -> Vocabulary.parse("{\"model\": [", "broken.json"));
    }

    @Test
    void invalidUtf8IsAnErrorNamingTheOffset(@TempDir Path dir) throws IOException {
        Path p = dir.resolve("vocab.txt");
        Files.write(p, new byte[] {'[', 'U', 'N', 'K', ']', '\n', (byte) 0xC3, (byte) 0x28, '\n'});
        var e = assertThrows(ModelFileException.class, () -> Vocabulary.load(p));
        assertTrue(e.getMessage().contains("not valid UTF-8 (byte offset 6, line 2)"), e.getMessage());
    }
}
