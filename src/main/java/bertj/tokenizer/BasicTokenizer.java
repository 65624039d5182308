package bertj.tokenizer;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;

/**
 * BERT's basic tokenizer: text → words, before WordPiece. In order (Hugging Face tokenizers' BertNormalizer and
 * BertPreTokenizer):
 * <ol>
 *   <li>clean (unless a tokenizer.json says clean_text=false): drop NUL, U+FFFD and control/format/private-use
 *       characters; every whitespace character becomes a space;</li>
 *   <li>put spaces around each CJK ideograph, so each is a word of its own (unless handle_chinese_chars=false);</li>
 *   <li>strip accents (uncased, or when asked): NFD ({@link #nfd}), then drop the non-spacing marks;</li>
 *   <li>lower-case (uncased), one code point at a time (so a final capital sigma becomes σ, not ς);</li>
 *   <li>split on whitespace, and split off every punctuation character as a word of its own.</li>
 * </ol>
 * With {@link LowerCasing#PYTHON} steps 3 and 4 run as Google's and NVIDIA's tokenization.py runs them: each word
 * is lower-cased with Python's {@code str.lower()} ({@link PythonLowerCase}: a word-final Σ becomes ς), then
 * accents are stripped. (Lower-casing and accent stripping commute code point by code point — checked on every
 * code point with Python — so only Final_Sigma tells the two apart.)
 * Character classes: {@link CharClasses}. Immutable and thread-safe.
 */
public final class BasicTokenizer {
    private final boolean lowercase;
    private final boolean stripAccents;
    private final boolean cleanText;
    private final boolean chineseChars;
    private final LowerCasing lowerCasing;

    /** Cleaning and CJK splitting on, as in every BERT; Hugging Face's lower-casing. */
    public BasicTokenizer(boolean lowercase, boolean stripAccents) {
        this(lowercase, stripAccents, true, true);
    }

    public BasicTokenizer(boolean lowercase, boolean stripAccents, boolean cleanText, boolean chineseChars) {
        this(lowercase, stripAccents, cleanText, chineseChars, LowerCasing.HF);
    }

    public BasicTokenizer(boolean lowercase, boolean stripAccents, boolean cleanText, boolean chineseChars, LowerCasing lowerCasing) {
        this.lowercase = lowercase;
        this.stripAccents = stripAccents;
        this.cleanText = cleanText;
        this.chineseChars = chineseChars;
        this.lowerCasing = java.util.Objects.requireNonNull(lowerCasing, "lowerCasing");
    }

    /** The uncased BERT setting: lower-case and strip accents. */
    public static BasicTokenizer uncased() {
        return new BasicTokenizer(true, true);
    }

    public boolean lowercase() {
        return lowercase;
    }

    public boolean stripAccents() {
        return stripAccents;
    }

    /** How it lower-cases (when it does). */
    public LowerCasing lowerCasing() {
        return lowerCasing;
    }

    public boolean cleanText() {
        return cleanText;
    }

    public boolean chineseChars() {
        return chineseChars;
    }

    /** The words of a text, in order. */
    public List<String> tokenize(String text) {
        List<String> words = new ArrayList<>();
        split(normalize(text), words);
        return words;
    }

    /** Steps 1–4: the text as the pre-tokenizer sees it. */
    public String normalize(String text) {
        StringBuilder sb = new StringBuilder(text.length() + 8);
        boolean ascii = clean(text, sb);
        String s = sb.toString();
        if (ascii) {
            return lowercase ? asciiLower(s) : s;
        }
        if (lowercase && lowerCasing == LowerCasing.PYTHON) {
            // Python lower-cases each whitespace-separated word; whitespace is neither cased nor case-ignorable,
            // so it bounds the Final_Sigma context and the whole text can be lower-cased at once.
            s = PythonLowerCase.lower(s);
            return stripAccents ? stripAccents(s, sb) : s;
        }
        if (stripAccents) s = stripAccents(s, sb);
        if (lowercase) {
            sb.setLength(0);
            for (int i = 0; i < s.length(); ) {
                int c = s.codePointAt(i);
                i += Character.charCount(c);
                // Full lower-case mapping per code point: simple mappings, plus İ → i + combining dot above,
                // the one unconditional multi-character lower-case mapping (SpecialCasing.txt).
                if (c == 0x130) sb.append("i\u0307");
                else sb.appendCodePoint(Character.toLowerCase(c));
            }
            s = sb.toString();
        }
        return s;
    }

