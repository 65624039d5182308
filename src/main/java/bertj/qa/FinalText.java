package bertj.qa;

import bertj.tokenizer.BasicTokenizer;

import java.util.List;

/**
 * Maps a predicted answer, which is normalized text glued back from WordPiece tokens ("jose. pena"), onto the
 * original passage text it came from ("José. Peña"): run_squad.py's get_final_text, worked on code points.
 * <p>
 * The original words are run through the basic tokenizer (lower-casing, accent stripping, punctuation split)
 * and joined by spaces; the prediction is found in that text; then both texts are compared with their spaces
 * removed. When they have the same number of characters, character i of one is character i of the other, so the
 * prediction's first and last characters map back into the original. When the prediction is not found, or the
 * lengths differ (normalization changed the number of characters, e.g. "ﬁ" or a dropped control character),
 * the whole original text of the predicted words is the answer.
 */
final class FinalText {
    private FinalText() {
    }

    /** The answer's code point range [start, end) within {@code origText}. */
    static int[] span(String predText, String origText, BasicTokenizer basic) {
        int[] orig = origText.codePoints().toArray();
        int[] whole = {0, orig.length};
        List<String> words = basic.tokenize(origText);
        String tokText = String.join(" ", words);
        int at = predText.isEmpty() ? -1 : tokText.indexOf(predText);
        if (at < 0) return whole;
        int[] tok = tokText.codePoints().toArray();
        int start = tokText.codePointCount(0, at);
        int end = start + predText.codePointCount(0, predText.length()) - 1;

        int[] origNs = nonSpacePositions(orig), tokNs = nonSpacePositions(tok);
        if (origNs.length != tokNs.length) return whole;
        // tokToNs[i]: index among the non-space characters of tok's character i (-1 for a space).
        int[] tokToNs = new int[tok.length];
        java.util.Arrays.fill(tokToNs, -1);
        for (int i = 0; i < tokNs.length; i++) tokToNs[tokNs[i]] = i;
        if (tokToNs[start] < 0 || tokToNs[end] < 0) return whole;
        return new int[] {origNs[tokToNs[start]], origNs[tokToNs[end]] + 1};
    }

    /** Positions of the characters other than U+0020 (run_squad.py strips only the space character). */
    private static int[] nonSpacePositions(int[] cps) {
        int n = 0;
        for (int c : cps) if (c != ' ') n++;
        int[] out = new int[n];
        int k = 0;
        for (int i = 0; i < cps.length; i++) if (cps[i] != ' ') out[k++] = i;
        return out;
    }
}
