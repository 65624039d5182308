package bertj.qa;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Exact match and F1 exactly as the official SQuAD v1.1 evaluation script computes them.
 * <p>
 * normalize(s): lower-case (full Unicode mapping); remove every ASCII punctuation character (Python's
 * string.punctuation); replace each whole word "a", "an" or "the" by a space (a word: a maximal run of Unicode
 * letters, digits and underscore, Python's \w); collapse whitespace to single spaces and trim.
 * EM = normalize(prediction) == normalize(truth). F1: over the normalized whitespace tokens, common = size of the
 * multiset intersection, precision = common / |prediction|, recall = common / |truth|, F1 = 2PR / (P + R), 0 when
 * nothing is common. A question scores the maximum over its ground truths; totals are percentages over all
 * questions, an unanswered one counting 0.
 */
public final class SquadEvaluation {
    private SquadEvaluation() {
    }

    /** Totals in percent, and the counts they are over. */
    public record Result(double exactMatch, double f1, int total, int unanswered) {
    }

    private static final String PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

    public static String normalize(String s) {
        // Python's str.lower(), not Java's: they place the final sigma differently ("ΑΣ-" is "ας-" in Python, "ασ-" in Java)
        String lower = bertj.tokenizer.PythonLowerCase.lower(s);
        StringBuilder sb = new StringBuilder(lower.length());
        for (int i = 0; i < lower.length(); i++) {
            char c = lower.charAt(i);
            if (PUNCTUATION.indexOf(c) < 0) sb.append(c);
        }
        String noArticles = removeArticles(sb.toString());
        return String.join(" ", SpanDecoder.pythonSplit(noArticles));
    }

    /** re.sub(r'\b(a|an|the)\b', ' ', text) with Python 3's Unicode \b. */
    static String removeArticles(String t) {
        StringBuilder sb = new StringBuilder(t.length());
        int i = 0;
        while (i < t.length()) {
            boolean boundaryBefore = i == 0 || !isWordChar(t.codePointBefore(i));
            int len = 0;
            if (boundaryBefore) {
                for (String article : new String[] {"the", "an", "a"}) {
                    if (t.startsWith(article, i)) {
                        int after = i + article.length();
                        if (after == t.length() || !isWordChar(t.codePointAt(after))) {
                            len = article.length();
                            break;
                        }
                    }
                }
            }
            if (len > 0) {
                sb.append(' ');
                i += len;
            } else {
                int c = t.codePointAt(i);
                sb.appendCodePoint(c);
                i += Character.charCount(c);
            }
        }
        return sb.toString();
    }

    /** Python 3's \w for str patterns: alphanumeric (str.isalnum: letters L*, numbers N*) or underscore. */
    static boolean isWordChar(int c) {
        if (c == '_') return true;
        int t = Character.getType(c);
        return Character.isLetter(c) || t == Character.DECIMAL_DIGIT_NUMBER || t == Character.LETTER_NUMBER
                || t == Character.OTHER_NUMBER;
    }

    public static boolean exactMatch(String prediction, String truth) {
        return normalize(prediction).equals(normalize(truth));
    }

    public static double f1(String prediction, String truth) {
        List<String> p = SpanDecoder.pythonSplit(normalize(prediction)), g = SpanDecoder.pythonSplit(normalize(truth));
        Map<String, Integer> counts = new HashMap<>();
        for (String w : g) counts.merge(w, 1, Integer::sum);
        int common = 0;
        for (String w : p) {
            Integer n = counts.get(w);
            if (n != null && n > 0) {
                common++;
                counts.put(w, n - 1);
            }
        }
        if (common == 0) return 0;
        double precision = (double) common / p.size(), recall = (double) common / g.size();
        return 2 * precision * recall / (precision + recall);
    }

    /** One question's ground truths (answer texts). */
    public record Question(String id, List<String> truths) {
    }

    /** EM and F1 of predictions (question id → text) over questions; a question without a prediction scores 0. */
    public static Result evaluate(List<Question> questions, Map<String, String> predictions) {
        double em = 0, f1 = 0;
        int unanswered = 0;
        for (Question q : questions) {
            String pred = predictions.get(q.id());
            if (pred == null) {
                unanswered++;
                continue;
            }
            double bestEm = 0, bestF1 = 0;
            for (String t : q.truths()) {
                bestEm = Math.max(bestEm, exactMatch(pred, t) ? 1 : 0);
                bestF1 = Math.max(bestF1, f1(pred, t));
            }
            em += bestEm;
            f1 += bestF1;
        }
        int total = questions.size();
        return new Result(total == 0 ? 0 : 100.0 * em / total, total == 0 ? 0 : 100.0 * f1 / total, total, unanswered);
    }

    static List<String> texts(List<SquadData.Answer> answers) {
        List<String> out = new ArrayList<>(answers.size());
        for (SquadData.Answer a : answers) out.add(a.text());
        return out;
    }
}
