package bertj.embed;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import bertj.model.LoadedModel;
import bertj.model.ModelLoader;
import bertj.testing.MiniLm;
import bertj.tokenizer.BertTokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The ids {@code embed} and {@code similarity} feed the built-in model: its tokenizer.json read from inside the
 * artifact jar, as the commands read it, and {@link BertTokenizer#sequence} ([CLS] … [SEP], cut to a length),
 * against Hugging Face's tokenizers (Rust, through DJL) on a copy of the same file with special tokens added.
 * The tokenizer's own rules are checked against the same oracle, far more widely, in bertj.tokenizer.HfParityTest.
 */
class SentenceTokensTest {
    @TempDir
    static Path dir;
    static HuggingFaceTokenizer hf;
    static BertTokenizer ours;

    @BeforeAll
    static void setUp() throws Exception {
        hf = MiniLm.hfTokenizer(dir);
        LoadedModel m = ModelLoader.load(Path.of("minilm"));
        ours = BertTokenizer.load(m.vocab(), null); // what EmbeddingOptions.tokenizer does without --vocab/--cased
    }

    @AfterAll
    static void tearDown() {
        if (hf != null) hf.close();
    }

    /** Texts beyond the test sentences: casing, accents, scripts, spaces, controls, special tokens, long words. */
    static final List<String> TRICKY = List.of(
            "", "   ", "Hello, World!", "HELLO world", "don't stop-believing...", "Café naïve résumé Ærøskøbing Straße",
            "ΣΊΣΥΦΟΣ σοφός", "İstanbul", "北京欢迎你 and 東京", "こんにちは世界", "안녕하세요 세계", "Привет, мир!",
            "e = mc² ≈ 9·10¹⁶ J", "tab\tnew\nline\r\nend", "no\u00a0break\u2003em\u3000ideographic", "zero\u200bwidth\ufeffbom",
            "ctrl\u0001\u0007\u007f\u0085chars", "emoji 😀🎉 ok", "[CLS] inside [SEP] text [MASK]", "x[UNK]y",
            "a".repeat(99), "b".repeat(101), "supercalifragilisticexpialidocious antidisestablishmentarianism",
            "«quotes» “curly” ‘single’ — dash – en ‐ hyphen", "1,234.56 $ 7% #hashtag @mention http://example.com/a?b=c",
            "e\u0301 combining vs é precomposed", "\ufffd replacement", "unassigned a\u0378b \u03a2", "private a\ue000b");

    static String escape(String s) {
        StringBuilder sb = new StringBuilder("\"");
        s.codePoints().forEach(c -> sb.append(c >= 0x20 && c < 0x7f ? Character.toString(c) : String.format("\\u{%x}", c)));
        return sb.append('"').toString();
    }

    @Test
    void sameIdsAsHuggingFaceWithClsAndSep() {
        List<String> texts = new ArrayList<>(MiniLm.SENTENCES);
        texts.addAll(TRICKY);
        for (String t : texts) {
            long[] expected = hf.encode(t).getIds();
            BertTokenizer.Sequence s = ours.sequence(t, 100_000);
            assertFalse(s.truncated());
            assertArrayEquals(expected, Arrays.stream(s.ids()).asLongStream().toArray(),
                    () -> "ids differ for " + escape(t) + ": ours [CLS] " + ours.tokenize(t) + " [SEP], Hugging Face "
                            + Arrays.toString(hf.encode(t).getTokens()));
        }
        System.out.println("[tokenizer] " + texts.size() + " texts: [CLS] ids [SEP] identical to Hugging Face tokenizers");
    }

    @Test
    void truncationKeepsClsAndSep() {
        String text = MiniLm.SENTENCES.get(11);
        long[] hfIds = hf.encode(text).getIds();
        int[] full = Arrays.stream(hfIds).mapToInt(Math::toIntExact).toArray();
        assertTrue(full.length > 50, "a long text: " + full.length + " ids");
        for (int max : new int[] {2, 3, 7, full.length - 1}) {
            BertTokenizer.Sequence cut = ours.sequence(text, max);
            assertTrue(cut.truncated(), "max " + max);
            assertEquals(max, cut.ids().length);
            assertEquals(101, cut.ids()[0], "[CLS]");
            assertEquals(102, cut.ids()[max - 1], "[SEP]");
            assertArrayEquals(Arrays.copyOfRange(full, 0, max - 1), Arrays.copyOfRange(cut.ids(), 0, max - 1), "max " + max);
        }
        BertTokenizer.Sequence exact = ours.sequence(text, full.length);
        assertFalse(exact.truncated());
        assertArrayEquals(full, exact.ids());
    }

    @Test
    void describesTheBuiltInTokenizer() {
        assertEquals("WordPiece, uncased (as the tokenizer.json's normalizer says), 30522 tokens, from all-minilm-l6-v2-tokenizer.json",
                ours.describe());
        assertEquals(0, ours.vocab().padId(), "[PAD]");
    }
}
