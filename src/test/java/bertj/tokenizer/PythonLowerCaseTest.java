package bertj.tokenizer;

import bertj.testing.PyTorch;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Locale;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link PythonLowerCase} against this machine's Python (weights/python_casing.py, which probes str.lower() itself):
 * on every code point both Unicode versions assign to the same category, the Final_Sigma properties (cased,
 * case-ignorable) and the lower-case mapping are equal; on 3,000 random strings rich in Greek capitals, marks,
 * apostrophes, digits and spaces, and on hand-picked ones, str.lower() and ours are equal. Negative control:
 * Java's String.toLowerCase, which finds Final_Sigma by word boundaries, differs from Python on some of them.
 * Then the tokenizer: {@link LowerCasing#PYTHON} gives NVIDIA's tokens, {@link LowerCasing#HF} Hugging Face's.
 */
class PythonLowerCaseTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    static JsonNode py;
    static List<String> strings;

    /** Hand-picked: word-final, alone, before punctuation, apostrophes (case-ignorable), digits (not), marks. */
    static final List<String> HAND = List.of("ΟΔΟΣ", "ΟΔΟΣ.", "ΟΔΟΣ'Α", "ΟΔΟΣ-Α", "Σ", "ΑΣ Α", "Α1Σ", "ΑΣ1", "ΑΣ\u0301",
            "ΑΣ\u0301Α", "Α\u0301Σ", "ΆΝΘΡΩΠΟΣ ΆΝΘΡΩΠΟΣ", "ΣΑΣ ΣΟΦΟΣ", "Σ.Σ.", "ΑΣ\u00ADΑ", "ΑΣ:Α", "ΑΣ\u2019", "'Σ", "ΑΣΣ",
            "İstanbul", "ǅUNGLA", "Straße", "ΑΣ\u2028Α", "ΑΣ🙂", "AΣB", "ᾼΣ");

    @BeforeAll
    static void python() throws IOException {
        long seed = PyTorch.seed("python lower-case strings");
        Random r = new Random(seed);
        int[] pool = {0x3A3, 0x3A3, 0x3A3, 0x391, 0x39F, 0x3B1, 0x386, 0x1FBC, 'A', 'a', '1', ' ', '\'', '.', ':', '-', 0x301, 0x345,
                0xAD, 0x2019, 0x2BB, 0xB7, 0x130, 0x1C5, 0x2028, 0x1F642, 0x4E2D, 0x5D0};
        strings = new ArrayList<>(HAND);
        for (int i = 0; i < 3000; i++) {
            StringBuilder sb = new StringBuilder();
            int n = 1 + r.nextInt(8);
            for (int k = 0; k < n; k++) sb.appendCodePoint(pool[r.nextInt(pool.length)]);
            strings.add(sb.toString());
        }
        Path in = dir.resolve("strings.json"), out = dir.resolve("casing.json");
        JSON.writeValue(in.toFile(), strings);
        PyTorch.run("python_casing.py", "--out", out.toString(), "--strings", in.toString());
        py = JSON.readTree(out.toFile());
    }

    @Test
    void everyCodePointAgreesWithPython() {
        JsonNode runs = py.get("categories");
        BitSet ignorable = bits(py.get("ignorable")), cased = bits(py.get("cased"));
        JsonNode lower = py.get("lower");
        int compared = 0, skipped = 0, r = 0;
        for (int c = 0; c < 0x110000; c++) {
            if (c >= 0xD800 && c <= 0xDFFF) continue;
            while (r + 1 < runs.size() && runs.get(r + 1).get(0).asInt() <= c) r++;
            String cat = runs.get(r).get(1).asText();
            if (c == 0x3A3 || cat.equals("Cn") || !cat.equals(category(c))) {
                skipped++; // unassigned in Python's Unicode, or assigned differently in the JDK's
                continue;
            }
            String where = String.format("U+%04X (%s)", c, cat);
            assertEquals(ignorable.get(c), PythonLowerCase.isCaseIgnorable(c), where + " case-ignorable");
            if (!ignorable.get(c)) assertEquals(cased.get(c), PythonLowerCase.isCased(c), where + " cased");
            JsonNode m = lower.get(Integer.toString(c));
            String expected = m == null ? Character.toString(c) : codePoints(m);
            assertEquals(expected, PythonLowerCase.lower(Character.toString(c)), where + " lower()");
            compared++;
        }
        System.out.printf("Python %s: %,d code points compared, %,d skipped (unassigned there or assigned differently)%n",
                py.get("unicode").asText(), compared, skipped);
        assertTrue(compared > 280_000, "compared only " + compared);
    }

    @Test
    void stringsAgreeWithPythonAndJavaToLowerCaseDoesNot() {
        int javaDiffers = 0, finals = 0;
        for (JsonNode pair : py.get("strings")) {
            String s = pair.get(0).asText(), expected = pair.get(1).asText();
            assertEquals(expected, PythonLowerCase.lower(s), "lower(" + s + ")");
            if (!s.toLowerCase(Locale.ROOT).equals(expected)) javaDiffers++;
            if (expected.indexOf('ς') >= 0) finals++;
        }
        System.out.printf("%,d strings equal to Python's str.lower() (%,d with a final sigma); String.toLowerCase differs on %,d%n",
                strings.size(), finals, javaDiffers);
        assertTrue(finals > 100, "too few final sigmas to test the rule: " + finals);
        assertTrue(javaDiffers > 0, "negative control: Java's own Final_Sigma rule should differ from Python's somewhere");
        assertEquals("α1σ", PythonLowerCase.lower("Α1Σ"), "a digit is neither cased nor case-ignorable");
        assertEquals("οδοσ'α", PythonLowerCase.lower("ΟΔΟΣ'Α"), "an apostrophe is case-ignorable");
    }

    @Test
    void tokenizerLowerCasesWordsAsNvidiaOrCharactersAsHuggingFace() {
        Vocabulary v = Vocabulary.parse(String.join("\n", List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "ο", "##δ", "##ο", "##σ",
                "##ος", ".", "ς", "σ")) + "\n", "greek vocab.txt");
        BertTokenizer hf = BertTokenizer.of(v, null), nvidia = BertTokenizer.of(v, null, LowerCasing.PYTHON);
        assertEquals(LowerCasing.HF, hf.lowerCasing());
        assertEquals(List.of("ο", "##δ", "##ο", "##σ", "."), hf.tokenize("ΟΔΟΣ."));
        assertEquals(List.of("ο", "##δ", "##ος", "."), nvidia.tokenize("ΟΔΟΣ."));
        // Lower-casing comes before accent stripping and sees the accent (case-ignorable) and the letter before it.
        assertEquals(List.of("ο", "##δ", "##ος"), nvidia.tokenize("ΟΔΌΣ"));
        assertEquals(List.of("σ", "σ"), nvidia.tokenize("Σ Σ"), "a lone Σ has no cased letter before it");
        assertTrue(nvidia.describe().contains("Python's str.lower()"), nvidia.describe());
        assertNotEquals(hf.describe(), nvidia.describe());
    }

    private static String category(int c) {
        return switch (Character.getType(c)) {
            case Character.UPPERCASE_LETTER -> "Lu";
            case Character.LOWERCASE_LETTER -> "Ll";
            case Character.TITLECASE_LETTER -> "Lt";
            case Character.MODIFIER_LETTER -> "Lm";
            case Character.OTHER_LETTER -> "Lo";
            case Character.NON_SPACING_MARK -> "Mn";
            case Character.ENCLOSING_MARK -> "Me";
            case Character.COMBINING_SPACING_MARK -> "Mc";
            case Character.DECIMAL_DIGIT_NUMBER -> "Nd";
            case Character.LETTER_NUMBER -> "Nl";
            case Character.OTHER_NUMBER -> "No";
            case Character.SPACE_SEPARATOR -> "Zs";
            case Character.LINE_SEPARATOR -> "Zl";
            case Character.PARAGRAPH_SEPARATOR -> "Zp";
            case Character.CONTROL -> "Cc";
            case Character.FORMAT -> "Cf";
            case Character.PRIVATE_USE -> "Co";
            case Character.SURROGATE -> "Cs";
            case Character.UNASSIGNED -> "Cn";
            case Character.DASH_PUNCTUATION -> "Pd";
            case Character.START_PUNCTUATION -> "Ps";
            case Character.END_PUNCTUATION -> "Pe";
            case Character.CONNECTOR_PUNCTUATION -> "Pc";
            case Character.OTHER_PUNCTUATION -> "Po";
            case Character.INITIAL_QUOTE_PUNCTUATION -> "Pi";
            case Character.FINAL_QUOTE_PUNCTUATION -> "Pf";
            case Character.MATH_SYMBOL -> "Sm";
            case Character.CURRENCY_SYMBOL -> "Sc";
            case Character.MODIFIER_SYMBOL -> "Sk";
            case Character.OTHER_SYMBOL -> "So";
            default -> "?";
        };
    }

    private static BitSet bits(JsonNode list) {
        BitSet b = new BitSet(0x110000);
        for (JsonNode n : list) b.set(n.asInt());
        return b;
    }

    private static String codePoints(JsonNode list) {
        StringBuilder sb = new StringBuilder();
        for (JsonNode n : list) sb.appendCodePoint(n.asInt());
        return sb.toString();
    }
}
