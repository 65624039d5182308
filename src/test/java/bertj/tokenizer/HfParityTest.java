package bertj.tokenizer;

import bertj.testing.PyTorch;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Our tokenizer against Hugging Face tokenizers (the Rust library, through DJL) on the real BERT-uncased
 * vocabulary: ids must be identical on every text, uncased, cased, and lower-cased without accent stripping.
 * <p>
 * The cased check needs a cased vocabulary; none ships in the test dependencies, so we derive one from the uncased
 * vocabulary (every entry plus its upper-case and capitalised forms, new ids after the last) and write it as a
 * tokenizer.json whose BertNormalizer has lowercase=false — the configuration of Hugging Face's bert-base-cased.
 */
class HfParityTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    static Path uncasedJson, casedJson, keepAccentsJson;

    @BeforeAll
    static void vocabularies() throws IOException {
        uncasedJson = HfTokenizers.writeMinilm(dir);
        keepAccentsJson = dir.resolve("keep-accents.json");
        Files.writeString(keepAccentsJson, HfTokenizers.json(HfTokenizers.Variant.KEEP_ACCENTS));
        casedJson = dir.resolve("cased.json");
        Files.writeString(casedJson, HfTokenizers.json(HfTokenizers.Variant.CASED));
        System.out.println("cased vocabulary derived from the uncased one: " + JSON.readTree(casedJson.toFile()).get("model").get("vocab").size() + " entries");
    }

    @Test
    void everyCodePointInContextUncased() throws IOException {
        everyCodePoint(uncasedJson, null);
    }

    @Test
    void everyCodePointInContextCased() throws IOException {
        everyCodePoint(casedJson, null);
    }

    /**
     * Every code point (surrogates excepted) inside a word, alone, doubled, beside a capital and an accented
     * capital: 1,112,064 texts, each checking how the character is cleaned, classified, normalized and split.
     */
    private static void everyCodePoint(Path tokenizerJson, Boolean cased) throws IOException {
        List<String> texts = new ArrayList<>(1_112_064);
        for (int c = 0; c <= 0x10FFFF; c++) {
            if (c >= 0xD800 && c <= 0xDFFF) continue;
            String s = Character.toString(c);
            texts.add("a" + s + "b " + s + " A" + s + s + "É");
        }
        compare(tokenizerJson, cased, texts, "every code point");
    }

    @Test
    void corpusUncased() throws IOException {
        compare(uncasedJson, null, corpus("uncased"), "corpus, uncased");
    }

    @Test
    void corpusCased() throws IOException {
        compare(casedJson, null, corpus("cased"), "corpus, cased");
    }

    @Test
    void corpusLowercaseKeepingAccents() throws IOException {
        compare(keepAccentsJson, null, corpus("lower-case, accents kept"), "corpus, lower-case keeping accents");
    }

    /** --cased on the uncased tokenizer.json equals a tokenizer.json that says lowercase=false. */
    @Test
    void casedFlagOverridesTheFile() throws IOException {
        ObjectNode root = (ObjectNode) JSON.readTree(HfTokenizers.minilmTokenizerJson());
        ((ObjectNode) root.get("normalizer")).put("lowercase", false).putNull("strip_accents");
        Path json = dir.resolve("uncased-vocab-cased-normalizer.json");
        JSON.writeValue(json.toFile(), root);
        compare(json, null, TokenizerCorpus.handWritten(), "hand-written, file says cased");
        compare(json, true, TokenizerCorpus.handWritten(), "hand-written, --cased");
        try (HfTokenizers hf = new HfTokenizers(json)) {
            BertTokenizer mine = BertTokenizer.of(Vocabulary.load(uncasedJson), true);
            String text = "Hello Wörld";
            assertEquals(Arrays.toString(hf.ids(List.of(text)).get(0)), Arrays.toString(mine.encode(text).ids()));
        }
    }

    /**
     * vocab.txt (the same tokens, one per line in id order) gives the same ids as tokenizer.json: BERT's uncased
     * vocabulary is told uncased by its letters, with no flag (what qa needs for NVIDIA's vocab.txt).
     */
    @Test
    void vocabTxtEqualsTokenizerJson() throws IOException {
        Path txt = vocabTxt(uncasedJson, "vocab.txt");
        BertTokenizer fromTxt = BertTokenizer.load(txt, null), fromJson = BertTokenizer.load(uncasedJson, null);
        assertEquals(30522, fromTxt.vocab().size());
        assertFalse(fromTxt.vocab().hasCasedTokens());
        assertEquals("WordPiece, uncased (told by the vocabulary's letters), 30522 tokens, from vocab.txt", fromTxt.describe());
        List<String> texts = corpus("vocab.txt");
        for (String t : texts) {
            assertEquals(Arrays.toString(fromJson.encode(t).ids()), Arrays.toString(fromTxt.encode(t).ids()), t);
        }
    }

    /** The cased vocabulary as a vocab.txt is told cased by its letters, and tokenizes as Hugging Face's cased one. */
    @Test
    void casedVocabTxtIsToldCasedByItsLetters() throws IOException {
        Path txt = vocabTxt(casedJson, "cased-vocab.txt");
        BertTokenizer fromTxt = BertTokenizer.load(txt, null);
        assertTrue(fromTxt.vocab().hasCasedTokens());
        assertFalse(fromTxt.uncased(), fromTxt.describe());
        List<String> texts = corpus("cased vocab.txt");
        List<int[]> expected;
        try (HfTokenizers hf = new HfTokenizers(casedJson)) {
            expected = hf.ids(texts);
        }
        for (int i = 0; i < texts.size(); i++) {
            assertEquals(Arrays.toString(expected.get(i)), Arrays.toString(fromTxt.encode(texts.get(i)).ids()), texts.get(i));
        }
    }

    /** A tokenizer.json's vocabulary written as a vocab.txt: one token per line, in id order. */
    private static Path vocabTxt(Path tokenizerJson, String name) throws IOException {
        JsonNode vocab = JSON.readTree(tokenizerJson.toFile()).get("model").get("vocab");
        String[] byId = new String[vocab.size()];
        vocab.properties().forEach(e -> byId[e.getValue().asInt()] = e.getKey());
        Path txt = dir.resolve(name);
        Files.writeString(txt, String.join("\n", byId) + "\n");
        return txt;
    }

    /** A BertNormalizer with clean_text=false and handle_chinese_chars=false is honoured, as Hugging Face honours it. */
    @Test
    void corpusWithoutCleaningOrCjkSplitting() throws IOException {
        Path json = dir.resolve("no-cleaning.json");
        Files.writeString(json, HfTokenizers.json(HfTokenizers.Variant.NO_CLEANING));
        compare(json, null, corpus("no cleaning, no CJK splitting"), "corpus, no cleaning, no CJK splitting");
    }

    static List<String> corpus(String what) {
        List<String> texts = new ArrayList<>(TokenizerCorpus.handWritten());
        int hand = texts.size();
        texts.addAll(TokenizerCorpus.random(PyTorch.seed("random tokenizer corpus, " + what), 4000));
        texts.addAll(TokenizerCorpus.marks(PyTorch.seed("random marks, " + what), 2000));
        System.out.println("corpus: " + hand + " hand-written texts + 4000 random + 2000 of combining marks");
        return texts;
    }

    private static void compare(Path tokenizerJson, Boolean cased, List<String> texts, String what) throws IOException {
        BertTokenizer mine = BertTokenizer.of(Vocabulary.load(tokenizerJson), cased);
        List<int[]> expected;
        try (HfTokenizers hf = new HfTokenizers(tokenizerJson)) {
            expected = hf.ids(texts);
        }
        int same = 0;
        long tokens = 0, chars = 0;
        List<String> diffs = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            int[] got = mine.encode(texts.get(i)).ids();
            tokens += expected.get(i).length;
            chars += texts.get(i).length();
            if (Arrays.equals(got, expected.get(i))) same++;
            else if (diffs.size() < 10) diffs.add(firstDifference(texts.get(i), got, expected.get(i), mine));
        }
        System.out.printf("%s: %d/%d texts id-identical (%.4f%%), %,d chars, %,d tokens%n", what, same, texts.size(),
                100.0 * same / texts.size(), chars, tokens);
        assertTrue(tokens > texts.size() / 2, "the oracle produced almost no tokens; is the vocabulary loaded?");
        assertEquals(texts.size(), same, what + ": texts whose ids differ from Hugging Face tokenizers, e.g.\n"
                + String.join("\n", diffs));
    }

    /** Where two id lists part, with a few tokens of context, and the text (shortened). */
    private static String firstDifference(String text, int[] got, int[] want, BertTokenizer t) {
        int i = 0;
        while (i < got.length && i < want.length && got[i] == want[i]) i++;
        int from = Math.max(0, i - 3);
        StringBuilder sb = new StringBuilder(describe(text)).append("\n  from token ").append(i).append(": ours");
        for (int k = from; k < Math.min(got.length, i + 4); k++) sb.append(' ').append(t.vocab().token(got[k]));
        sb.append(" | HF");
        for (int k = from; k < Math.min(want.length, i + 4); k++) sb.append(' ').append(t.vocab().token(want[k]));
        return sb.toString();
    }

    private static String describe(String s) {
        StringBuilder sb = new StringBuilder();
        s.codePoints().limit(80).forEach(c -> sb.append(c < 128 && c >= 32 ? Character.toString(c) : String.format("\\u{%X}", c)));
        return sb.toString();
    }
}
