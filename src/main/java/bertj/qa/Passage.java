package bertj.qa;

import bertj.tokenizer.BertTokenizer;
import bertj.tokenizer.IntList;

import java.util.ArrayList;
import java.util.List;

/**
 * A context as run_squad.py sees it: "document words" split on whitespace (space, tab, CR, LF and U+202F only,
 * run_squad.py's definition), each word cut into WordPiece tokens on its own, and the maps between the two.
 * Word offsets are kept in code points (as Python and SQuAD's answer_start count) and in UTF-16 units (for Java).
 * Immutable; built once per context and shared by all questions about it.
 */
public final class Passage {
    private final String context;
    private final List<String> words;
    private final int[] wordStart, wordEnd, wordStart16, wordEnd16;
    private final List<String> tokens;
    private final int[] ids;
    private final int[] tokenToWord;

    private Passage(String context, List<String> words, IntList starts, IntList ends, IntList starts16, IntList ends16,
                    List<String> tokens, int[] ids, int[] tokenToWord) {
        this.context = context;
        this.words = List.copyOf(words);
        this.wordStart = starts.toArray();
        this.wordEnd = ends.toArray();
        this.wordStart16 = starts16.toArray();
        this.wordEnd16 = ends16.toArray();
        this.tokens = List.copyOf(tokens);
        this.ids = ids;
        this.tokenToWord = tokenToWord;
    }

    /** run_squad.py's whitespace: the words of a context are the runs between these. */
    static boolean isWhitespace(int c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == 0x202F;
    }

    public static Passage of(String context, BertTokenizer tokenizer) {
        List<String> words = new ArrayList<>();
        IntList starts = new IntList(), ends = new IntList(), starts16 = new IntList(), ends16 = new IntList();
        int cp = 0, wordCp = -1, word16 = -1;
        for (int i = 0; i < context.length(); ) {
            int c = context.codePointAt(i);
            if (isWhitespace(c)) {
                if (wordCp >= 0) {
                    words.add(context.substring(word16, i));
                    starts.add(wordCp);
                    ends.add(cp);
                    starts16.add(word16);
                    ends16.add(i);
                    wordCp = -1;
                }
            } else if (wordCp < 0) {
                wordCp = cp;
                word16 = i;
            }
            i += Character.charCount(c);
            cp++;
        }
        if (wordCp >= 0) {
            words.add(context.substring(word16));
            starts.add(wordCp);
            ends.add(cp);
            starts16.add(word16);
            ends16.add(context.length());
        }
        List<String> tokens = new ArrayList<>();
        IntList ids = new IntList(), toWord = new IntList();
        for (int w = 0; w < words.size(); w++) {
            int before = tokens.size();
            tokenizer.tokenize(words.get(w), tokens, ids);
            for (int k = before; k < tokens.size(); k++) toWord.add(w);
        }
        return new Passage(context, words, starts, ends, starts16, ends16, tokens, ids.toArray(), toWord.toArray());
    }

    public String context() {
        return context;
    }

    /** run_squad.py's doc_tokens. */
    public List<String> words() {
        return words;
    }

    /** WordPiece tokens of all words, in order (all_doc_tokens). */
    public List<String> tokens() {
        return tokens;
    }

    int id(int token) {
        return ids[token];
    }

    /** The word a token belongs to (tok_to_orig_index). */
    public int tokenToWord(int token) {
        return tokenToWord[token];
    }

    /** Code point offset of a word's first character in the context. */
    public int wordStart(int word) {
        return wordStart[word];
    }

    /** Code point offset just after a word's last character. */
    public int wordEnd(int word) {
        return wordEnd[word];
    }

    int wordStart16(int word) {
        return wordStart16[word];
    }

    int wordEnd16(int word) {
        return wordEnd16[word];
    }
}
