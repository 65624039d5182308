package bertj.embed;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import bertj.readers.ModelFileException;
import bertj.testing.MiniLm;
import bertj.testing.PyTorch;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** WordPieceTokenizer against Hugging Face's tokenizers (Rust, through DJL) on the artifact's tokenizer.json. */
class WordPieceTokenizerTest {
    @TempDir
    static Path dir;
    static HuggingFaceTokenizer hf;
    static WordPieceTokenizer ours;

    @BeforeAll
    static void setUp() throws Exception {
        hf = MiniLm.hfTokenizer(dir);
        ours = WordPieceTokenizer.load(dir.resolve("tokenizer.json"));
    }

    @AfterAll
    static void tearDown() {
        if (hf != null) hf.close();
    }

    static final List<String> TRICKY = List.of(
            "", "   ", "Hello, World!", "HELLO world", "don't stop-believing...", "Café naïve résumé Ærøskøbing Straße",
            "ΣΊΣΥΦΟΣ σοφός", "İstanbul", "北京欢迎你 and 東京", "こんにちは世界", "안녕하세요 세계", "Привет, мир!",
            "e = mc² ≈ 9·10¹⁶ J", "tab\tnew\nline\r\nend", "no\u00a0break\u2003em\u3000ideographic", "zero\u200bwidth\ufeffbom",
            "ctrl\u0001\u0007\u007f\u0085chars", "emoji 😀🎉 ok", "[CLS] inside [SEP] text [MASK]", "x[UNK]y",
            "a".repeat(99), "b".repeat(101), "supercalifragilisticexpialidocious antidisestablishmentarianism",
            "«quotes» “curly” ‘single’ — dash – en ‐ hyphen", "1,234.56 $ 7% #hashtag @mention http://example.com/a?b=c",
            "e\u0301 combining vs é precomposed", "\ufffd replacement", "unassigned a\u0378b \u03a2", "private a\ue000b");

    /** Random text drawn from scripts, marks, spaces, controls and punctuation assigned long ago in Unicode. */
    static String randomText(Random r) {
        int[][] ranges = {{0x20, 0x7e}, {0x20, 0x7e}, {0x20, 0x7e}, {0xa0, 0x17f}, {0x300, 0x36f}, {0x391, 0x3c9}, {0x410, 0x44f},
                {0x4e00, 0x4fff}, {0x3041, 0x3096}, {0xac00, 0xad00}, {0x2010, 0x2027}, {0x1f300, 0x1f5ff}, {0x0, 0x1f},
                {0x7f, 0x9f}, {0x2000, 0x200f}, {0xe000, 0xe0ff}, {0x20000, 0x200ff}, {0x370, 0x3ff}};
        StringBuilder sb = new StringBuilder();
        int n = 1 + r.nextInt(60);
        for (int i = 0; i < n; i++) {
            int[] g = ranges[r.nextInt(ranges.length)];
            int c = g[0] + r.nextInt(g[1] - g[0] + 1);
            sb.appendCodePoint(r.nextInt(4) == 0 ? ' ' : c);
        }
        return sb.toString();
    }

    private static void assertSame(WordPieceTokenizer tok, String text) {
        long[] expected = hf.encode(text).getIds();
        int[] actual = tok.encode(text, 100_000).ids();
        assertArrayEquals(expected, Arrays.stream(actual).asLongStream().toArray(),
                () -> "ids differ for " + escape(text) + ": ours " + tok.tokenize(text) + ", Hugging Face "
                        + Arrays.toString(hf.encode(text).getTokens()));
    }

    static String escape(String s) {
        StringBuilder sb = new StringBuilder("\"");
        s.codePoints().forEach(c -> sb.append(c >= 0x20 && c < 0x7f ? Character.toString(c) : String.format("\\u{%x}", c)));
        return sb.append('"').toString();
    }

    @Test
    void sameIdsAsHuggingFaceOnSentencesAndEdgeCases() {
        int n = 0;
        for (String t : MiniLm.SENTENCES) {
            assertSame(ours, t);
            n++;
        }
        for (String t : TRICKY) {
            assertSame(ours, t);
            n++;
        }
        System.out.println("[tokenizer] " + n + " texts tokenized identically to Hugging Face tokenizers");
    }

    @Test
    void sameIdsAsHuggingFaceOnRandomText() {
        Random r = new Random(PyTorch.seed("tokenizer random text"));
        for (int i = 0; i < 2000; i++) assertSame(ours, randomText(r));
    }

    @Test
    void vocabTxtGivesTheSameIds() throws Exception {
        JsonNode vocab = new ObjectMapper().readTree(dir.resolve("tokenizer.json").toFile()).path("model").path("vocab");
        TreeMap<Integer, String> byId = new TreeMap<>();
        vocab.properties().forEach(e -> byId.put(e.getValue().asInt(), e.getKey()));
        assertEquals(byId.lastKey() + 1, byId.size(), "ids are dense");
        Path txt = dir.resolve("vocab.txt");
        Files.writeString(txt, String.join("\n", byId.values()) + "\n", StandardCharsets.UTF_8);
        WordPieceTokenizer fromTxt = WordPieceTokenizer.load(txt);
        assertTrue(fromTxt.describe().contains("uncased"), fromTxt.describe());
        List<String> texts = new ArrayList<>(MiniLm.SENTENCES);
        texts.addAll(TRICKY);
        for (String t : texts) assertSame(fromTxt, t);
    }

    @Test
    void truncationKeepsClsAndSep() {
        String text = MiniLm.SENTENCES.get(11);
        int[] full = ours.encode(text, 512).ids();
        TextTokenizer.Encoded cut = ours.encode(text, 7);
        assertTrue(cut.truncated());
        assertEquals(7, cut.ids().length);
        assertEquals(101, cut.ids()[0]);
        assertEquals(102, cut.ids()[6]);
        assertArrayEquals(Arrays.copyOfRange(full, 1, 6), Arrays.copyOfRange(cut.ids(), 1, 6));
        assertFalse(ours.encode(text, full.length).truncated());
        assertTrue(ours.encode(text, full.length - 1).truncated());
    }

    @Test
    void casedVocabularyKeepsCase() throws Exception {
        Path txt = dir.resolve("cased-vocab.txt");
        Files.writeString(txt, String.join("\n", "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "Hello", "hello", "!", "Ca", "##fé"));
        WordPieceTokenizer cased = WordPieceTokenizer.load(txt);
        assertTrue(cased.describe().contains("cased") && !cased.describe().contains("uncased"), cased.describe());
        assertEquals(List.of("Hello", "hello", "!", "Ca", "##fé"), cased.tokenize("Hello hello! Café"));
    }

    @Test
    void refusesTokenizersThatAreNotWordPiece() throws Exception {
        Path bpe = dir.resolve("bpe.json");
        Files.writeString(bpe, "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}}}");
        var e = assertThrows(ModelFileException.class, () -> WordPieceTokenizer.load(bpe));
        assertTrue(e.getMessage().contains("not WordPiece"), e.getMessage());
        Path tiny = dir.resolve("tiny.txt");
        Files.writeString(tiny, "a\nb\n");
        e = assertThrows(ModelFileException.class, () -> WordPieceTokenizer.load(tiny));
        assertTrue(e.getMessage().contains("not a BERT vocabulary"), e.getMessage());
    }
}
