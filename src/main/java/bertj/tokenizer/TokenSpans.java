package bertj.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * The tokens of a text together with the characters each one came from, as Hugging Face's tokenizers report
 * offsets: [start, end) in code points of the original text, so that a lower-cased or accent-stripped piece still
 * points at what the user wrote ("Café" → "cafe" spans 0..4). The tokens and ids are exactly
 * {@link BertTokenizer#encode}'s.
 *
 * <p>How: the text is cut where the basic tokenizer always cuts — whitespace, a punctuation character, a CJK
 * ideograph, a special token written in the text — into runs that are tokenized on their own (text cleaning
 * deletes control characters and joins their neighbours, so those never cut). Each run is normalized one code
 * point at a time, which gives the same string as normalizing the run at once (checked; where it does not — a
 * canonical reordering of combining marks — every token of the run spans the whole run) and tells which original
 * code point each normalized character came from; a word piece's span is then the code points its characters came
 * from, and the unknown token spans its whole word.
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
                run(text.substring(runStart, i), runStartCp, basic, wordPiece, vocab, out);
                runStart = -1;
            }
            if (special != null) {
                int len = special.codePointCount(0, special.length());
                out.add(new Span(special, vocab.id(special), true, cp, cp + len));
                i += special.length();
                cp += len;
            } else {
                // whitespace cuts and vanishes; punctuation and ideographs are words of their own
                if (!CharClasses.isWhitespace(c)) run(text.substring(i, i + n), cp, basic, wordPiece, vocab, out);
                i += n;
                cp++;
            }
        }
        if (runStart >= 0) run(text.substring(runStart), runStartCp, basic, wordPiece, vocab, out);
        return out;
    }

    /** Tokens of one run of text that starts at code point {@code base} of the whole text. */
    private static void run(String run, int base, BasicTokenizer basic, WordPiece wordPiece, Vocabulary vocab, List<Span> out) {
        // Normalize code point by code point; from[u] = the code point (of the text) that normalized UTF-16 unit u came from.
        StringBuilder norm = new StringBuilder(run.length());
        List<Integer> from = new ArrayList<>(run.length());
        int cp = base;
        for (int i = 0; i < run.length(); ) {
            int c = run.codePointAt(i);
            int n = Character.charCount(c);
            String piece = basic.normalize(run.substring(i, i + n));
            norm.append(piece);
            for (int u = 0; u < piece.length(); u++) from.add(cp);
            i += n;
            cp++;
        }
        String normalized = basic.normalize(run);
        List<String> tokens = new ArrayList<>();
        IntList ids = new IntList();
        if (!normalized.contentEquals(norm)) {
            int mark = tokens.size();
            List<String> words = new ArrayList<>();
            BasicTokenizer.split(normalized, words);
            for (String w : words) wordPiece.tokenize(w, tokens, ids);
            for (int k = mark; k < tokens.size(); k++) out.add(new Span(tokens.get(k), ids.get(k), false, base, cp));
            return;
        }
        String s = norm.toString();
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

    private static void word(String s, int start, int end, List<Integer> from, WordPiece wordPiece, Vocabulary vocab,
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
