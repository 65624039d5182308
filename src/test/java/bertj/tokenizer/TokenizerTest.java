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
import static org.junit.jupiter.api.Assertions.assertNull;
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
        assertNull(v.normalization(), "a vocab.txt names no normalizer");
    }

    private static Vocabulary txt(String... tokens) {
        return Vocabulary.parse(String.join("\n", tokens) + "\n", "vocab.txt");
    }

    private static Vocabulary json(String normalizer, String... tokens) {
        StringBuilder vocab = new StringBuilder();
        for (int i = 0; i < tokens.length; i++) vocab.append(i == 0 ? "" : ",").append('"').append(tokens[i]).append("\":").append(i);
        return Vocabulary.parse("{\"normalizer\":" + normalizer + ",\"pre_tokenizer\":{\"type\":\"BertPreTokenizer\"},"
                + "\"model\":{\"type\":\"WordPiece\",\"vocab\":{" + vocab + "}}}", "tokenizer.json");
    }

    static final String[] SPECIALS = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "[unused0]"};

    private static String[] with(String... tokens) {
        String[] all = java.util.Arrays.copyOf(SPECIALS, SPECIALS.length + tokens.length);
        System.arraycopy(tokens, 0, all, SPECIALS.length, tokens.length);
        return all;
    }

    /** The one casing rule: a flag, else a tokenizer.json's normalizer, else the vocabulary's letters. */
    @Test
    void casingOfAVocabTxtIsToldByItsLetters() {
        Vocabulary cased = txt(with("Hello", "hello", "!", "Ca", "##fé"));
        assertTrue(cased.hasCasedTokens());
        BertTokenizer t = BertTokenizer.of(cased, null);
        assertFalse(t.uncased());
        assertEquals(List.of("Hello", "hello", "!", "Ca", "##fé"), t.tokenize("Hello hello! Café"));
        assertEquals("WordPiece, cased (told by the vocabulary's letters), 11 tokens, from vocab.txt", t.describe());

        // [bracketed] tokens are special, not letters: an all-lower-case vocabulary is uncased.
        Vocabulary uncased = txt(with("hello", "!", "ca", "##fe"));
        assertFalse(uncased.hasCasedTokens());
        t = BertTokenizer.of(uncased, null);
        assertTrue(t.uncased());
        assertEquals(List.of("hello", "!", "ca", "##fe"), t.tokenize("HELLO! Café"));
        assertEquals("WordPiece, uncased (told by the vocabulary's letters), 10 tokens, from vocab.txt", t.describe());
        // one upper-case letter anywhere in a token is enough, Greek or Cyrillic as well as Latin
        assertTrue(txt(with("hello", "##Ж")).hasCasedTokens());
        assertTrue(txt(with("hello", "ǅ")).hasCasedTokens(), "a title-case letter");
        assertFalse(txt(with("hello", "ß", "ʼn", "123", "中")).hasCasedTokens(), "letters without case, digits, ideographs");
    }

    @Test
    void casingFlagsOverrideTheVocabulary() {
        BertTokenizer t = BertTokenizer.of(txt(with("Hello", "hello")), false);
        assertEquals(List.of("hello"), t.tokenize("HÉLLO"));
        assertEquals("WordPiece, uncased (as asked), 8 tokens, from vocab.txt", t.describe());
        t = BertTokenizer.of(txt(with("hello", "é")), true);
        assertEquals(List.of("[UNK]", "é"), t.tokenize("Hello é"));
        assertTrue(t.describe().startsWith("WordPiece, cased (as asked)"), t.describe());
        t = BertTokenizer.of(json("{\"type\":\"BertNormalizer\",\"lowercase\":false}", with("hello")), false);
        assertTrue(t.uncased(), "a flag wins over the tokenizer.json's normalizer too");
    }

    @Test
    void casingOfATokenizerJsonIsItsNormalizers() {
        // The normalizer wins over the letters, either way.
        BertTokenizer t = BertTokenizer.of(json("{\"type\":\"BertNormalizer\",\"lowercase\":false,\"strip_accents\":null}",
                with("hello", "é")), null);
        assertFalse(t.uncased());
        assertEquals(List.of("[UNK]", "é"), t.tokenize("Hello é"));
        assertEquals("WordPiece, cased (as the tokenizer.json's normalizer says), 8 tokens, from tokenizer.json", t.describe());
        t = BertTokenizer.of(json("{\"type\":\"BertNormalizer\",\"lowercase\":true}", with("Hello", "hello", "e")), null);
        assertEquals(List.of("hello", "e"), t.tokenize("Hello É"));
        t = BertTokenizer.of(json("{\"type\":\"BertNormalizer\",\"lowercase\":true,\"strip_accents\":false}",
                with("hello", "é", "e")), null);
        assertEquals(List.of("hello", "é"), t.tokenize("Hello É"));
        assertTrue(t.describe().startsWith("WordPiece, lower-cased, accents kept ("), t.describe());
        // No normalizer named: the letters decide, as for a vocab.txt.
        t = BertTokenizer.of(json("null", with("Hello", "hello")), null);
        assertEquals(List.of("Hello"), t.tokenize("Hello"));
        assertTrue(t.describe().contains("cased (told by the vocabulary's letters)"), t.describe());
    }

    @Test
    void normalizerWithoutCleaningOrCjkSplitting() {
        Vocabulary v = json("{\"type\":\"BertNormalizer\",\"clean_text\":false,\"handle_chinese_chars\":false,\"lowercase\":true}",
                with("x", "y", "中文", "中", "文"));
        BertTokenizer t = BertTokenizer.of(v, null);
        // U+0007 stays (a word of its own between spaces, not in the vocabulary); 中文 stays one word.
        assertEquals(List.of("x", "[UNK]", "y", "中文"), t.tokenize("X \u0007 y\u00A0中文"));
        assertEquals(List.of("x", "y", "中", "文"), BertTokenizer.of(txt(with("x", "y", "中文", "中", "文")), null)
                .tokenize("X \u0007 y\u00A0中文"));
    }

    @Test
    void sequenceAddsClsAndSepAndCutsToFit() {
        var s = uncased().sequence("Hello, WORLD!", 100);
        assertArrayEquals(new int[] {2, 5, 6, 7, 8, 3}, s.ids());
        assertFalse(s.truncated());
        assertFalse(uncased().sequence("Hello, WORLD!", 6).truncated());
        s = uncased().sequence("Hello, WORLD!", 5);
        assertArrayEquals(new int[] {2, 5, 6, 7, 3}, s.ids());
        assertTrue(s.truncated());
        s = uncased().sequence("Hello", 2);
        assertArrayEquals(new int[] {2, 3}, s.ids());
        assertTrue(s.truncated());
        s = uncased().sequence("", 2);
        assertArrayEquals(new int[] {2, 3}, s.ids());
        assertFalse(s.truncated());
        assertThrows(IllegalArgumentException.class, () -> uncased().sequence("x", 1));
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
        assertEquals("tokenizer.json: the tokenizer model is BPE; bertj needs a WordPiece (BERT) tokenizer", e.getMessage());
        assertThrows(ModelFileException.class, () -> Vocabulary.parse("{\"model\": [", "broken.json"));
        e = assertThrows(ModelFileException.class, () -> json("{\"type\":\"NFKC\"}", with("a")));
        assertEquals("tokenizer.json: the normalizer is NFKC; bertj supports BERT's (BertNormalizer)", e.getMessage());
        e = assertThrows(ModelFileException.class, () -> Vocabulary.parse("{\"pre_tokenizer\":{\"type\":\"Whitespace\"},"
                + "\"model\":{\"type\":\"WordPiece\",\"vocab\":{\"[UNK]\":0,\"[CLS]\":1,\"[SEP]\":2}}}", "tokenizer.json"));
        assertEquals("tokenizer.json: the pre-tokenizer is Whitespace; bertj supports BERT's (BertPreTokenizer)", e.getMessage());
    }

    @Test
    void invalidUtf8IsAnErrorNamingTheOffset(@TempDir Path dir) throws IOException {
        Path p = dir.resolve("vocab.txt");
        Files.write(p, new byte[] {'[', 'U', 'N', 'K', ']', '\n', (byte) 0xC3, (byte) 0x28, '\n'});
        var e = assertThrows(ModelFileException.class, () -> Vocabulary.load(p));
        assertTrue(e.getMessage().contains("not valid UTF-8 (byte offset 6, line 2)"), e.getMessage());
    }
}
