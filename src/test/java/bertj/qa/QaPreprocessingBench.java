package bertj.qa;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import bertj.tokenizer.BertTokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Benchmark, not a test (its name keeps it out of the suite; it asserts nothing about speed): the text side of a
 * SQuAD v1.1 dev run — tokenize 2,067 passages and 10,570 questions, build the windows, decode answers from logits —
 * on a synthetic set of the dev set's size (passages of ~750 characters cut from the license texts in
 * /usr/share/common-licenses, questions of ~10 words from the same text). Peer, in the same run: Hugging Face
 * tokenizers (Rust, through DJL) encoding the same passages and questions.
 * <p>
 * Run: {@code mvn -o -q test -Dtest=QaPreprocessingBench -Dsurefire.failIfNoSpecifiedTests=false}
 */
class QaPreprocessingBench {
    static final int PARAGRAPHS = 2067, QUESTIONS = 10570, RUNS = 7;

    @Test
    void squadDevSized(@TempDir Path dir) throws IOException {
        StringBuilder corpus = new StringBuilder();
        Path licenses = Path.of("/usr/share/common-licenses");
        if (Files.isDirectory(licenses)) {
            try (var files = Files.list(licenses)) {
                for (Path p : files.sorted().toList()) {
                    if (Files.isRegularFile(p)) corpus.append(Files.readString(p)).append('\n');
                }
            }
        }
        if (corpus.length() < 100_000) corpus.append(QaFixtures.longPassage(20_000, 1));
        String text = corpus.toString().replaceAll("\\s+", " ");
        Random r = new Random(42);
        List<String> contexts = new ArrayList<>(), questions = new ArrayList<>();
        List<Integer> owner = new ArrayList<>();
        for (int i = 0; i < PARAGRAPHS; i++) {
            int at = r.nextInt(text.length() - 1000);
            contexts.add(text.substring(at, at + 650 + r.nextInt(200)));
        }
        String[] words = text.split(" ");
        for (int i = 0; i < QUESTIONS; i++) {
            int at = r.nextInt(words.length - 12);
            questions.add(String.join(" ", Arrays.asList(words).subList(at, at + 6 + r.nextInt(8))) + "?");
            owner.add(i * PARAGRAPHS / QUESTIONS);
        }
        long chars = 0;
        for (String c : contexts) chars += c.length();
        System.out.printf("synthetic SQuAD-dev-sized set: %,d passages (%,d characters), %,d questions%n", PARAGRAPHS, chars, QUESTIONS);

        BertTokenizer tok = BertTokenizer.load(QaFixtures.vocabTxt(dir), null);
        Path json = dir.resolve("tokenizer.json");
        try (var in = getClass().getClassLoader().getResourceAsStream("all-minilm-l6-v2-tokenizer.json")) {
            Files.copy(in, json);
        }
        System.setProperty("ai.djl.offline", "true");
        List<String> all = new ArrayList<>(contexts);
        all.addAll(questions);

        double[] ours = new double[RUNS], oursTok = new double[RUNS], peer = new double[RUNS], decode = new double[RUNS];
        int windows = 0;
        try (HuggingFaceTokenizer hf = HuggingFaceTokenizer.builder().optTokenizerPath(json).optAddSpecialTokens(false)
                .optTruncation(false).optPadding(false).build()) {
            for (int run = -2; run < RUNS; run++) {
                long t0 = System.nanoTime();
                List<Passage> passages = new ArrayList<>(PARAGRAPHS);
                for (String c : contexts) passages.add(Passage.of(c, tok));
                List<List<Feature>> features = new ArrayList<>(QUESTIONS);
                for (int i = 0; i < QUESTIONS; i++) {
                    var q = tok.encode(questions.get(i));
                    features.add(Features.build(i, q.tokens(), q.ids(), passages.get(owner.get(i)), tok.vocab(), QaSettings.RUN_SQUAD));
                }
                long t1 = System.nanoTime();
                long tokens = 0;
                for (String s : all) tokens += tok.encode(s).ids().length;
                long t2 = System.nanoTime();
                long hfTokens = 0;
                for (int i = 0; i < all.size(); i += 1024) {
                    for (var e : hf.batchEncode(all.subList(i, Math.min(all.size(), i + 1024)))) hfTokens += e.getIds().length;
                }
                long t3 = System.nanoTime();
                // decoding with random logits: n-best selection, candidates, final text, softmax
                Random lr = new Random(run + 100);
                for (int i = 0; i < QUESTIONS; i++) {
                    List<double[]> s = new ArrayList<>(), e = new ArrayList<>();
                    for (Feature f : features.get(i)) {
                        double[] a = new double[f.length()], b = new double[f.length()];
                        for (int k = 0; k < a.length; k++) {
                            a[k] = lr.nextGaussian();
                            b[k] = lr.nextGaussian();
                        }
                        s.add(a);
                        e.add(b);
                    }
                    SpanDecoder.decode(passages.get(owner.get(i)), features.get(i), s, e, QaSettings.RUN_SQUAD, tok.basic());
                }
                long t4 = System.nanoTime();
                if (tokens != hfTokens) throw new AssertionError("token counts differ: " + tokens + " vs " + hfTokens);
                windows = features.stream().mapToInt(List::size).sum();
                if (run >= 0) {
                    ours[run] = (t1 - t0) / 1e9;
                    oursTok[run] = (t2 - t1) / 1e9;
                    peer[run] = (t3 - t2) / 1e9;
                    // logit generation is included; it is small next to decoding
                    decode[run] = (t4 - t3) / 1e9;
                }
            }
        }
        System.out.printf("windows: %,d%n", windows);
        System.out.printf("tokenize + windows (ours, 1 thread):       median %.3f s  (runs %s)%n", median(ours), Arrays.toString(round(ours)));
        System.out.printf("tokenize only, same texts (ours, 1 thread): median %.3f s%n", median(oursTok));
        System.out.printf("tokenize only, same texts (HF tokenizers via DJL, batchEncode): median %.3f s; ours/HF = %.2f%n",
                median(peer), median(oursTok) / median(peer));
        System.out.printf("decode n-best from random logits (ours):   median %.3f s%n", median(decode));
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    static double[] round(double[] v) {
        double[] o = new double[v.length];
        for (int i = 0; i < v.length; i++) o[i] = Math.round(v[i] * 1000) / 1000.0;
        return o;
    }
}
