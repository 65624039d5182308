package bertj.qa;

import bertj.testing.Cli;
import bertj.testing.PyTorch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue item 7: every bad input to tokenize, qa and squad ends in one line on stderr that says what to do, with
 * exit 1 (2 for usage errors) — no stack trace, no hang — or in documented behaviour.
 */
class BadInputTest {
    @TempDir
    static Path dir;
    static Path model, vocab;

    @BeforeAll
    static void setUp() throws IOException {
        model = QaFixtures.smallModelDir(dir.resolve("model"), PyTorch.seed("bad-input model"), true, true);
        vocab = model.resolve("vocab.txt");
    }

    /** Exit code and a single stderr line containing every fragment. */
    static Cli.Result fails(int code, List<String> fragments, String... args) {
        Cli.Result r = Cli.run(args);
        assertEquals(code, r.code(), "exit code of " + String.join(" ", args) + "\nstdout: " + r.out() + "\nstderr: " + r.err());
        assertEquals(1, r.errLines().length, "one line on stderr, got: " + r.err());
        assertFalse(r.err().contains("\tat ") || r.err().contains("Exception"), "no stack trace or exception name: " + r.err());
        assertTrue(r.err().startsWith("bertj: "), r.err());
        for (String f : fragments) assertTrue(r.err().contains(f), "stderr should mention '" + f + "': " + r.err());
        return r;
    }

    static Path file(String name, byte[] bytes) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    static Path file(String name, String text) throws IOException {
        return file(name, text.getBytes(StandardCharsets.UTF_8));
    }

    String[] qa(String... extra) {
        String[] base = {"qa", "--model", model.toString()};
        String[] all = new String[base.length + extra.length];
        System.arraycopy(base, 0, all, 0, base.length);
        System.arraycopy(extra, 0, all, base.length, extra.length);
        return all;
    }

    @Test
    void emptyQuestionOrContext() throws IOException {
        fails(1, List.of("the question is empty"), qa("--question", "", "--context", "Some text."));
        fails(1, List.of("the question is empty"), qa("--question", " \t", "--context", "Some text."));
        fails(1, List.of("the context is empty"), qa("--question", "Why?", "--context", ""));
        Path blank = file("blank.txt", "\n  \n");
        fails(1, List.of("blank.txt", "the passage is empty"), qa("--question", "Why?", "--context-file", blank.toString()));
        fails(1, List.of("no tokens"), qa("--question", "Why?", "--context", "\u200B\u200B\u0000"));
        fails(2, List.of("--context"), qa("--question", "Why?"));
    }

    @Test
    void oneMegabyteContextIsRefusedWithTheWayToRunItAnyway() throws IOException {
        String big = QaFixtures.longPassage(16_000, 1);
        assertTrue(big.length() > 1_000_000);
        Path f = file("big.txt", big);
        fails(1, List.of("over the limit of 100,000", "--max-context-chars"), qa("--question", "How many?", "--context-file", f.toString()));
        // the text side of a megabyte is quick: words, tokens and windows of the whole context
        var tok = bertj.tokenizer.BertTokenizer.load(vocab, null);
        Passage p = Passage.of(big, tok);
        var q = tok.encode("How many?");
        List<Feature> fs = Features.build(0, q.tokens(), q.ids(), p, tok.vocab(), QaSettings.RUN_SQUAD);
        assertTrue(p.tokens().size() > 200_000, "tokens: " + p.tokens().size());
        // windows: 1 + ceil((tokens − room) / stride), room = 384 − 3 − 3 question tokens
        int room = 384 - 3 - q.ids().length;
        assertEquals(1 + (p.tokens().size() - room + 127) / 128, fs.size());
        System.out.printf("1 MB context: %,d characters, %,d words, %,d tokens, %,d windows%n", big.length(), p.words().size(),
                p.tokens().size(), fs.size());
    }

    @Test
    void invalidUtf8InEveryInputFile() throws IOException {
        byte[] bad = {'T', 'h', 'e', ' ', (byte) 0xE2, (byte) 0x28, (byte) 0xA1, ' ', 'x', '\n'};
        Path ctx = file("bad-context.txt", bad);
        fails(1, List.of("bad-context.txt", "not valid UTF-8", "byte offset 4"), qa("--question", "Q?", "--context-file", ctx.toString()));
        Path jsonl = file("bad.jsonl", bad);
        fails(1, List.of("bad.jsonl", "not valid UTF-8"), "tokenize", "--vocab", vocab.toString(), "--input-file", jsonl.toString());
        Path data = file("bad-squad.json", bad);
        fails(1, List.of("bad-squad.json", "not valid UTF-8"), "squad", "--model", model.toString(), "--data", data.toString(),
                "--out", dir.resolve("never.json").toString());
        Path v = file("bad-vocab.txt", bad);
        fails(1, List.of("bad-vocab.txt", "not valid UTF-8"), "tokenize", "--vocab", v.toString(), "text");
        assertFalse(Files.exists(dir.resolve("never.json")));
    }

