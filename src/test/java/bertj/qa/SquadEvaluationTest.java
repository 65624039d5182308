package bertj.qa;

import bertj.testing.PyTorch;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** EM/F1 on cases worked by hand, then against weights/squad_eval_reference.py on random Unicode-rich pairs. */
class SquadEvaluationTest {
    @Test
    void normalizationLowerCasesDropsPunctuationArticlesAndSpaces() {
        assertEquals("denver broncos", SquadEvaluation.normalize("The Denver Broncos!"));
        // punctuation goes first, so "day;the" becomes the word "daythe", which is no article
        assertEquals("apple daythe end", SquadEvaluation.normalize("  An apple, a day;the end "));
        // \b is Unicode: é and ² are word characters, so "théa" and "a²" hold no whole-word article; "_" is
        // punctuation and goes before articles are looked for, leaving "theend"
        assertEquals("théa theend a²", SquadEvaluation.normalize("théa the_end a²"));
        assertEquals("x y", SquadEvaluation.normalize("x\u00A0\u2003 y\n"));
        assertEquals("«quoted» — dash", SquadEvaluation.normalize("«Quoted» — dash."));
    }

    @Test
    void exactMatch() {
        assertTrue(SquadEvaluation.exactMatch("Denver Broncos", "the denver broncos."));
        assertTrue(SquadEvaluation.exactMatch("the", "a"));          // both normalize to ""
        assertTrue(SquadEvaluation.exactMatch("ΣΑΣ", "σας"));        // Python's lower() writes the final sigma
        // before a hyphen too, where Java's toLowerCase writes σ (found by the random pairs below, seed 265931474)
        assertTrue(SquadEvaluation.exactMatch("aσας-the", "AΣΑΣ-THE"));
        assertFalse(SquadEvaluation.exactMatch("Café", "Cafe"));     // accents are not stripped
    }

    @Test
    void f1() {
        // prediction [denver, broncos, won], truth [denver, broncos]: P = 2/3, R = 1, F1 = 2·(2/3)/(5/3) = 0.8
        assertEquals(0.8, SquadEvaluation.f1("Denver Broncos won", "the Denver Broncos"), 1e-15);
        // multisets: [x, y, y, z] ∩ [y, y, y, x] = {x, y, y}: P = R = 3/4
        assertEquals(0.75, SquadEvaluation.f1("x y y z", "y y y x"), 1e-15);
        assertEquals(0.0, SquadEvaluation.f1("cats", "dogs"), 0.0);
        assertEquals(0.0, SquadEvaluation.f1("", "dogs"), 0.0);
        assertEquals(0.0, SquadEvaluation.f1("the", "a"), 0.0);      // EM 1 but F1 0: no tokens at all
        assertEquals(1.0, SquadEvaluation.f1("Broncos.", "broncos"), 0.0);
    }

    @Test
    void totalsAreMaximaOverTruthsAveragedOverAllQuestions() {
        var qs = List.of(
                new SquadEvaluation.Question("q1", List.of("Denver Broncos", "Broncos")),
                new SquadEvaluation.Question("q2", List.of("the Denver Broncos", "Carolina")),
                new SquadEvaluation.Question("q3", List.of("anything")));
        // q1: EM 1, F1 1; q2: EM 0, F1 max(0.8, 0) = 0.8; q3 unanswered: 0, 0.
        var r = SquadEvaluation.evaluate(qs, Map.of("q1", "Broncos", "q2", "Denver Broncos won"));
        assertEquals(100.0 / 3, r.exactMatch(), 1e-12);
        assertEquals(100.0 * 1.8 / 3, r.f1(), 1e-12);
        assertEquals(3, r.total());
        assertEquals(1, r.unanswered());
    }

    @Test
    void agreesWithThePythonDefinitionOnRandomPairs(@TempDir Path dir) throws IOException {
        long seed = PyTorch.seed("EM/F1 random pairs");
        Random r = new Random(seed);
        String[] words = {"the", "The", "a", "A", "an", "An", "THE", "cat", "Cat", "café", "Café", "cafe\u0301", "ΣΑΣ", "σας",
                "İstanbul", "istanbul", "naïve", "x²", "a²", "the_end", "über", "Straße", "日本", "1,000", "1000", "'s", "don't",
                "«", "»", "—", "-", "(", ")", ".", ",", "!", "$5", "5", "théa", "ανα", "an-", "-the", "a.", "the's"};
        String[] spaces = {" ", "  ", "\t", "\n", "\u00A0", "\u3000", "", "\u2009"};
        List<String[]> items = new ArrayList<>();
        ArrayNode in = new ObjectMapper().createArrayNode();
        for (int i = 0; i < 3000; i++) {
            String pred = phrase(r, words, spaces);
            int nt = 1 + r.nextInt(3);
            ArrayNode item = in.addArray();
            item.add(pred);
            ArrayNode truths = item.addArray();
            String[] all = new String[nt + 1];
            all[0] = pred;
            for (int k = 0; k < nt; k++) {
                all[k + 1] = r.nextInt(4) == 0 ? pred.toUpperCase() : phrase(r, words, spaces);
                truths.add(all[k + 1]);
            }
            items.add(all);
        }
        Path inFile = dir.resolve("pairs.json"), outFile = dir.resolve("scores.json");
        new ObjectMapper().writeValue(inFile.toFile(), in);
        PyTorch.run("squad_eval_reference.py", "--input", inFile.toString(), "--out", outFile.toString());
        JsonNode py = new ObjectMapper().readTree(outFile.toFile());
        int em = 0;
        for (int i = 0; i < items.size(); i++) {
            String[] it = items.get(i);
            double bestEm = 0, bestF1 = 0;
            for (int k = 1; k < it.length; k++) {
                bestEm = Math.max(bestEm, SquadEvaluation.exactMatch(it[0], it[k]) ? 1 : 0);
                bestF1 = Math.max(bestF1, SquadEvaluation.f1(it[0], it[k]));
            }
            assertEquals(py.get(i).get(0).asDouble(), bestEm, 0.0, "EM of " + List.of(it));
            assertEquals(py.get(i).get(1).asDouble(), bestF1, 1e-15, "F1 of " + List.of(it));
            em += (int) bestEm;
        }
        System.out.println("EM/F1 identical to the Python definition on " + items.size() + " random items (" + em + " exact matches)");
        assertTrue(em > 100, "too few exact matches to exercise EM");
    }

    private static String phrase(Random r, String[] words, String[] spaces) {
        StringBuilder sb = new StringBuilder();
        int n = r.nextInt(6);
        for (int i = 0; i < n; i++) sb.append(spaces[r.nextInt(spaces.length)]).append(words[r.nextInt(words.length)]);
        return sb.toString();
    }
}
