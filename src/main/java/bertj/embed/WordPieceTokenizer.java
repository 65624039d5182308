package bertj.embed;

import bertj.readers.ModelFileException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * BERT's tokenizer as Hugging Face's {@code BertNormalizer} + {@code BertPreTokenizer} + {@code WordPiece} define it:
 * <ol>
 *   <li>clean: drop NUL, U+FFFD and control characters (Unicode Cc, Cf, Co, Cs; tab, LF and CR count as
 *       whitespace), turn every whitespace character into a space;</li>
 *   <li>put spaces around CJK ideographs, so each becomes a word;</li>
 *   <li>uncased models: strip accents (NFD, then drop non-spacing marks Mn) and lowercase;</li>
 *   <li>split on whitespace, and make each punctuation character (ASCII punctuation or Unicode P*) a word;</li>
 *   <li>WordPiece: cut each word greedily into the longest vocabulary entries, continuation pieces prefixed
 *       with "##"; a word longer than 100 characters, or one that cannot be cut, becomes [UNK].</li>
 * </ol>
 * Special tokens written in the text ("[SEP]") are kept whole, as Hugging Face's added tokens are.
 * The vocabulary comes from a {@code tokenizer.json} (whose normalizer settings are used) or a {@code vocab.txt}
 * (one token per line; uncased when no token outside [brackets] has an upper-case letter).
 */
public final class WordPieceTokenizer implements TextTokenizer {
    private final Map<String, Integer> vocab;
    private final boolean lowercase, stripAccents, cleanText, chineseChars;
    private final String unk, prefix;
    private final int maxWordChars, cls, sep, unkId, pad;
    private final List<String> specials;
    private final String source;

    private WordPieceTokenizer(Map<String, Integer> vocab, boolean lowercase, boolean stripAccents, boolean cleanText,
                               boolean chineseChars, String unk, String prefix, int maxWordChars, Integer pad,
                               List<String> specials, String where, String source) {
        this.vocab = vocab;
        this.lowercase = lowercase;
        this.stripAccents = stripAccents;
        this.cleanText = cleanText;
        this.chineseChars = chineseChars;
        this.unk = unk;
        this.prefix = prefix;
        this.maxWordChars = maxWordChars;
        this.cls = id(where, "[CLS]");
        this.sep = id(where, "[SEP]");
        this.unkId = id(where, unk);
        this.pad = pad != null ? pad : vocab.getOrDefault("[PAD]", 0);
        // Longest first, so that "[MASK]" wins over a shorter special token that is its prefix.
        this.specials = specials.stream().sorted((a, b) -> b.length() - a.length()).toList();
        this.source = source;
    }

    private int id(String where, String token) {
        Integer id = vocab.get(token);
        if (id == null) throw new ModelFileException(where + ": the vocabulary has no " + token + " token; is it a BERT vocabulary?");
        return id;
    }

    /** Reads a tokenizer.json (Hugging Face tokenizers) or a vocab.txt, chosen by the file's first byte. */
    public static WordPieceTokenizer load(Path file) {
        String where = file.getFileName() == null ? file.toString() : file.getFileName().toString();
        try (InputStream in = Files.newInputStream(file)) {
            byte[] bytes = in.readAllBytes();
            int i = 0;
            while (i < bytes.length && Character.isWhitespace(bytes[i])) i++;
            if (i < bytes.length && bytes[i] == '{') return fromJson(bytes, where);
            return fromVocabTxt(new String(bytes, StandardCharsets.UTF_8), where);
        } catch (IOException e) {
            throw new ModelFileException(where + ": cannot read the vocabulary: " + e.getMessage(), e);
        }
    }