    /**
     * Steps 1 and 2, appended to {@code sb}: cleaning and the spaces around CJK ideographs. Neither removes, adds
     * or changes a letter. Returns whether the result is all ASCII.
     */
    boolean clean(String text, StringBuilder sb) {
        boolean ascii = true;
        for (int i = 0; i < text.length(); ) {
            int c = text.codePointAt(i);
            i += Character.charCount(c);
            if (cleanText && CharClasses.isRemoved(c)) continue;
            if (cleanText && CharClasses.isWhitespace(c)) {
                sb.append(' ');
            } else if (chineseChars && c >= 0x3400 && CharClasses.isChinese(c)) {
                sb.append(' ').appendCodePoint(c).append(' ');
                ascii = false;
            } else {
                sb.appendCodePoint(c);
                if (c >= 128) ascii = false;
            }
        }
        return ascii;
    }

    /** NFD, then drop the non-spacing marks. */
    private String stripAccents(String s, StringBuilder sb) {
        String nfd = nfd(s);
        sb.setLength(0);
        for (int i = 0; i < nfd.length(); ) {
            int c = nfd.codePointAt(i);
            i += Character.charCount(c);
            if (!CharClasses.isNonSpacingMark(c)) sb.appendCodePoint(c);
        }
        return sb.toString();
    }

    /**
     * The NFD that accent stripping starts with. Hugging Face's: Unicode 9.0's, as the crate tokenizers normalizes
     * with has it, in which a character assigned later ({@link CharClasses#isNfdAfter9}: a newer combining mark, a
     * newer precomposed letter) is a starter that decomposes to itself — so the text is normalized by the JDK
     * between such characters, never across one. With {@link LowerCasing#PYTHON}, the JDK's NFD of the whole text.
     */
    String nfd(String s) {
        if (lowerCasing == LowerCasing.PYTHON) return Normalizer.normalize(s, Normalizer.Form.NFD);
        StringBuilder sb = null;
        int done = 0;
        for (int i = 0; i < s.length(); ) {
            int c = s.codePointAt(i);
            int n = Character.charCount(c);
            if (CharClasses.isNfdAfter9(c)) {
                if (sb == null) sb = new StringBuilder(s.length() + 8);
                sb.append(Normalizer.normalize(s.substring(done, i), Normalizer.Form.NFD)).appendCodePoint(c);
                done = i + n;
            }
            i += n;
        }
        if (sb == null) return Normalizer.normalize(s, Normalizer.Form.NFD);
        return sb.append(Normalizer.normalize(s.substring(done), Normalizer.Form.NFD)).toString();
    }

    private static String asciiLower(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c >= 'A' && c <= 'Z') {
                char[] a = s.toCharArray();
                for (int j = i; j < a.length; j++) {
                    if (a[j] >= 'A' && a[j] <= 'Z') a[j] += 'a' - 'A';
                }
                return new String(a);
            }
        }
        return s;
    }

    /** Step 5 on normalized text: whitespace separates words; each punctuation character is a word. */
    static void split(String s, List<String> words) {
        int start = -1;
        for (int i = 0; i < s.length(); ) {
            int c = s.codePointAt(i);
            int n = Character.charCount(c);
            if (CharClasses.isWhitespace(c)) {
                if (start >= 0) words.add(s.substring(start, i));
                start = -1;
            } else if (CharClasses.isPunctuation(c)) {
                if (start >= 0) words.add(s.substring(start, i));
                words.add(s.substring(i, i + n));
                start = -1;
            } else if (start < 0) {
                start = i;
            }
            i += n;
        }
        if (start >= 0) words.add(s.substring(start));
    }
}
