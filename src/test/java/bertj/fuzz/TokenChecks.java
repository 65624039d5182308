package bertj.fuzz;

import bertj.qa.Passage;
import bertj.tokenizer.BertTokenizer;
import bertj.tokenizer.Vocabulary;

import java.util.List;

/** Invariants of tokenizer output that hold for any vocabulary and any text. */
final class TokenChecks {
    private TokenChecks() {
    }

    /** Tokens and ids agree with the vocabulary; a sequence is [CLS] … [SEP] within its limit. Returns the encoding. */
    static BertTokenizer.Encoding encoding(BertTokenizer t, String text) {
        Vocabulary v = t.vocab();
        BertTokenizer.Encoding e = t.encode(text);
        if (e.tokens().size() != e.ids().length) throw new AssertionError(e.tokens().size() + " tokens but " + e.ids().length + " ids");
        for (int i = 0; i < e.ids().length; i++) {
            int id = e.ids()[i];
            if (id < 0 || id >= v.idLimit()) throw new AssertionError("id " + id + " outside the vocabulary's 0.." + (v.idLimit() - 1));
            if (id != v.id(e.tokens().get(i))) throw new AssertionError("token " + e.tokens().get(i) + " has id " + id + ", the vocabulary says " + v.id(e.tokens().get(i)));
        }
        BertTokenizer.Sequence s = t.sequence(text, 8);
        int[] ids = s.ids();
        if (ids.length > 8 || ids[0] != v.clsId() || ids[ids.length - 1] != v.sepId() || s.truncated() != (e.ids().length > 6)) {
            throw new AssertionError("sequence of " + ids.length + " ids is not [CLS] … [SEP] within 8, truncated " + s.truncated());
        }
        return e;
    }

    /**
     * A passage's words, offsets and tokens: words are the non-whitespace runs of the text in order, their code point
     * and UTF-16 offsets in range, increasing and consistent with each other, and the token → word map in range and
     * monotonic.
     */
    static Passage passage(String text, BertTokenizer t) {
        Passage p = Passage.of(text, t);
        List<String> words = p.words();
        int prevEnd = 0;
        for (int w = 0; w < words.size(); w++) {
            int s = p.wordStart(w), e = p.wordEnd(w);
            if (s < prevEnd || e <= s || e > text.codePointCount(0, text.length())) {
                throw new AssertionError("word " + w + " has offsets [" + s + ", " + e + ") after " + prevEnd);
            }
            int s16 = text.offsetByCodePoints(0, s), e16 = text.offsetByCodePoints(s16, e - s);
            if (!text.substring(s16, e16).equals(words.get(w))) {
                throw new AssertionError("word " + w + " is '" + words.get(w) + "' but the text there is '" + text.substring(s16, e16) + "'");
            }
            prevEnd = e;
        }
        int prev = 0;
        for (int k = 0; k < p.tokens().size(); k++) {
            int w = p.tokenToWord(k);
            if (w < prev || w >= words.size()) throw new AssertionError("token " + k + " maps to word " + w + " after word " + prev);
            prev = w;
        }
        return p;
    }
}
