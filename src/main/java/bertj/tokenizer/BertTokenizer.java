package bertj.tokenizer;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * BERT's full tokenizer: special tokens, then {@link BasicTokenizer}, then {@link WordPiece}. Produces the same
 * tokens and ids as Hugging Face's fast BertTokenizer (the tokenizers library) without [CLS]/[SEP] added:
 * <ul>
 *   <li>a special token written in the text ("[SEP]", "[MASK]", …; see {@link Vocabulary#specialTokens()}) is
 *       matched verbatim, leftmost-longest, before any normalization, and becomes that single token; the text
 *       between such matches is tokenized piece by piece;</li>
 *   <li>uncased: lower-case and strip accents; cased: neither (the rule that decides: {@link #of}).</li>
 * </ul>
 * With {@link LowerCasing#PYTHON} words are lower-cased as NVIDIA's tokenization.py does (see {@link BasicTokenizer});
 * the default, {@link LowerCasing#HF}, is Hugging Face's.
 * {@link #sequence} gives a model's input for one text, {@code [CLS] tokens [SEP]}. Immutable and thread-safe.
 * <pre>
 *   BertTokenizer tok = BertTokenizer.load(Path.of("vocab.txt"), null);   // or tokenizer.json; null: casing from the file
 *   BertTokenizer.Encoding e = tok.encode("Hello, world!");               // [hello, ",", world, !] and their ids
 * </pre>
 */
public final class BertTokenizer {
    /** Tokens and their ids. */
    public record Encoding(List<String> tokens, int[] ids) {
    }

    /**
     * A model's input for one text.
     *
     * @param ids       [CLS], the text's token ids, [SEP]
     * @param truncated whether tokens of the text were dropped to fit
     */
    public record Sequence(int[] ids, boolean truncated) {
    }

    private final Vocabulary vocab;
    private final BasicTokenizer basic;
    private final WordPiece wordPiece;
    private final String[] specials;
    private final String casingFrom;

    private BertTokenizer(Vocabulary vocab, BasicTokenizer basic, String casingFrom) {
        this.vocab = vocab;
        this.basic = basic;
        this.wordPiece = new WordPiece(vocab);
        this.specials = vocab.specialTokens().stream().filter(s -> !s.isEmpty()).toArray(String[]::new);
        this.casingFrom = casingFrom;
    }

    /**
     * A tokenizer for a vocabulary, cased or uncased by one rule, the first that applies:
     * <ol>
     *   <li>{@code cased} true: cased (no lower-casing, no accent stripping); false: uncased (both). The
     *       {@code --cased} and {@code --uncased} flags of the commands;</li>
     *   <li>a tokenizer.json's BertNormalizer: its {@code lowercase} and {@code strip_accents};</li>
     *   <li>otherwise (vocab.txt) the vocabulary's letters: cased when some token changes under lower-casing
     *       ({@link Vocabulary#hasCasedTokens()}), else uncased. BERT's uncased vocab.txt, which NVIDIA's
     *       checkpoints use, has no such token.</li>
     * </ol>
     * A BertNormalizer's {@code clean_text} and {@code handle_chinese_chars} are honoured whatever the casing.
     * Lower-casing is Hugging Face's ({@link LowerCasing#HF}); see {@link #of(Vocabulary, Boolean, LowerCasing)}.
     */
    public static BertTokenizer of(Vocabulary vocab, Boolean cased) {
        return of(vocab, cased, LowerCasing.HF);
    }

    /**
     * As {@link #of(Vocabulary, Boolean)}, lower-casing (when uncased) as {@code lowerCasing} says: {@link LowerCasing#HF}
     * as Hugging Face's tokenizers, {@link LowerCasing#PYTHON} as NVIDIA's tokenization.py.
     */
    public static BertTokenizer of(Vocabulary vocab, Boolean cased, LowerCasing lowerCasing) {
        Vocabulary.Normalization n = vocab.normalization();
        boolean clean = n == null || n.cleanText(), chinese = n == null || n.handleChineseChars();
        if (cased != null) return new BertTokenizer(vocab, new BasicTokenizer(!cased, !cased, clean, chinese, lowerCasing), "as asked");
        if (n != null) {
            return new BertTokenizer(vocab, new BasicTokenizer(n.lowercase(), n.stripAccents(), clean, chinese, lowerCasing),
                    "as the tokenizer.json's normalizer says");
        }
        boolean lower = !vocab.hasCasedTokens();
        return new BertTokenizer(vocab, new BasicTokenizer(lower, lower, true, true, lowerCasing), "told by the vocabulary's letters");
    }

    public static BertTokenizer load(Path vocabFile, Boolean cased) {
        return of(Vocabulary.load(vocabFile), cased);
    }

    public static BertTokenizer load(Path vocabFile, Boolean cased, LowerCasing lowerCasing) {
        return of(Vocabulary.load(vocabFile), cased, lowerCasing);
    }

    /**
     * Words for a user, e.g. "WordPiece, uncased (told by the vocabulary's letters), 30522 tokens, from vocab.txt":
     * the casing, why, the vocabulary's size and file; "uncased with Python's str.lower()" for {@link LowerCasing#PYTHON}.
     */
    public String describe() {
        String casing = basic.lowercase() == basic.stripAccents() ? (basic.lowercase() ? "uncased" : "cased")
                : basic.lowercase() ? "lower-cased, accents kept" : "case kept, accents stripped";
        if (basic.lowercase() && basic.lowerCasing() == LowerCasing.PYTHON) casing += " with Python's str.lower()";
        String file = vocab.source().substring(Math.max(vocab.source().lastIndexOf('/'), vocab.source().lastIndexOf('\\')) + 1);
        return "WordPiece, " + casing + " (" + casingFrom + "), " + vocab.size() + " tokens, from " + file;
    }

    /**
     * The input ids of one text for a model with at most {@code maxTokens} positions: {@code [CLS]}, the text's
     * tokens, {@code [SEP]}; tokens past {@code maxTokens - 2} are dropped, and {@code truncated} says so.
     */
    public Sequence sequence(String text, int maxTokens) {
        if (maxTokens < 2) throw new IllegalArgumentException("room for at least [CLS] and [SEP] is needed, got " + maxTokens);
        IntList pieces = new IntList();
        tokenize(text, new ArrayList<>(), pieces);
        int keep = Math.min(pieces.size(), maxTokens - 2);
        int[] ids = new int[keep + 2];
        ids[0] = vocab.clsId();
        for (int i = 0; i < keep; i++) ids[i + 1] = pieces.get(i);
        ids[keep + 1] = vocab.sepId();
        return new Sequence(ids, keep < pieces.size());
    }

    public Vocabulary vocab() {
        return vocab;
    }

    public BasicTokenizer basic() {
        return basic;
    }

    public boolean uncased() {
        return basic.lowercase();
    }

    public LowerCasing lowerCasing() {
        return basic.lowerCasing();
    }

    public Encoding encode(String text) {
        List<String> tokens = new ArrayList<>();
        IntList ids = new IntList();
        tokenize(text, tokens, ids);
        return new Encoding(tokens, ids.toArray());
    }

    public List<String> tokenize(String text) {
        List<String> tokens = new ArrayList<>();
        tokenize(text, tokens, new IntList());
        return tokens;
    }

    /** Appends the tokens of a text and their ids. */
    public void tokenize(String text, List<String> tokens, IntList ids) {
        int from = 0;
        for (int i = 0; i < text.length(); i++) {
            String special = specialAt(text, i);
            if (special == null) continue;
            tokenizePlain(text.substring(from, i), tokens, ids);
            tokens.add(special);
            ids.add(vocab.id(special));
            i += special.length() - 1;
            from = i + 1;
        }
        tokenizePlain(from == 0 ? text : text.substring(from), tokens, ids);
    }

    /** The longest special token written in the text at UTF-16 index i (and in the vocabulary), or null. */
    String specialAt(String text, int i) {
        String best = null;
        for (String s : specials) {
            if ((best == null || s.length() > best.length()) && text.startsWith(s, i) && vocab.contains(s)) best = s;
        }
        return best;
    }

    private void tokenizePlain(String text, List<String> tokens, IntList ids) {
        if (text.isEmpty()) return;
        List<String> words = new ArrayList<>();
        BasicTokenizer.split(basic.normalize(text), words);
        for (String w : words) wordPiece.tokenize(w, tokens, ids);
    }
}
