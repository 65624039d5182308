package bertj.fuzz;

import bertj.readers.ModelFileException;
import bertj.tokenizer.BertTokenizer;
import bertj.tokenizer.HfTokenizers;
import bertj.tokenizer.TokenizerCorpus;
import bertj.tokenizer.Vocabulary;
import com.code_intelligence.jazzer.junit.DictionaryFile;
import com.code_intelligence.jazzer.junit.FuzzTest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

/**
 * The tokenizer on arbitrary text, differentially against Hugging Face tokenizers (the Rust library, through DJL)
 * on BERT's uncased vocabulary and the three other normalizer settings the parity tests use
 * ({@link HfTokenizers.Variant}). An input's first byte picks the variant (bits 0–1) and how the rest becomes text
 * (bit 2: UTF-16 code units, which can hold lone surrogates; else UTF-8). Properties: identical ids to Hugging
 * Face's on the text with lone surrogates replaced by U+FFFD (Rust strings cannot hold them); on the raw text no
 * exception, ids that agree with the tokens and the vocabulary, and passage words whose offsets are in range and
 * monotonic ({@link TokenChecks}).
 */
class TokenizerFuzzTest {
    private static BertTokenizer[] ours;
    private static HfTokenizers[] theirs;

    private static synchronized void init() throws IOException {
        if (ours != null) return;
        HfTokenizers.Variant[] vs = HfTokenizers.Variant.values();
        Path dir = Files.createTempDirectory("bertj-fuzz-tokenizers");
        dir.toFile().deleteOnExit();
        BertTokenizer[] o = new BertTokenizer[vs.length];
        HfTokenizers[] t = new HfTokenizers[vs.length];
        for (int i = 0; i < vs.length; i++) {
            Path p = dir.resolve(vs[i].name().toLowerCase() + ".json");
            Files.writeString(p, HfTokenizers.json(vs[i]));
            p.toFile().deleteOnExit();
            o[i] = BertTokenizer.of(Vocabulary.load(p), null);
            t[i] = new HfTokenizers(p);
        }
        ours = o;
        theirs = t;
    }

    @AfterAll
    static synchronized void close() {
        if (theirs != null) for (HfTokenizers t : theirs) t.close();
        ours = null;
        theirs = null;
    }

    static String text(byte[] rest, boolean utf16) {
        if (!utf16) return new String(rest, StandardCharsets.UTF_8);
        char[] c = new char[rest.length / 2];
        for (int i = 0; i < c.length; i++) c[i] = (char) ((rest[2 * i] & 0xff) | (rest[2 * i + 1] & 0xff) << 8);
        return new String(c);
    }

    /** Lone surrogates replaced by U+FFFD, as a Rust string would have to hold the text. */
    static String wellFormed(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                sb.append(c).append(s.charAt(++i));
            } else {
                sb.append(Character.isSurrogate(c) ? '\uFFFD' : c);
            }
        }
        return sb.toString();
    }

    static byte[] utf8(int variant, String text) {
        return new FuzzInput.Writer().u8(variant).rest(text.getBytes(StandardCharsets.UTF_8)).toBytes();
    }

    static byte[] utf16(int variant, String text) {
        FuzzInput.Writer w = new FuzzInput.Writer().u8(4 | variant);
        for (char c : text.toCharArray()) w.u8(c & 0xff).u8(c >>> 8);
        return w.toBytes();
    }

    static Stream<Arguments> seeds() {
        List<Arguments> seeds = new ArrayList<>();
        List<String> texts = TokenizerCorpus.handWritten();
        for (int i = 0; i < texts.size(); i++) {
            String t = texts.get(i);
            if (t.getBytes(StandardCharsets.UTF_8).length > 2000) continue;
            seeds.add(Arguments.of(Named.of("hand-written " + i + ", variant " + i % 4, utf8(i % 4, t))));
        }
        seeds.add(Arguments.of(Named.of("lone surrogates", utf16(0, "a\uD800b \uDC00c \uDBFF\uDFFF d\uD83D"))));
        seeds.add(Arguments.of(Named.of("special tokens", utf8(2, "[CLS] who[SEP]what [MASK][UNK] [PAD]x"))));
        return seeds.stream();
    }

    @MethodSource("seeds")
    @DictionaryFile(resourcePath = "tokenizer.dict")
    @FuzzTest
    void tokenizer(byte[] input) throws IOException {
        init(); // once per JVM, outside the timed body
        Contract.holds(() -> {
            FuzzInput in = new FuzzInput(input);
            int mode = in.u8();
            int variant = (mode & 3) % ours.length;
            String raw = text(in.rest(), (mode & 4) != 0);
            BertTokenizer t = ours[variant];
            int[] rawIds = TokenChecks.encoding(t, raw).ids();
            TokenChecks.passage(raw, t);
            String clean = wellFormed(raw);
            int[] mine = clean.equals(raw) ? rawIds : t.encode(clean).ids(), hf = theirs[variant].ids(clean);
            if (!Arrays.equals(mine, hf)) {
                throw new AssertionError(HfTokenizers.Variant.values()[variant] + ": ids differ from Hugging Face's on "
                        + escape(clean) + "\n  bertj " + Arrays.toString(mine) + "\n  HF    " + Arrays.toString(hf));
            }
        }, ModelFileException.class);
    }

    static String escape(String s) {
        StringBuilder sb = new StringBuilder("\"");
        s.codePoints().forEach(c -> sb.append(c >= 32 && c < 127 ? Character.toString(c) : String.format("\\u{%X}", c)));
        return sb.append('"').toString();
    }
}
