package bertj.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.CharSpan;
import bertj.testing.PyTorch;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Token spans (for /tokenize) against Hugging Face tokenizers' character offsets, on the hand-written and random
 * tokenizer corpora: the same tokens and ids as {@link BertTokenizer#encode}, and the same [start, end) code point
 * offsets as the Rust tokenizer, for every token of every text.
 */
class TokenSpansTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    static Path uncased;

    @BeforeAll
    static void vocabulary() throws IOException {
        uncased = HfTokenizers.writeMinilm(dir);
    }

    /** A lower-cased token of a decomposed accent, a dotted capital I (two code points once lower-cased), CJK, a special. */
    @Test
    void spansPointAtWhatTheUserWrote() {
        BertTokenizer tok = BertTokenizer.of(Vocabulary.load(uncased), null);
        String text = "Cafe\u0301 \u0130stanbul [SEP] 北京!";
        List<String> got = new ArrayList<>();
        for (TokenSpans.Span s : TokenSpans.of(tok, text)) got.add(s.token() + "@" + s.start() + "-" + s.end() + (s.special() ? "*" : ""));
        // "cafe": the 4 letters (the stripped combining acute after them is in no token, as in Hugging Face's);
        // "istanbul" starts at the capital İ, which lower-cases to two code points
        assertEquals(List.of("cafe@0-4", "istanbul@6-14", "[SEP]@15-20*", "北@21-22", "京@22-23", "!@23-24"), got);
    }

    @Test
    void uncased() throws IOException {
        compare(uncased, "uncased");
    }

    @Test
    void casedWithoutCleaningOrCjkSplitting() throws IOException {
        ObjectNode root = (ObjectNode) JSON.readTree(HfTokenizers.minilmTokenizerJson());
        ((ObjectNode) root.get("normalizer")).put("lowercase", false).put("strip_accents", false).put("clean_text", false)
                .put("handle_chinese_chars", false);
        Path json = dir.resolve("raw.json");
        JSON.writeValue(json.toFile(), root);
        compare(json, "cased, no cleaning, no CJK splitting");
    }

    private static void compare(Path tokenizerJson, String what) throws IOException {
        BertTokenizer mine = BertTokenizer.of(Vocabulary.load(tokenizerJson), null);
        List<String> texts = new ArrayList<>(TokenizerCorpus.handWritten());
        texts.add("Cafe\u0301 \u0130stanbul [SEP] 北京!");
        texts.addAll(TokenizerCorpus.random(PyTorch.seed("token spans, " + what), 500));
        int tokens = 0;
        try (HuggingFaceTokenizer hf = HuggingFaceTokenizer.builder().optTokenizerPath(tokenizerJson).optAddSpecialTokens(false)
                .optTruncation(false).optPadding(false).build()) {
            for (String t : texts) {
                List<TokenSpans.Span> spans = TokenSpans.of(mine, t);
                BertTokenizer.Encoding e = mine.encode(t);
                assertEquals(e.tokens(), spans.stream().map(TokenSpans.Span::token).toList(), t);
                assertEquals(Arrays.toString(e.ids()), Arrays.toString(spans.stream().mapToInt(TokenSpans.Span::id).toArray()), t);
                CharSpan[] expected = hf.encode(t).getCharTokenSpans();
                StringBuilder want = new StringBuilder(), got = new StringBuilder();
                for (CharSpan c : expected) want.append(c.getStart()).append('-').append(c.getEnd()).append(' ');
                for (TokenSpans.Span s : spans) got.append(s.start()).append('-').append(s.end()).append(' ');
                assertEquals(want.toString(), got.toString(), () -> "spans of " + t.codePoints().mapToObj(Integer::toHexString).toList());
                tokens += spans.size();
            }
        }
        System.out.println("token spans, " + what + ": " + texts.size() + " texts, " + tokens + " tokens, all equal to Hugging Face's");
    }
}
