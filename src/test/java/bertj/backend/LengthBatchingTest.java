package bertj.backend;

import bertj.backend.cpu.CpuBackend;
import bertj.backend.reference.ReferenceBackend;
import bertj.embed.SentenceEmbedder;
import bertj.encoder.BertEncoder;
import bertj.model.BertConfig;
import bertj.model.BertWeights;
import bertj.model.LoadedModel;
import bertj.model.ModelLoader;
import bertj.qa.Batches;
import bertj.qa.Feature;
import bertj.testing.PyTorch;
import bertj.testing.RandomBert;
import bertj.tokenizer.BertTokenizer;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Length-aware batching ({@link Batch#byLength}) as {@link SentenceEmbedder} and {@link Batches} use it: groups
 * respect both limits and cover every input once, and what comes back — in the caller's order — is bit for bit
 * what each input gives alone, on the cpu and reference backends.
 */
class LengthBatchingTest {

    @Test
    void groupsAreLongestFirstWithinBothLimitsAndCoverEveryIndexOnce() {
        long seed = PyTorch.seed("length batching groups");
        Random r = new Random(seed);
        for (int trial = 0; trial < 200; trial++) {
            int n = r.nextInt(60), maxSeq = 1 + r.nextInt(9), budget = 1 + r.nextInt(400);
            int[] len = new int[n];
            for (int i = 0; i < n; i++) len[i] = 1 + r.nextInt(r.nextBoolean() ? 20 : 300);
            boolean[] seen = new boolean[n];
            int previous = Integer.MAX_VALUE;
            for (int[] g : Batch.byLength(len, maxSeq, budget)) {
                assertTrue(g.length >= 1 && g.length <= maxSeq, "group of " + g.length + " with at most " + maxSeq);
                int longest = len[g[0]];
                assertTrue(g.length == 1 || g.length * longest <= budget, g.length + " x " + longest + " tokens over the budget " + budget);
                for (int k = 0; k < g.length; k++) {
                    assertTrue(!seen[g[k]], "index " + g[k] + " twice");
                    seen[g[k]] = true;
                    assertTrue(len[g[k]] <= previous, "not longest first");
                    assertTrue(k == 0 || len[g[k]] < len[g[k - 1]] || g[k] > g[k - 1], "ties out of the callers' order");
                    previous = len[g[k]];
                }
            }
            for (int i = 0; i < n; i++) assertTrue(seen[i], "index " + i + " missing");
        }
        assertThrows(IllegalArgumentException.class, () -> Batch.byLength(new int[] {3}, 0, 10));
        assertThrows(IllegalArgumentException.class, () -> Batch.byLength(new int[] {3}, 1, 0));
    }

    /** Texts of 1 to 120 words in a shuffled order; some longer than the cut. */
    private static List<String> texts(Random r, int n) {
        String[] words = "the a model sentence of attention and quick brown fox jumps over lazy dog every token counts café naïve"
                .split(" ");
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int w = i % 3 == 1 ? 30 + r.nextInt(90) : 1 + r.nextInt(12); // the first text is short
            StringBuilder sb = new StringBuilder();
            for (int k = 0; k < w; k++) sb.append(k == 0 ? "" : " ").append(words[r.nextInt(words.length)]);
            out.add(sb.toString());
        }
        return out;
    }

    @Test
    void batchedSentenceEmbeddingsEqualOneAtATimeBitForBitInTheCallersOrder() {
        long seed = PyTorch.seed("sentence embedder batching");
        Random r = new Random(seed);
        LoadedModel m = ModelLoader.load(Path.of("minilm"));
        BertTokenizer tok = BertTokenizer.load(m.vocab(), null);
        // all-MiniLM-L6-v2 on the cpu backend; a tiny random model with the same vocabulary on the (slow) float64 one
        BertConfig small = new BertConfig(m.config().vocabSize(), 32, 2, 4, 64, 64, 2, 1e-12, bertj.model.GeluForm.ERF);
        BertWeights smallWeights = BertWeights.of(small, RandomBert.tensors(small, seed));
        for (String backend : new String[] {"cpu", "reference"}) {
            List<String> texts = texts(r, 24);
            try (BertEncoder enc = backend.equals("cpu") ? new BertEncoder(m.weights(), new CpuBackend(2))
                    : new BertEncoder(smallWeights, new ReferenceBackend())) {
                SentenceEmbedder e = new SentenceEmbedder(enc, tok, SentenceEmbedder.Pooling.MEAN, true, 40);
                // a small budget: several groups, the long texts alone
                List<SentenceEmbedder.Embedding> batched = e.embed(texts, 6, 100);
                assertEquals(texts.size(), batched.size());
                boolean truncated = false;
                for (int i = 0; i < texts.size(); i++) {
                    SentenceEmbedder.Embedding alone = e.embed(List.of(texts.get(i)), 1).get(0);
                    SentenceEmbedder.Embedding b = batched.get(i);
                    assertSame(texts.get(i), b.text(), backend + ": text " + i + " out of order");
                    assertEquals(alone.tokens(), b.tokens());
                    assertEquals(alone.truncated(), b.truncated());
                    truncated |= b.truncated();
                    assertArrayEquals(alone.vector(), b.vector(), 0.0, backend + ": text " + i + " batched differs from alone");
                }
                assertTrue(truncated, "no text reached the cut; the test should cover one");
                // the batches were not in the callers' order (else a lost reordering would go unseen)
                int[] len = batched.stream().mapToInt(SentenceEmbedder.Embedding::tokens).toArray();
                assertNotEquals(0, Batch.byLength(len, 6, 100).get(0)[0]);
                System.out.printf("%s: %d texts in %d groups equal one at a time, bit for bit%n", backend, texts.size(),
                        Batch.byLength(len, 6, 100).size());
            }
        }
    }

    @Test
    void batchedQaLogitsEqualOneAtATimeBitForBitInTheCallersOrder() {
        long seed = PyTorch.seed("qa batches");
        Random r = new Random(seed);
        BertConfig c = RandomBert.TINY;
        BertWeights w = BertWeights.of(c, RandomBert.tensors(c, seed));
        List<Feature> features = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            int len = 2 + r.nextInt(c.maxPositions() - 1);
            int[] ids = new int[len], types = new int[len];
            for (int t = 0; t < len; t++) {
                ids[t] = r.nextInt(c.vocabSize());
                types[t] = t > len / 2 ? 1 : 0;
            }
            features.add(new Feature(i, 0, List.of(), ids, types, new int[0], new boolean[0], 0));
        }
        for (String backend : new String[] {"cpu", "reference"}) {
            try (BertEncoder enc = new BertEncoder(w, backend.equals("cpu") ? new CpuBackend(2) : new ReferenceBackend())) {
                Batches.Logits batched = Batches.run(enc, enc, features, 7, 40, 0, 0, null);
                Batches.Logits alone = Batches.run(enc, enc, features, 1, 0, null);
                for (int i = 0; i < features.size(); i++) {
                    assertEquals(features.get(i).length(), batched.start()[i].length);
                    assertArrayEquals(alone.start()[i], batched.start()[i], 0.0, backend + ": start logits of feature " + i);
                    assertArrayEquals(alone.end()[i], batched.end()[i], 0.0, backend + ": end logits of feature " + i);
                }
                // and different features do give different logits (a mix-up would be seen)
                assertTrue(!Arrays.equals(batched.start()[0], batched.start()[1]));
            }
        }
    }
}