    private static WordPieceTokenizer fromVocabTxt(String text, String where) {
        Map<String, Integer> vocab = new HashMap<>();
        boolean cased = false;
        try (BufferedReader r = new BufferedReader(new java.io.StringReader(text))) {
            String line;
            int id = 0;
            while ((line = r.readLine()) != null) {
                String token = line.strip();
                vocab.putIfAbsent(token, id++);
                if (!(token.startsWith("[") && token.endsWith("]")) && !token.equals(token.toLowerCase(Locale.ROOT))) cased = true;
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        if (vocab.size() < 5) throw new ModelFileException(where + ": a vocab.txt with " + vocab.size() + " tokens is not a BERT vocabulary");
        List<String> specials = new ArrayList<>();
        for (String s : List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")) if (vocab.containsKey(s)) specials.add(s);
        return new WordPieceTokenizer(vocab, !cased, !cased, true, true, "[UNK]", "##", 100, null, specials, where,
                "WordPiece, " + (cased ? "cased" : "uncased") + " (told by the vocabulary's letters), " + vocab.size() + " tokens, from " + where);
    }

    private static WordPieceTokenizer fromJson(byte[] bytes, String where) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(bytes);
        } catch (IOException e) {
            throw new ModelFileException(where + ": not valid JSON: " + e.getMessage().split("\n")[0]);
        }
        JsonNode model = root.path("model");
        if (!"WordPiece".equals(model.path("type").asText())) {
            throw new ModelFileException(where + ": the tokenizer's model is '" + model.path("type").asText("none")
                    + "', not WordPiece; bertj reads BERT (WordPiece) tokenizers");
        }
        JsonNode norm = root.path("normalizer");
        if (!norm.isMissingNode() && !norm.isNull() && !"BertNormalizer".equals(norm.path("type").asText())) {
            throw new ModelFileException(where + ": normalizer '" + norm.path("type").asText() + "' is not supported (BertNormalizer is)");
        }
        JsonNode pre = root.path("pre_tokenizer");
        if (!pre.isMissingNode() && !pre.isNull() && !"BertPreTokenizer".equals(pre.path("type").asText())) {
            throw new ModelFileException(where + ": pre-tokenizer '" + pre.path("type").asText() + "' is not supported (BertPreTokenizer is)");
        }
        Map<String, Integer> vocab = new HashMap<>();
        model.path("vocab").properties().forEach(e -> vocab.put(e.getKey(), e.getValue().asInt()));
        if (vocab.isEmpty()) throw new ModelFileException(where + ": the WordPiece model has no vocabulary");
        boolean lower = norm.path("lowercase").asBoolean(true);
        JsonNode strip = norm.path("strip_accents");
        boolean stripAccents = strip.isBoolean() ? strip.asBoolean() : lower; // null: follow lowercase, as BERT does
        List<String> specials = new ArrayList<>();
        for (JsonNode t : root.path("added_tokens")) {
            if (t.path("special").asBoolean(false)) specials.add(t.path("content").asText());
        }
        JsonNode padding = root.path("padding");
        Integer pad = padding.has("pad_id") ? padding.get("pad_id").asInt() : null;
        return new WordPieceTokenizer(vocab, lower, stripAccents, norm.path("clean_text").asBoolean(true),
                norm.path("handle_chinese_chars").asBoolean(true), model.path("unk_token").asText("[UNK]"),
                model.path("continuing_subword_prefix").asText("##"), model.path("max_input_chars_per_word").asInt(100),
                pad, specials, where, "WordPiece, " + (lower ? "uncased" : "cased") + ", " + vocab.size() + " tokens, from " + where);
    }

    @Override
    public String describe() {
        return source;
    }

    @Override
    public int padId() {
        return pad;
    }

    @Override
    public Encoded encode(String text, int maxTokens) {
        if (maxTokens < 2) throw new IllegalArgumentException("room for at least [CLS] and [SEP] is needed, got " + maxTokens);
        List<Integer> pieces = pieceIds(text);
        int keep = Math.min(pieces.size(), maxTokens - 2);
        int[] ids = new int[keep + 2];
        ids[0] = cls;
        for (int i = 0; i < keep; i++) ids[i + 1] = pieces.get(i);
        ids[keep + 1] = sep;
        return new Encoded(ids, keep < pieces.size());
    }

    /** The word pieces of a text as strings, without [CLS]/[SEP] (for tests and diagnostics). */
    public List<String> tokenize(String text) {
        Map<Integer, String> byId = new HashMap<>();
        vocab.forEach((k, v) -> byId.putIfAbsent(v, k));
        return pieceIds(text).stream().map(byId::get).toList();
    }

    private List<Integer> pieceIds(String text) {
        List<Integer> out = new ArrayList<>();
        int from = 0;
        while (from <= text.length()) {
            int at = -1;
            String special = null;
            for (String s : specials) {
                int k = text.indexOf(s, from);
                if (k >= 0 && (at < 0 || k < at)) {
                    at = k;
                    special = s;
                }
            }
            String chunk = at < 0 ? text.substring(from) : text.substring(from, at);
            for (String word : words(normalize(chunk))) wordPiece(word, out);
            if (at < 0) break;
            out.add(vocab.get(special));
            from = at + special.length();
        }
        return out;
    }

    String normalize(String text) {
        StringBuilder sb = new StringBuilder(text.length());
        text.codePoints().forEach(c -> {
            if (cleanText) {
                if (c == 0 || c == 0xFFFD || isControl(c)) return;
                if (isWhitespace(c)) c = ' ';
            }
            if (chineseChars && isCjk(c)) sb.append(' ').appendCodePoint(c).append(' ');
            else sb.appendCodePoint(c);
        });
        String s = sb.toString();
        if (stripAccents) {
            String nfd = Normalizer.normalize(s, Normalizer.Form.NFD);
            StringBuilder kept = new StringBuilder(nfd.length());
            nfd.codePoints().filter(c -> Character.getType(c) != Character.NON_SPACING_MARK).forEach(kept::appendCodePoint);
            s = kept.toString();
        }
        if (lowercase) {
            // Code point by code point (full mappings, no context rules such as Greek final sigma), as the Rust
            // tokenizers' char::to_lowercase does.
            StringBuilder low = new StringBuilder(s.length());
            s.codePoints().forEach(c -> low.append(new String(Character.toChars(c)).toLowerCase(Locale.ROOT)));
            s = low.toString();
        }
        return s;
    }

    /** Whitespace-separated words, with every punctuation character a word of its own. */
    static List<String> words(String text) {
        List<String> out = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        text.codePoints().forEach(c -> {
            if (isWhitespace(c) || isPunctuation(c)) {
                if (!word.isEmpty()) out.add(word.toString());
                word.setLength(0);
                if (isPunctuation(c)) out.add(new String(Character.toChars(c)));
            } else {
                word.appendCodePoint(c);
            }
        });
        if (!word.isEmpty()) out.add(word.toString());
        return out;
    }

    private void wordPiece(String word, List<Integer> out) {
        int[] cps = word.codePoints().toArray();
        if (cps.length > maxWordChars) {
            out.add(unkId);
            return;
        }
        List<Integer> pieces = new ArrayList<>();
        int start = 0;
        while (start < cps.length) {
            Integer found = null;
            int end = cps.length;
            for (; end > start; end--) {
                String sub = new String(cps, start, end - start);
                found = vocab.get(start > 0 ? prefix + sub : sub);
                if (found != null) break;
            }
            if (found == null) {
                out.add(unkId);
                return;
            }
            pieces.add(found);
            start = end;
        }
        out.addAll(pieces);
    }

    /** Unicode White_Space (what Rust's char::is_whitespace tests), tab, LF and CR included. */
    static boolean isWhitespace(int c) {
        return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A)
                || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
    }

    /**
     * Control, format, private-use and surrogate characters (Cc, Cf, Co, Cs), except tab, LF and CR, which count as
     * whitespace. Unassigned code points (Cn) are kept, as Hugging Face's tokenizers keep them (measured: "a\u0378b"
     * gives [UNK], not "ab").
     */
    static boolean isControl(int c) {
        if (c == '\t' || c == '\n' || c == '\r') return false;
        int t = Character.getType(c);
        return t == Character.CONTROL || t == Character.FORMAT || t == Character.PRIVATE_USE || t == Character.SURROGATE;
    }

    static boolean isPunctuation(int c) {
        if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126)) return true;
        int t = Character.getType(c);
        return t == Character.CONNECTOR_PUNCTUATION || t == Character.DASH_PUNCTUATION || t == Character.START_PUNCTUATION
                || t == Character.END_PUNCTUATION || t == Character.INITIAL_QUOTE_PUNCTUATION
                || t == Character.FINAL_QUOTE_PUNCTUATION || t == Character.OTHER_PUNCTUATION;
    }

    /** The CJK Unified Ideographs blocks (and compatibility ideographs) that BERT splits into single characters. */
    static boolean isCjk(int c) {
        return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF)
                || (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF)
                || (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
    }
}