    @Test
    void vocabularyWithoutSpecialTokens() throws IOException {
        Path noCls = file("nocls.txt", "[PAD]\n[UNK]\n[SEP]\nhello\n");
        fails(1, List.of("nocls.txt", "[CLS]"), "tokenize", "--vocab", noCls.toString(), "hello");
        Path noUnk = file("nounk.txt", "[PAD]\n[CLS]\n[SEP]\nhello\n");
        fails(1, List.of("nounk.txt", "[UNK]"), qa("--vocab", noUnk.toString(), "--question", "Q?", "--context", "hello"));
        Path empty = file("empty.txt", "");
        fails(1, List.of("empty.txt", "empty"), "tokenize", "--vocab", empty.toString(), "hello");
        fails(1, List.of("no such file"), "tokenize", "--vocab", dir.resolve("missing.txt").toString(), "hello");
    }

    @Test
    void modelWithoutVocabularyOrQaHead() throws IOException {
        Path bare = QaFixtures.smallModelDir(dir.resolve("bare"), 5, false, true);
        fails(1, List.of("no vocabulary", "--vocab"), "qa", "--model", bare.toString(), "--question", "Q?", "--context", "x");
        Path noHead = QaFixtures.smallModelDir(dir.resolve("nohead"), 6, true, false);
        fails(1, List.of("no QA head"), "qa", "--model", noHead.toString(), "--question", "Q?", "--context", "x");
    }

    @Test
    void squadFilesWithTheWrongSchema() throws IOException {
        String[][] cases = {
                {"not json {", "not valid JSON"},
                {"[1, 2]", "JSON object"},
                {"{\"version\": \"1.1\"}", "data: missing or not an array"},
                {"{\"data\": [{\"paragraphs\": {}}]}", "data[0].paragraphs: missing or not an array"},
                {"{\"data\": [{\"paragraphs\": [{\"qas\": []}]}]}", "data[0].paragraphs[0].context: missing"},
                {"{\"data\": [{\"paragraphs\": [{\"context\": \"c\", \"qas\": [{\"id\": \"1\", \"question\": 7}]}]}]}",
                        "data[0].paragraphs[0].qas[0].question: must be a string"},
                {"{\"data\": [{\"paragraphs\": [{\"context\": \"c\", \"qas\": [{\"id\": \"1\", \"question\": \"q\", \"answers\": {}}]}]}]}",
                        "qas[0].answers: must be an array"},
                {"{\"data\": [{\"paragraphs\": [{\"context\": \"c\", \"qas\": [{\"id\": \"1\", \"question\": \"q\"}, {\"id\": \"1\", \"question\": \"r\"}]}]}]}",
                        "qas[1].id: \"1\" is used by another question"},
                {"{\"data\": [{\"paragraphs\": [{\"context\": \"c\", \"qas\": [{\"id\": \"1\", \"question\": \"q\", \"answers\": [{\"answer_start\": 0}]}]}]}]}",
                        "answers[0].text: missing"},
                // issue 9 items 4 and 5: a SQuAD v2.0 file, an unanswerable question, an empty question
                {"{\"version\": \"v2.0\", \"data\": [{\"paragraphs\": [{\"context\": \"c\", \"qas\": [{\"id\": \"1\", \"question\": \"q\"}]}]}]}",
                        "version \"v2.0\": a SQuAD v2.0 file"},
                {"{\"data\": [{\"paragraphs\": [{\"context\": \"c\", \"qas\": [{\"id\": \"x9\", \"question\": \"q\", \"answers\": [], \"is_impossible\": true}]}]}]}",
                        "data[0].paragraphs[0].qas[0].is_impossible: question \"x9\" is marked unanswerable (SQuAD v2.0)"},
                {"{\"version\": \"1.1\", \"data\": [{\"paragraphs\": [{\"context\": \"c\", \"qas\": [{\"id\": \"q7\", \"question\": \" \\t\"}]}]}]}",
                        "data[0].paragraphs[0].qas[0].question: question \"q7\" is empty"},
        };
        for (int i = 0; i < cases.length; i++) {
            Path data = file("schema-" + i + ".json", cases[i][0]);
            fails(1, List.of("schema-" + i + ".json", cases[i][1]), "squad", "--model", model.toString(), "--data", data.toString(),
                    "--out", dir.resolve("never-" + i + ".json").toString());
            assertFalse(Files.exists(dir.resolve("never-" + i + ".json")));
        }
    }

