package bertj.tokenizer;

/**
 * The character classes BERT's text cleaning and splitting use, defined as Hugging Face tokenizers (Rust) defines
 * them, so that our tokens equal theirs on any input:
 * <ul>
 *   <li>whitespace: the Unicode White_Space property (Rust's {@code char::is_whitespace}), which includes
 *       U+2028/U+2029 and the no-break spaces;</li>
 *   <li>"other": general category Cc, Cf or Co as of Unicode 8.0 ({@link Unicode8}); removed by text cleaning
 *       except tab, newline and carriage return. Unassigned code points are not "other" (they stay in words,
 *       where WordPiece makes them [UNK]). A lone UTF-16 surrogate, which Rust strings cannot hold, is removed too;</li>
 *   <li>punctuation: ASCII 33–47, 58–64, 91–96, 123–126 (so $, +, <, =, >, ^, `, | and ~ count) or category P* as
 *       of Unicode 8.0;</li>
 *   <li>non-spacing mark: category Mn as of Unicode 8.0 (dropped after NFD when accents are stripped);</li>
 *   <li>unknown to NFD: assigned after Unicode 9.0 with a nonzero combining class or a canonical decomposition
 *       (tokenizers' NFD, of Unicode 9.0, neither reorders nor decomposes them);</li>
 *   <li>CJK ideograph: the code blocks BERT puts spaces around (tokenizers' list, which starts the last
 *       extension range at U+2B920 where Google's BERT starts it at U+2B820).</li>
 * </ul>
 * Why Unicode 8.0 and not the JDK's tables: see scripts/unicode8-tables.pl.
 */
final class CharClasses {
    private CharClasses() {
    }

    private static final byte WS = 1, OTHER = 2, PUNCT = 4;
    private static final byte[] ASCII = new byte[128];

    static {
        for (int c = 0; c < 128; c++) {
            byte f = 0;
            if (c == ' ' || (c >= 9 && c <= 13)) f |= WS;
            if ((c < 32 || c == 127) && c != '\t' && c != '\n' && c != '\r') f |= OTHER;
            if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126)) f |= PUNCT;
            ASCII[c] = f;
        }
    }

    /** White_Space: 9–13, space, U+0085, U+00A0, U+1680, U+2000–U+200A, U+2028, U+2029, U+202F, U+205F, U+3000. */
    static boolean isWhitespace(int c) {
        if (c < 128) return (ASCII[c] & WS) != 0;
        return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029
                || c == 0x202F || c == 0x205F || c == 0x3000;
    }

    /** Removed by text cleaning: NUL, U+FFFD, lone surrogates, and Cc/Cf/Co other than tab, newline, CR. */
    static boolean isRemoved(int c) {
        if (c < 128) return (ASCII[c] & OTHER) != 0;
        if (c == 0xFFFD || (c >= 0xD800 && c <= 0xDFFF)) return true;
        return in(Unicode8.OTHER, c);
    }

    static boolean isPunctuation(int c) {
        if (c < 128) return (ASCII[c] & PUNCT) != 0;
        return in(Unicode8.PUNCTUATION, c);
    }

    static boolean isNonSpacingMark(int c) {
        return c >= 0x300 && in(Unicode8.NONSPACING_MARK, c);
    }

    /** Assigned after Unicode 9.0 with a nonzero combining class or a canonical decomposition ({@link BasicTokenizer#nfd}). */
    static boolean isNfdAfter9(int c) {
        return c >= 0x7FD && in(Unicode8.NFD_AFTER_9, c);
    }

    static boolean isChinese(int c) {
        return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF)
                || (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF)
                || (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
    }

    /** Binary search over sorted inclusive [first, last] pairs. */
    static boolean in(int[] ranges, int c) {
        int lo = 0, hi = ranges.length / 2 - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (c < ranges[2 * mid]) hi = mid - 1;
            else if (c > ranges[2 * mid + 1]) lo = mid + 1;
            else return true;
        }
        return false;
    }
}
