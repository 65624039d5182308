package bertj.qa;

import bertj.backend.Backends;
import bertj.encoder.BertEncoder;
import bertj.model.ModelLoader;
import bertj.testing.PyTorch;
import bertj.tokenizer.BertTokenizer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Java API on a small random model: loading, k answers, batch padding, concurrent callers, bad arguments. */
class QuestionAnswererTest {
    @TempDir
    static Path dir;
    static Path modelDir;

    @BeforeAll
    static void setUp() throws IOException {
        modelDir = QaFixtures.smallModelDir(dir.resolve("small"), PyTorch.seed("small QA model"), true, true);
    }

    static final String[][] QUESTIONS = {
            {"When was the railway station built?", QaFixtures.HISTORY},
            {"Who recorded the weather?", QaFixtures.HISTORY},
            {"How many units?", QaFixtures.longPassage(50, 5)},
            {"Who wrote it?", QaFixtures.tricky().get(4).context()},
            {"Which river flows north?", QaFixtures.tricky().get(6).context()},
            {"Where?", "😀 The museum is in the stone mill beside the falls."}};

    @Test
    void vocabularyBesideTheModelIsFoundAndAnswersComeBestFirst() {
        try (QuestionAnswerer qa = QuestionAnswerer.load(modelDir, null)) {
            List<Answer> five = qa.answers(QUESTIONS[0][0], QUESTIONS[0][1], 5);
            assertEquals(5, five.size());
            for (int i = 1; i < five.size(); i++) assertTrue(five.get(i - 1).score() >= five.get(i).score());
            assertEquals(five.get(0), qa.answer(QUESTIONS[0][0], QUESTIONS[0][1]));
            for (Answer a : five) SquadReferenceTest.checkOffsets("api", QUESTIONS[0][1], a);
        }
    }

    /** Batches are padded to their longest window; on the float64 backend, padding must not move any logit. */
    @Test
    void answersDoNotDependOnBatchPadding() {
        var loaded = ModelLoader.load(modelDir);
        BertTokenizer tok = BertTokenizer.load(modelDir.resolve("vocab.txt"), null);
        List<QuestionAnswerer.Example> ex = new ArrayList<>();
        try (QuestionAnswerer one = QuestionAnswerer.of(loaded, tok, Backends.create("reference"), QaSettings.RUN_SQUAD, 1);
             QuestionAnswerer many = QuestionAnswerer.of(loaded, tok, Backends.create("reference"), new QaSettings(128, 32, 64, 20, 30), 7);
             QuestionAnswerer manySmall = QuestionAnswerer.of(loaded, tok, Backends.create("reference"), new QaSettings(128, 32, 64, 20, 30), 1)) {
            for (String[] q : QUESTIONS) ex.add(new QuestionAnswerer.Example("", q[0], one.passage(q[1])));
            var a = manySmall.predict(ex, null);
            var b = many.predict(ex, null);
            for (int i = 0; i < ex.size(); i++) {
                assertEquals(a.get(i).size(), b.get(i).size());
                for (int k = 0; k < a.get(i).size(); k++) {
                    assertEquals(a.get(i).get(k).text(), b.get(i).get(k).text());
                    assertEquals(a.get(i).get(k).score(), b.get(i).get(k).score(), 1e-12);
                }
            }
            assertTrue(one.predict(ex, null).size() == ex.size());
        }
    }

    @Test
    void concurrentCallersGetWhatSequentialCallersGet() throws Exception {
        try (QuestionAnswerer qa = QuestionAnswerer.load(modelDir, null, QuestionAnswerer.Options.defaults().withBatchSize(2))) {
            List<Answer> sequential = new ArrayList<>();
            for (String[] q : QUESTIONS) sequential.add(qa.answer(q[0], q[1]));
            ExecutorService pool = Executors.newFixedThreadPool(6);
            try {
                List<Future<Answer>> futures = new ArrayList<>();
                for (int round = 0; round < 4; round++) {
                    for (String[] q : QUESTIONS) futures.add(pool.submit(() -> qa.answer(q[0], q[1])));
                }
                for (int i = 0; i < futures.size(); i++) assertEquals(sequential.get(i % QUESTIONS.length), futures.get(i).get());
            } finally {
                pool.shutdown();
            }
        }
    }

    @Test
    void badArgumentsAreSentences() {
        try (QuestionAnswerer qa = QuestionAnswerer.load(modelDir, null)) {
            assertEquals("the question is empty", assertThrows(IllegalArgumentException.class, () -> qa.answer("  ", "x")).getMessage());
            assertEquals("the context is empty", assertThrows(IllegalArgumentException.class, () -> qa.answer("q", "\n")).getMessage());
            assertTrue(assertThrows(IllegalArgumentException.class, () -> qa.answer("q", "\u200B\u0000")).getMessage().contains("no tokens"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> qa.answers("q", "x", 21)).getMessage().contains("n-best"));
        }
    }

    @Test
    void aModelWithoutAQaHeadIsRefused() throws IOException {
        Path noHead = QaFixtures.smallModelDir(dir.resolve("nohead"), 3, true, false);
        var e = assertThrows(RuntimeException.class, () -> QuestionAnswerer.load(noHead, null));
        assertTrue(e.getMessage().contains("no QA head"), e.getMessage());
        var loaded = ModelLoader.load(noHead);
        try (BertEncoder encoder = new BertEncoder(loaded.weights(), Backends.create("reference"))) {
            assertTrue(!encoder.hasQaHead());
        }
    }
}