    @Test
    void outputFilesAreNeverOverwrittenWithoutForce() throws IOException {
        Path data = file("ok-squad.json", "{\"data\": [{\"paragraphs\": [{\"context\": \"Ann went home.\", \"qas\": [{\"id\": \"1\", \"question\": \"Who?\"}]}]}]}");
        Path existing = file("existing.json", "keep me");
        fails(1, List.of("already exists", "--force"), "squad", "--model", model.toString(), "--data", data.toString(), "--out", existing.toString());
        assertEquals("keep me", Files.readString(existing));
        Path nbest = file("existing-nbest.json", "keep me too");
        fails(1, List.of("already exists", "--nbest-out"), "squad", "--model", model.toString(), "--data", data.toString(),
                "--out", dir.resolve("fresh.json").toString(), "--nbest-out", nbest.toString());
        assertFalse(Files.exists(dir.resolve("fresh.json")));
        fails(1, List.of("is a directory"), "squad", "--model", model.toString(), "--data", data.toString(), "--out", dir.toString());
        fails(1, List.of("does not exist"), "squad", "--model", model.toString(), "--data", data.toString(),
                "--out", dir.resolve("no/such/dir/p.json").toString());
        Cli.Result r = Cli.run("squad", "--model", model.toString(), "--data", data.toString(), "--out", existing.toString(),
                "--force", "--progress", "none");
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.readString(existing).contains("\"1\""));
        assertEquals("", r.out(), "no answers in the file: no metrics");
    }

    @Test
    void badSettings() {
        fails(2, List.of("--top-k"), qa("--question", "Q?", "--context", "x", "--top-k", "0"));
        fails(2, List.of("--top-k"), qa("--question", "Q?", "--context", "x", "--top-k", "21"));
        fails(2, List.of("max sequence length 10"), qa("--question", "Q?", "--context", "x", "--max-seq-length", "10"));
        fails(2, List.of("doc stride"), qa("--question", "Q?", "--context", "x", "--doc-stride", "0"));
        fails(1, List.of("exceeds the model's 512 positions"), qa("--question", "Q?", "--context", "x", "--max-seq-length", "600"));
        fails(2, List.of("--progress"), "squad", "--model", model.toString(), "--data", "x.json", "--out", "y.json", "--progress", "fancy");
        fails(2, List.of("--decoding must be nvidia or masked"), qa("--question", "Q?", "--context", "x", "--decoding", "hf"));
        fails(2, List.of("--decoding must be nvidia or masked"), "squad", "--model", model.toString(), "--data", "x.json", "--out", "y.json",
                "--decoding", "NVIDIA");
        fails(2, List.of("--lowercasing must be hf or python"), qa("--question", "Q?", "--context", "x", "--lowercasing", "java"));
        fails(2, List.of("--lowercasing must be hf or python"), "tokenize", "--vocab", vocab.toString(), "--lowercasing", "", "x");
    }

    @Test
    void tokenizeInputs() throws IOException {
        fails(2, List.of("either TEXT or --input-file"), "tokenize", "--vocab", vocab.toString());
        Path ok = file("ok.jsonl", "{\"text\": \"Hello\"}\n{\"text\": \"world\"}\n");
        fails(2, List.of("not both"), "tokenize", "--vocab", vocab.toString(), "--input-file", ok.toString(), "text");
        Path badLine = file("badline.jsonl", "{\"text\": \"Hello\"}\n{\"txt\": 1}\n");
        fails(1, List.of("badline.jsonl line 2", "\"text\""), "tokenize", "--vocab", vocab.toString(), "--input-file", badLine.toString());
        Path notJson = file("notjson.jsonl", "{\"text\": \"Hello\"}\nhello\n");
        fails(1, List.of("notjson.jsonl line 2", "not valid JSON"), "tokenize", "--vocab", vocab.toString(), "--input-file", notJson.toString());
        Path blank = file("blankline.jsonl", "{\"text\": \"Hello\"}\n\n{\"text\": \"x\"}\n");
        fails(1, List.of("blankline.jsonl line 2", "empty line"), "tokenize", "--vocab", vocab.toString(), "--input-file", blank.toString());
    }
}
