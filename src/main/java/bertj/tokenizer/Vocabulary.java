package bertj.tokenizer;

import bertj.readers.ModelFileException;
import bertj.readers.Utf8;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A WordPiece vocabulary: token ↔ id, the special tokens, and — when read from a Hugging Face tokenizer.json —
 * the normalizer's settings.
 * <p>
 * {@code vocab.txt}: one token per line, the id is the line number from 0 (trailing whitespace of a line is
 * dropped; a token listed twice keeps its last id, as Hugging Face does). Its special tokens are those of
 * [PAD], [UNK], [CLS], [SEP], [MASK] that it holds.
 * <p>
 * {@code tokenizer.json}: a WordPiece model ({@code model.vocab}, {@code unk_token},
 * {@code continuing_subword_prefix}, {@code max_input_chars_per_word}); {@code added_tokens} are the special
 * tokens; a BertNormalizer gives {@link #normalization() the normalization}; the pre-tokenizer, when there is one,
 * must be BertPreTokenizer. Other models, normalizers and pre-tokenizers are refused: their tokens would differ.
 * <p>
 * Every BERT vocabulary must hold [UNK], [CLS] and [SEP]; loading fails with a one-line message otherwise. Ids
 * are below {@link #MAX_ID} (the id → token table is an array sized by the largest id).
 */
public final class Vocabulary {
    /**
     * Field names are neither canonicalized nor interned: a tokenizer.json's are 30 000 distinct tokens read once,
     * and Jackson's symbol table and String.intern were a fifth of reading one in a new JVM.
     */
    private static final ObjectMapper JSON = new ObjectMapper(com.fasterxml.jackson.core.JsonFactory.builder()
            .disable(com.fasterxml.jackson.core.JsonFactory.Feature.CANONICALIZE_FIELD_NAMES)
            .disable(com.fasterxml.jackson.core.JsonFactory.Feature.INTERN_FIELD_NAMES).build());
    private static final List<String> BERT_SPECIALS = List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]");
    /** Ids must be below this: 16,777,216, some 500 times BERT's 30,522 tokens. */
    public static final int MAX_ID = 1 << 24;

    private final String source;
    private final Map<String, Integer> ids;
    private final String[] tokens;
    private final String unk;
    private final String prefix;
    private final int maxInputChars;
    private final List<String> specialTokens;
    private final Normalization normalization;
    private final boolean casedTokens;
    private final int unkId, clsId, sepId, padId;
    private final int maxTokenLength;

    /**
     * A tokenizer.json's BertNormalizer settings ({@code strip_accents} null already resolved to {@code lowercase},
     * as Hugging Face resolves it).
     */
    public record Normalization(boolean cleanText, boolean handleChineseChars, boolean lowercase, boolean stripAccents) {
    }

    private Vocabulary(String source, Map<String, Integer> ids, String unk, String prefix, int maxInputChars,
                       List<String> specialTokens, Normalization normalization) {
        this.source = source;
        // ids is the caller's own new map, not kept elsewhere; not copied (Map.copyOf of 30 522 entries, and the
        // separate passes over them this once took, were a third of reading a tokenizer.json in a new JVM, where
        // this runs interpreted)
        this.ids = java.util.Collections.unmodifiableMap(ids);
        this.specialTokens = List.copyOf(specialTokens);
        int max = -1, longest = 0;
        boolean cased = false;
        for (Map.Entry<String, Integer> e : ids.entrySet()) {
            String t = e.getKey();
            max = Math.max(max, e.getValue());
            longest = Math.max(longest, t.length());
            if (!cased && changedByLowerCase(t) && !this.specialTokens.contains(t)) cased = true;
        }
        this.maxTokenLength = longest;
        this.casedTokens = cased;
        this.tokens = new String[max + 1];
        for (Map.Entry<String, Integer> e : ids.entrySet()) tokens[e.getValue()] = e.getKey();
        this.unk = unk;
        this.prefix = prefix;
        this.maxInputChars = maxInputChars;
        this.normalization = normalization;
        List<String> missing = new ArrayList<>();
        for (String t : new String[] {unk, "[CLS]", "[SEP]"}) {
            if (!ids.containsKey(t)) missing.add(t);
        }
        if (!missing.isEmpty()) {
            throw new ModelFileException(source + ": the vocabulary has no " + String.join(", ", missing)
                    + " token; BERT needs [UNK], [CLS] and [SEP] (is this a BERT WordPiece vocabulary?)");
        }
        this.unkId = ids.get(unk);
        this.clsId = ids.get("[CLS]");
        this.sepId = ids.get("[SEP]");
        this.padId = ids.getOrDefault("[PAD]", 0);
    }

    /** Reads vocab.txt or tokenizer.json (told apart by content: a JSON object starts with '{'). */
    public static Vocabulary load(Path file) {
        String text = Utf8.read(file, "a vocab.txt or tokenizer.json");
        return parse(text, file.toString());
    }

    /** Parses the text of a vocab.txt or tokenizer.json; {@code source} names it in errors. */
    public static Vocabulary parse(String text, String source) {
        String head = text.stripLeading();
        if (head.startsWith("{")) return fromTokenizerJson(text, source);
        return fromVocabTxt(text, source);
    }

    private static Vocabulary fromVocabTxt(String text, String source) {
        Map<String, Integer> ids = new HashMap<>();
        int index = 0;
        int start = 0;
        while (start < text.length()) {
            int nl = text.indexOf('\n', start);
            int end = nl < 0 ? text.length() : nl;
            String line = text.substring(start, end).stripTrailing();
            ids.put(line, index++);
            start = nl < 0 ? text.length() : nl + 1;
        }
        if (ids.isEmpty()) throw new ModelFileException(source + ": the vocabulary file is empty");
        List<String> specials = new ArrayList<>();
        for (String s : BERT_SPECIALS) if (ids.containsKey(s)) specials.add(s);
        return new Vocabulary(source, ids, "[UNK]", "##", 100, specials, null);
    }

    private static Vocabulary fromTokenizerJson(String text, String source) {
        JsonNode root;
        try {
            root = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            throw new ModelFileException(source + ": not valid JSON (" + e.getOriginalMessage() + ")");
        }
        JsonNode model = root.path("model");
        if (!model.isObject() || !model.path("vocab").isObject()) {
            throw new ModelFileException(source + ": not a Hugging Face tokenizer.json (no model.vocab object)");
        }
        String type = model.path("type").asText("WordPiece");
        if (!type.equals("WordPiece")) {
            throw new ModelFileException(source + ": the tokenizer model is " + type + "; bertj needs a WordPiece (BERT) tokenizer");
        }
        Map<String, Integer> ids = new HashMap<>();
        for (Map.Entry<String, JsonNode> e : model.path("vocab").properties()) {
            JsonNode v = e.getValue();
            if (!v.canConvertToInt() || !v.isIntegralNumber() || v.asInt() < 0 || v.asInt() >= MAX_ID) {
                throw new ModelFileException(source + ": model.vocab[\"" + e.getKey() + "\"] is " + v
                        + ", expected an integer id from 0 to " + (MAX_ID - 1));
            }
            ids.put(e.getKey(), v.asInt());
        }
        if (ids.isEmpty()) throw new ModelFileException(source + ": model.vocab is empty");
        String unk = model.path("unk_token").asText("[UNK]");
        String prefix = model.path("continuing_subword_prefix").asText("##");
        int maxChars = model.path("max_input_chars_per_word").asInt(100);
        List<String> specials = new ArrayList<>();
        for (JsonNode t : root.path("added_tokens")) {
            String content = t.path("content").asText("");
            if (!content.isEmpty()) specials.add(content);
        }
        JsonNode pre = root.path("pre_tokenizer");
        if (pre.isObject() && !pre.path("type").asText("").equals("BertPreTokenizer")) {
            throw new ModelFileException(source + ": the pre-tokenizer is " + pre.path("type").asText("untyped") + "; bertj supports BERT's (BertPreTokenizer)");
        }
        Normalization normalization = null;
        JsonNode norm = root.path("normalizer");
        if (norm.isObject()) {
            String nt = norm.path("type").asText("");
            if (!nt.equals("BertNormalizer")) {
                throw new ModelFileException(source + ": the normalizer is " + nt + "; bertj supports BERT's (BertNormalizer)");
            }
            boolean lowercase = norm.path("lowercase").asBoolean(true);
            JsonNode sa = norm.path("strip_accents");
            normalization = new Normalization(norm.path("clean_text").asBoolean(true),
                    norm.path("handle_chinese_chars").asBoolean(true), lowercase, sa.isBoolean() ? sa.asBoolean() : lowercase);
        }
        return new Vocabulary(source, ids, unk, prefix, maxChars, specials, normalization);
    }

    public String source() {
        return source;
    }

    public int size() {
        return ids.size();
    }

    /** One more than the largest id (the rows an embedding table needs). */
    public int idLimit() {
        return tokens.length;
    }

    /** The id of a token, or -1. */
    public int id(String token) {
        Integer id = ids.get(token);
        return id == null ? -1 : id;
    }

    public boolean contains(String token) {
        return ids.containsKey(token);
    }

    /** The token with this id, or null. */
    public String token(int id) {
        return id >= 0 && id < tokens.length ? tokens[id] : null;
    }

    public String unkToken() {
        return unk;
    }

    public int unkId() {
        return unkId;
    }

    public int clsId() {
        return clsId;
    }

    public int sepId() {
        return sepId;
    }

    public int padId() {
        return padId;
    }

    /** The prefix of a word piece that continues a word ("##"). */
    public String continuingPrefix() {
        return prefix;
    }

    /** The length of the longest token, in UTF-16 units: no piece longer than this can match. */
    public int maxTokenLength() {
        return maxTokenLength;
    }

    /** Words with more code points than this become the unknown token. */
    public int maxInputChars() {
        return maxInputChars;
    }

    /** Tokens matched verbatim in raw text before normalization ([CLS], [SEP], …). */
    public List<String> specialTokens() {
        return specialTokens;
    }

    /** The normalization a tokenizer.json's BertNormalizer asks for; null when the file names none (vocab.txt). */
    public Normalization normalization() {
        return normalization;
    }

    /**
     * Whether some token other than a special one ([CLS], [unused0], …) changes under lower-casing: the mark of a
     * cased vocabulary. An uncased vocabulary is learned from lower-cased text, so each of its tokens is its own
     * lower case (BERT's uncased vocab.txt: none of 30,522 changes; bert-base-cased's: thousands do).
     */
    public boolean hasCasedTokens() {
        return casedTokens;
    }

    private static boolean changedByLowerCase(String token) {
        if (token.startsWith("[") && token.endsWith("]")) return false;
        for (int i = 0; i < token.length(); ) {
            char ch = token.charAt(i);
            if (ch < 0x80) { // ASCII: only A–Z change
                if (ch >= 'A' && ch <= 'Z') return true;
                i++;
                continue;
            }
            int c = token.codePointAt(i);
            if (Character.toLowerCase(c) != c) return true;
            i += Character.charCount(c);
        }
        return false;
    }
}
