package bertj.tokenizer;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The tokens of a text together with the characters each one came from, as Hugging Face's tokenizers report
 * offsets: [start, end) in code points of the original text, so that a lower-cased or accent-stripped piece still
 * points at what the user wrote ("Café" → "cafe" spans 0..4). The tokens and ids are exactly
 * {@link BertTokenizer#encode}'s.
 *
 * <p>How: the text is cut where the basic tokenizer always cuts — whitespace, a punctuation character, a CJK
 * ideograph, a special token written in the text — into runs that are tokenized on their own (text cleaning
 * deletes control characters and joins their neighbours, so those never cut). Each run is normalized as the
 * basic tokenizer normalizes it, step by step, keeping for every normalized character the code point of the text
 * it is aligned to, as Hugging Face's NormalizedString aligns it (see {@code normalize}: NFD's reordered marks by
 * position); a word piece's span is then the code points its characters are aligned to, and the unknown token
 * spans its whole word. With {@link LowerCasing#PYTHON}, final sigmas are decided on the whole text first.
 */
public final class TokenSpans {
    private TokenSpans() {
    }

    /**
     * A token, its id, whether it is a special token ([CLS], [SEP], … written in the text), and its span in code
     * points of the text.
     */
    public record Span(String token, int id, boolean special, int start, int end) {
    }

    public static List<Span> of(BertTokenizer tokenizer, String text) {
        Vocabulary vocab = tokenizer.vocab();
        BasicTokenizer basic = tokenizer.basic();
        WordPiece wordPiece = new WordPiece(vocab);
        boolean clean = basic.cleanText(), chinese = basic.chineseChars();
        BitSet finalSigma = basic.lowercase() && basic.lowerCasing() == LowerCasing.PYTHON && text.indexOf(0x3A3) >= 0
                ? finalSigmas(tokenizer, text) : new BitSet();
        List<Span> out = new ArrayList<>();
        int runStart = -1, runStartCp = -1; // UTF-16 index and code point index of the run being collected
        int cp = 0;
        for (int i = 0; i < text.length(); ) {
            String special = tokenizer.specialAt(text, i);
            int c = text.codePointAt(i);
            int n = Character.charCount(c);
            boolean cut = special != null || (!(clean && CharClasses.isRemoved(c))
                    && (CharClasses.isWhitespace(c) || CharClasses.isPunctuation(c)
                    || (chinese && c >= 0x3400 && CharClasses.isChinese(c))));
            if (!cut) {
                if (runStart < 0) {
                    runStart = i;
                    runStartCp = cp;
                }
                i += n;
                cp++;
                continue;
            }
            if (runStart >= 0) {
                run(text.substring(runStart, i), runStartCp, basic, finalSigma, wordPiece, vocab, out);
                runStart = -1;
            }
            if (special != null) {
                int len = special.codePointCount(0, special.length());
                out.add(new Span(special, vocab.id(special), true, cp, cp + len));
                i += special.length();
                cp += len;
            } else {
                // whitespace cuts and vanishes; punctuation and ideographs are words of their own
                if (!CharClasses.isWhitespace(c)) run(text.substring(i, i + n), cp, basic, finalSigma, wordPiece, vocab, out);
                i += n;
                cp++;
            }
        }
        if (runStart >= 0) run(text.substring(runStart), runStartCp, basic, finalSigma, wordPiece, vocab, out);
        return out;
    }

    /**
     * Which capital sigmas (code point indices of the text) {@link LowerCasing#PYTHON} makes final: decided, as
     * {@link BertTokenizer#encode} decides them, on each piece of text between special tokens once the basic
     * tokenizer has cleaned it ({@link BasicTokenizer#clean}), since Final_Sigma looks past the runs cut here
     * ("AΣ.b" keeps σ: the full stop is case-ignorable and "b" is cased). Cleaning neither drops nor adds a Σ, so
     * the n-th Σ of the cleaned piece is the n-th of the piece.
     */
    private static BitSet finalSigmas(BertTokenizer tokenizer, String text) {
        BitSet out = new BitSet();
        StringBuilder sb = new StringBuilder();
        for (int i = 0, from = 0, cp = 0; ; ) {
            String special = i < text.length() ? tokenizer.specialAt(text, i) : null;
            if (special == null && i < text.length()) {
                i += Character.charCount(text.codePointAt(i));
                continue;
            }
            String piece = text.substring(from, i);
            sb.setLength(0);
            tokenizer.basic().clean(piece, sb);
            int[] cleaned = sb.codePoints().toArray();
            int[] sigmas = piece.codePoints().toArray(); // becomes: the code point indices of the piece's Σs
            int n = 0;
            for (int k = 0; k < sigmas.length; k++) if (sigmas[k] == 0x3A3) sigmas[n++] = cp + k;
            for (int k = 0, m = 0; k < cleaned.length; k++) {
                if (cleaned[k] == 0x3A3 && PythonLowerCase.isFinalSigma(cleaned, k)) out.set(sigmas[m]);
                if (cleaned[k] == 0x3A3) m++;
            }
            if (special == null) return out;
            cp += piece.codePointCount(0, piece.length()) + special.codePointCount(0, special.length());
            i += special.length();
            from = i;
        }
    }

    /** Tokens of one run of text that starts at code point {@code base} of the whole text. */
    private static void run(String run, int base, BasicTokenizer basic, BitSet finalSigma, WordPiece wordPiece, Vocabulary vocab,
                            List<Span> out) {
        IntList from = new IntList();
        String s = normalize(run, base, basic, finalSigma, from);
        List<String> tokens = new ArrayList<>();
        IntList ids = new IntList();
        String prefix = vocab.continuingPrefix();
        // Words of the normalized run with their positions: BasicTokenizer.split's rule.
        int start = -1;
        for (int i = 0; i <= s.length(); ) {
            int c = i < s.length() ? s.codePointAt(i) : ' ';
            int n = i < s.length() ? Character.charCount(c) : 1;
            boolean ws = CharClasses.isWhitespace(c), punct = !ws && CharClasses.isPunctuation(c);
            if ((ws || punct) && start >= 0) {
                word(s, start, i, from, wordPiece, vocab, prefix, tokens, ids, out);
                start = -1;
            }
            if (punct) word(s, i, i + n, from, wordPiece, vocab, prefix, tokens, ids, out);
            else if (!ws && start < 0) start = i;
            i += n;
        }
    }

    /**
     * The run normalized as {@link BasicTokenizer#normalize} normalizes it, and for each UTF-16 unit of the result
     * the code point of the text it is aligned to ({@code from}), step by step as Hugging Face's NormalizedString
     * aligns them: a deleted character leaves no unit; a character that becomes several (a decomposition, İ → i +
     * U+0307) aligns them all to itself. NFD's canonical reordering is aligned by position, not by character: the
     * reordered marks take, in their new order, the alignments of the characters that stood there, so that after a
     * mark moved in front of U+08D9 and was stripped, U+08D9 points at the mark's place. Alignments therefore never
     * decrease along the result.
     */
    static String normalize(String run, int base, BasicTokenizer basic, BitSet finalSigma, IntList from) {
        // cps[i] and at[i]: a code point of the text being normalized and the code point of the run it is aligned to
        IntList cps = new IntList(), at = new IntList();
        int index = base;
        for (int i = 0; i < run.length(); index++) {
            int c = run.codePointAt(i);
            i += Character.charCount(c);
            if (basic.cleanText() && CharClasses.isRemoved(c)) continue;
            cps.add(basic.cleanText() && CharClasses.isWhitespace(c) ? ' ' : c);
            at.add(index);
        }
        boolean lower = basic.lowercase(), python = basic.lowerCasing() == LowerCasing.PYTHON;
        if (lower && python) {
            // str.lower(), with Final_Sigma decided on the whole text (finalSigma); only İ becomes two code points
            IntList lowered = new IntList(), at2 = new IntList();
            for (int i = 0; i < cps.size(); i++) {
                int c = cps.get(i);
                if (c == 0x130) {
                    lowered.add('i');
                    lowered.add(0x307);
                    at2.add(at.get(i));
                } else {
                    lowered.add(c == 0x3A3 ? (finalSigma.get(at.get(i)) ? 0x3C2 : 0x3C3) : Character.toLowerCase(c));
                }
                at2.add(at.get(i));
            }
            cps = lowered;
            at = at2;
        }
        if (basic.stripAccents()) {
            // Each code point decomposed on its own: its first part takes its place, the others are insertions.
            IntList parts = new IntList(), inserted = new IntList();
            for (int i = 0; i < cps.size(); i++) {
                int c0 = cps.get(i);
                if (c0 < 0xC0) { // nothing below U+00C0 decomposes
                    parts.add(c0);
                    inserted.add(0);
                    continue;
                }
                String d = basic.nfd(Character.toString(c0));
                for (int j = 0, k = 0; j < d.length(); k++) {
                    int c = d.codePointAt(j);
                    j += Character.charCount(c);
                    parts.add(c);
                    inserted.add(k > 0 ? 1 : 0);
                }
            }
            // NFD of the whole is those parts with runs of marks stably sorted by combining class: the n-th c of
            // the whole is the n-th c of the parts.
            int[] nfd = basic.nfd(string(parts)).codePoints().toArray();
            Map<Integer, ArrayDeque<Integer>> where = null; // only when something was reordered
            if (!java.util.Arrays.equals(nfd, parts.toArray())) {
                where = new HashMap<>();
                for (int i = 0; i < parts.size(); i++) where.computeIfAbsent(parts.get(i), c -> new ArrayDeque<>()).add(i);
            }
            IntList kept = new IntList(), at2 = new IntList();
            int next = 0; // the next character of the text before NFD to take an alignment from
            for (int o = 0; o < nfd.length; o++) {
                int c = nfd[o];
                int part = where == null ? o : where.get(c).remove();
                int a = inserted.get(part) == 0 ? at.get(next++) : at.get(Math.max(next - 1, 0));
                if (CharClasses.isNonSpacingMark(c)) continue;
                kept.add(c);
                at2.add(a);
            }
            cps = kept;
            at = at2;
        }
        StringBuilder sb = new StringBuilder(run.length());
        for (int i = 0; i < cps.size(); i++) {
            int c = cps.get(i);
            if (lower && !python) {
                if (c == 0x130) sb.append("i\u0307");
                else sb.appendCodePoint(Character.toLowerCase(c));
            } else {
                sb.appendCodePoint(c);
            }
            while (from.size() < sb.length()) from.add(at.get(i));
        }
        return sb.toString();
    }

    private static String string(IntList cps) {
        StringBuilder sb = new StringBuilder(cps.size());
        for (int i = 0; i < cps.size(); i++) sb.appendCodePoint(cps.get(i));
        return sb.toString();
    }

    private static void word(String s, int start, int end, IntList from, WordPiece wordPiece, Vocabulary vocab,
                             String prefix, List<String> tokens, IntList ids, List<Span> out) {
        int mark = tokens.size();
        wordPiece.tokenize(s.substring(start, end), tokens, ids);
        int pos = start;
        for (int k = mark; k < tokens.size(); k++) {
            String t = tokens.get(k);
            int len;
            if (k == mark && tokens.size() == mark + 1 && t.equals(vocab.unkToken()) && !s.startsWith(t, start)) {
                len = end - start; // the whole word became the unknown token
            } else {
                len = t.length() - (k > mark ? prefix.length() : 0);
            }
            int last = Math.min(pos + len, end) - 1;
            out.add(new Span(t, ids.get(k), false, from.get(pos), from.get(last) + 1));
            pos += len;
        }
    }
}
