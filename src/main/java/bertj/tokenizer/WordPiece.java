package bertj.tokenizer;

import java.util.List;

/**
 * Greedy longest-match-first WordPiece: a word is cut into the longest vocabulary entry that starts it, then the
 * longest "##"-prefixed entry that continues from there, and so on. A word with more than
 * {@link Vocabulary#maxInputChars()} code points, or with a remainder that no entry matches, becomes the
 * unknown token as a whole. Thread-safe.
 */
public final class WordPiece {
    private final Vocabulary vocab;

    public WordPiece(Vocabulary vocab) {
        this.vocab = vocab;
    }

    /** Appends the pieces of one word (as the basic tokenizer produced it) and their ids. */
    public void tokenize(String word, List<String> tokens, IntList ids) {
        int chars = word.codePointCount(0, word.length());
        if (chars > vocab.maxInputChars()) {
            tokens.add(vocab.unkToken());
            ids.add(vocab.unkId());
            return;
        }
        int mark = tokens.size(), idMark = ids.size();
        String prefix = vocab.continuingPrefix();
        int start = 0;
        while (start < word.length()) {
            // No vocabulary entry is longer than maxTokenLength, so longer candidates cannot match: starting there
            // (on a code point boundary) gives the same pieces in O(word × longest token) lookups, not O(word²).
            int room = vocab.maxTokenLength() - (start > 0 ? prefix.length() : 0);
            int end = (long) start + room >= word.length() ? word.length() : start + Math.max(room, 0);
            if (end > start && end < word.length() && Character.isHighSurrogate(word.charAt(end - 1))
                    && Character.isLowSurrogate(word.charAt(end))) {
                end--;
            }
            int found = -1;
            String piece = null;
            while (end > start) {
                String sub = word.substring(start, end);
                piece = start > 0 ? prefix + sub : sub;
                found = vocab.id(piece);
                if (found >= 0) break;
                end -= end - 2 >= start && Character.isLowSurrogate(word.charAt(end - 1))
                        && Character.isHighSurrogate(word.charAt(end - 2)) ? 2 : 1;
            }
            if (found < 0) {
                while (tokens.size() > mark) tokens.remove(tokens.size() - 1);
                ids.truncate(idMark);
                tokens.add(vocab.unkToken());
                ids.add(vocab.unkId());
                return;
            }
            tokens.add(piece);
            ids.add(found);
            start = end;
        }
    }
}
