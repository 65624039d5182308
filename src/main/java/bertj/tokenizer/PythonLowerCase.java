package bertj.tokenizer;

/**
 * Python 3's {@code str.lower()}: the full lower-case mapping of each code point (the simple mapping, plus
 * İ U+0130 → i + U+0307, the one unconditional multi-character lower-case mapping of SpecialCasing.txt), except
 * that a capital sigma Σ (U+03A3) in the Final_Sigma context becomes ς (U+03C2) instead of σ (U+03C3).
 * <p>
 * Final_Sigma, as CPython tests it: Σ at index i is final when, skipping case-ignorable code points, the nearest
 * code point before it is cased, and, skipping case-ignorable code points, none follows or the nearest one after it
 * is not cased: {@code \p{Cased} \p{Case_Ignorable}* Σ !(\p{Case_Ignorable}* \p{Cased})}. Python applies
 * no language-specific rule (Turkish, Lithuanian) and neither does this.
 * <ul>
 *   <li>Cased: Lowercase or Uppercase (which include Other_Lowercase and Other_Uppercase) or category Lt;</li>
 *   <li>Case_Ignorable: category Mn, Me, Cf, Lm or Sk, or Word_Break MidLetter, MidNumLet or Single_Quote —
 *       the 17 code points of {@link #WORD_BREAK_IGNORABLE}.</li>
 * </ul>
 * The case tables are the JDK's (Unicode 16 on JDK 25), Python's are its own version's (Unicode 14 in Python
 * 3.11), so code points assigned or changed in between may differ; {@code PythonLowerCaseTest} compares every
 * code point both know the same way with this machine's Python. Java's {@code String.toLowerCase} is not used:
 * it finds Final_Sigma with word-boundary analysis, which is not Python's rule.
 */
public final class PythonLowerCase {
    private PythonLowerCase() {
    }

    private static final int CAPITAL_SIGMA = 0x3A3, SMALL_SIGMA = 0x3C3, FINAL_SIGMA = 0x3C2;

    /**
     * Word_Break MidLetter (: · · ՟ ״ ‧ ︓ ﹕ ：), MidNumLet (. ‘ ’ ․ ﹒ ＇ ．) and Single_Quote ('), as of Unicode 14
     * (U+055F joined MidLetter in Unicode 11), sorted.
     */
    static final int[] WORD_BREAK_IGNORABLE = {0x27, 0x2E, 0x3A, 0xB7, 0x387, 0x55F, 0x5F4, 0x2018, 0x2019, 0x2024, 0x2027,
            0xFE13, 0xFE52, 0xFE55, 0xFF07, 0xFF0E, 0xFF1A};

    public static String lower(String s) {
        int[] cps = s.codePoints().toArray();
        StringBuilder sb = new StringBuilder(s.length() + 4);
        for (int i = 0; i < cps.length; i++) {
            int c = cps[i];
            if (c == CAPITAL_SIGMA) sb.appendCodePoint(isFinalSigma(cps, i) ? FINAL_SIGMA : SMALL_SIGMA);
            else if (c == 0x130) sb.append("i\u0307");
            else sb.appendCodePoint(Character.toLowerCase(c));
        }
        return sb.toString();
    }

    /** Whether the Σ at cps[i] is in the Final_Sigma context (see the class comment). */
    static boolean isFinalSigma(int[] cps, int i) {
        int j = i - 1;
        while (j >= 0 && isCaseIgnorable(cps[j])) j--;
        if (j < 0 || !isCased(cps[j])) return false;
        j = i + 1;
        while (j < cps.length && isCaseIgnorable(cps[j])) j++;
        return j == cps.length || !isCased(cps[j]);
    }

    static boolean isCased(int c) {
        return Character.isLowerCase(c) || Character.isUpperCase(c) || Character.isTitleCase(c);
    }

    static boolean isCaseIgnorable(int c) {
        switch (Character.getType(c)) {
            case Character.NON_SPACING_MARK, Character.ENCLOSING_MARK, Character.FORMAT, Character.MODIFIER_LETTER,
                 Character.MODIFIER_SYMBOL:
                return true;
            default:
                return java.util.Arrays.binarySearch(WORD_BREAK_IGNORABLE, c) >= 0;
        }
    }
}
