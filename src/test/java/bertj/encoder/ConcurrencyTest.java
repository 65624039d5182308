package bertj.encoder;

import bertj.backend.Backend;
import bertj.backend.Backends;
import bertj.backend.Batch;
import bertj.backend.cpu.CpuBackend;
import bertj.embed.SentenceEmbedder;
import bertj.embed.SentenceEmbedder.Embedding;
import bertj.embed.SentenceEmbedder.Pooling;
import bertj.model.LoadedModel;
import bertj.model.ModelLoader;
import bertj.qa.Answer;
import bertj.qa.QaSettings;
import bertj.qa.QuestionAnswerer;
import bertj.testing.MiniLm;
import bertj.testing.PyTorch;
import bertj.tokenizer.BertTokenizer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Many threads on one model: the public API types either serve concurrent callers correctly (BertEncoder,
 * SentenceEmbedder, QuestionAnswerer: results bit-identical to sequential calls) or refuse a second caller at
 * once (a bare Backend). Nothing may hang: every test runs under a preemptive time limit, so a deadlock fails it
 * (before the fix, 8 threads calling one SentenceEmbedder parked forever in the cpu backend's worker pool).
 */
class ConcurrencyTest {
    private static final Duration LIMIT = Duration.ofSeconds(120);
    private static LoadedModel minilm;
    private static BertTokenizer minilmTokenizer;

    @BeforeAll
    static void load() {
        minilm = ModelLoader.load(Path.of("minilm"));
        minilmTokenizer = BertTokenizer.load(minilm.vocabulary(null), null);
    }

    /** Texts of mixed lengths drawn from the MiniLM sentences, so that batches pad differently. */
    private static List<List<String>> workload(Random r, int calls) {
        List<List<String>> out = new ArrayList<>();
        for (int c = 0; c < calls; c++) {
            List<String> texts = new ArrayList<>();
            for (int i = 1 + r.nextInt(3); i > 0; i--) texts.add(MiniLm.SENTENCES.get(r.nextInt(MiniLm.SENTENCES.size())));
            out.add(texts);
        }
        return out;
    }

    @Test
    void manyThreadsOnOneSentenceEmbedderGetWhatSequentialCallsGet() {
        long seed = PyTorch.seed("concurrent embed");
        List<List<String>> calls = workload(new Random(seed), 160);
        try (BertEncoder encoder = new BertEncoder(minilm.weights(), Backends.create("cpu"))) {
            SentenceEmbedder embedder = new SentenceEmbedder(encoder, minilmTokenizer, Pooling.MEAN, true, 256);
            List<List<Embedding>> sequential = new ArrayList<>();
            for (List<String> texts : calls) sequential.add(embedder.embed(texts, 2));
            int threads = 8;
            long t0 = System.nanoTime();
            List<List<Embedding>> concurrent = assertTimeoutPreemptively(LIMIT, () -> runAll(threads, calls.size(), i -> embedder.embed(calls.get(i), 2)),
                    "concurrent embed() calls hung");
            System.out.printf("[concurrency] %d threads x %d embed() calls on one SentenceEmbedder (minilm, cpu): %.1f s%n",
                    threads, calls.size() / threads, (System.nanoTime() - t0) / 1e9);
            for (int i = 0; i < calls.size(); i++) {
                for (int j = 0; j < calls.get(i).size(); j++) {
                    assertArrayEquals(sequential.get(i).get(j).vector(), concurrent.get(i).get(j).vector(), 0.0, "call " + i + ", text " + j);
                }
            }
        }
    }

    /** A SentenceEmbedder on a QuestionAnswerer's encoder (one backend, two APIs) used from many threads at once. */
    @Test
    void embedderSharingAQuestionAnswerersEncoderDoesNotDeadlock(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path modelDir = bertj.qa.QaFixturesAccess.smallModelDir(dir, PyTorch.seed("concurrent qa+embed"));
        try (QuestionAnswerer qa = QuestionAnswerer.load(modelDir, null, QuestionAnswerer.Options.defaults().withBatchSize(2))) {
            SentenceEmbedder embedder = new SentenceEmbedder(qa.encoder(), qa.tokenizer(), Pooling.CLS, false, 64);
            String question = "When was the railway station built?", context = bertj.qa.QaFixturesAccess.history();
            Answer wantAnswer = qa.answer(question, context);
            double[] wantVector = embedder.embed(List.of(question), 1).get(0).vector();
            int calls = 160;
            List<Object> got = assertTimeoutPreemptively(LIMIT, () -> runAll(8, calls,
                    i -> i % 2 == 0 ? qa.answer(question, context) : embedder.embed(List.of(question), 1).get(0).vector()),
                    "QuestionAnswerer and SentenceEmbedder on one encoder hung");
            for (int i = 0; i < calls; i++) {
                if (i % 2 == 0) assertEquals(wantAnswer, got.get(i), "answer " + i);
                else assertArrayEquals(wantVector, (double[]) got.get(i), 0.0, "embedding " + i);
            }
        }
    }

    /**
     * close() while other threads are asking: it waits for the pass in progress, then every later call fails
     * with IllegalStateException. No call hangs, no call returns a wrong answer, nothing else is thrown.
     */
    @Test
    void closeDuringUseWaitsForThePassAndThenRefuses(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path modelDir = bertj.qa.QaFixturesAccess.smallModelDir(dir, PyTorch.seed("close during use"));
        QuestionAnswerer qa = QuestionAnswerer.load(modelDir, null);
        String question = "Who recorded the weather?", context = bertj.qa.QaFixturesAccess.history();
        Answer want = qa.answer(question, context);
        AtomicInteger answered = new AtomicInteger(), refused = new AtomicInteger();
        CountDownLatch started = new CountDownLatch(4);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                futures.add(pool.submit(() -> {
                    started.countDown();
                    for (int i = 0; i < 10_000; i++) {
                        try {
                            assertEquals(want, qa.answer(question, context));
                            answered.incrementAndGet();
                        } catch (IllegalStateException closed) {
                            assertTrue(closed.getMessage().contains("closed"), closed.getMessage());
                            refused.incrementAndGet();
                            return null;
                        }
                    }
                    return null;
                }));
            }
            started.await();
            Thread.sleep(300);
            assertTimeoutPreemptively(LIMIT, qa::close, "close() hung");
            for (Future<?> f : futures) f.get(LIMIT.toSeconds(), TimeUnit.SECONDS);
        } finally {
            pool.shutdownNow();
        }
        System.out.printf("[concurrency] close during use: %d answers before close, %d threads refused after%n", answered.get(), refused.get());
        assertEquals(4, refused.get(), "every thread sees the close");
        assertTrue(answered.get() > 0, "answers were given before the close");
        assertThrows(IllegalStateException.class, () -> qa.answer(question, context));
        qa.close(); // idempotent
    }

    /** A bare backend serves one pass at a time: a second thread's begin() is refused at once, not left to hang. */
    @Test
    void aBackendRefusesASecondConcurrentPass() throws Exception {
        for (String name : List.of("cpu", "opencl")) { // opencl: PoCL in CI, as the other opencl tests

            try (Backend be = Backends.create(name)) {
                Batch batch = new Batch(1, 1, new int[1], new int[1], new int[] {1});
                be.begin(batch);
                Throwable[] seen = new Throwable[1];
                Thread other = new Thread(() -> {
                    try {
                        be.begin(batch);
                    } catch (Throwable e) {
                        seen[0] = e;
                    }
                });
                other.start();
                other.join(LIMIT.toMillis());
                assertTrue(!other.isAlive(), name + ": begin() from a second thread hung");
                assertTrue(seen[0] instanceof IllegalStateException, name + ": " + seen[0]);
                assertTrue(seen[0].getMessage().contains("one caller at a time"), seen[0].getMessage());
                be.end();
                be.begin(batch); // usable again once the pass has ended
                be.end();
            }
        }
    }

    /** The encoder's turns are what makes a shared cpu backend safe: 2 threads × many passes, one backend. */
    @Test
    void forwardPassesOnOneEncoderFromManyThreadsAreBitIdentical() {
        try (BertEncoder encoder = new BertEncoder(minilm.weights(), new CpuBackend(2))) {
            Random r = new Random(PyTorch.seed("concurrent forward"));
            List<Batch> batches = new ArrayList<>();
            for (int i = 0; i < 60; i++) {
                int size = 1 + r.nextInt(3), seq = 2 + r.nextInt(40);
                int[] ids = new int[size * seq], types = new int[size * seq], mask = new int[size * seq];
                for (int t = 0; t < ids.length; t++) {
                    ids[t] = r.nextInt(30522);
                    mask[t] = t % seq < seq - r.nextInt(2) ? 1 : 0;
                }
                batches.add(new Batch(size, seq, ids, types, mask));
            }
            List<double[]> sequential = new ArrayList<>();
            for (Batch b : batches) sequential.add(encoder.forward(b, true, null).lastHidden());
            List<double[]> concurrent = assertTimeoutPreemptively(LIMIT,
                    () -> runAll(6, batches.size(), i -> encoder.forward(batches.get(i), true, null).lastHidden()), "forward() hung");
            for (int i = 0; i < batches.size(); i++) assertArrayEquals(sequential.get(i), concurrent.get(i), 0.0, "batch " + i);
        }
    }

    interface Call<T> {
        T run(int i) throws Exception;
    }

    /** Runs call(0..n−1) on {@code threads} threads, all released at once; results in index order. */
    private static <T> List<T> runAll(int threads, int n, Call<T> call) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch go = new CountDownLatch(1);
        try {
            List<Future<T>> futures = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                int index = i;
                futures.add(pool.submit(() -> {
                    go.await();
                    return call.run(index);
                }));
            }
            go.countDown();
            List<T> out = new ArrayList<>();
            for (Future<T> f : futures) out.add(f.get());
            return out;
        } finally {
            pool.shutdownNow();
            if (!pool.awaitTermination(10, TimeUnit.SECONDS)) fail("worker threads did not stop");
        }
    }
}
