package bertj.serve.http;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Request parsing as a pure function: every shape the API accepts, and every way a body is refused. */
class RequestsTest {

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static ErrorType refused(Route route, String body) {
        return assertThrows(ApiException.class, () -> Requests.parse(route, b(body), 4), body).type();
    }

    @Test
    void embedShapes() {
        Requests.Embed e = Requests.embed(b("{\"inputs\": \"hello\"}"), 32);
        assertEquals(List.of("hello"), e.inputs());
        assertTrue(e.normalize());
        assertNull(e.truncate());
        e = Requests.embed(b("{\"inputs\": [\"a\", \"b\"], \"normalize\": false, \"truncate\": true, \"truncation_direction\": \"Right\","
                + " \"prompt_name\": null, \"unknown_field\": [1, 2]}"), 32);
        assertEquals(List.of("a", "b"), e.inputs());
        assertFalse(e.normalize());
        assertEquals(Boolean.TRUE, e.truncate());
    }

    @Test
    void openAiShapes() {
        Requests.OpenAiEmbeddings o = Requests.openAi(b("{\"input\": [\"x\"], \"model\": \"m\", \"encoding_format\": \"base64\", \"user\": \"u\"}"), 32);
        assertEquals(List.of("x"), o.inputs());
        assertTrue(o.base64());
        assertEquals("m", o.model());
        assertNull(o.dimensions());
        assertFalse(Requests.openAi(b("{\"input\": \"x\", \"dimensions\": 384}"), 32).base64());
        assertEquals(384, Requests.openAi(b("{\"input\": \"x\", \"dimensions\": 384}"), 32).dimensions());
    }

    @Test
    void similarityTokenizeAndQaShapes() {
        Requests.Similarity s = Requests.similarity(b("{\"inputs\": {\"source_sentence\": \"s\", \"sentences\": [\"a\", \"b\"]},"
                + " \"parameters\": {\"truncate\": false}}"), 3);
        assertEquals("s", s.source());
        assertEquals(List.of("a", "b"), s.sentences());
        assertEquals(Boolean.FALSE, s.truncate());
        Requests.Tokenize t = Requests.tokenize(b("{\"inputs\": \"x y\", \"add_special_tokens\": false}"), 32);
        assertFalse(t.addSpecialTokens());
        Requests.Qa q = Requests.qa(b("{\"inputs\": {\"question\": \"who?\", \"context\": \"Ann.\"}, \"parameters\": {\"top_k\": 3,"
                + " \"doc_stride\": 64.0, \"max_answer_len\": 10, \"max_seq_len\": 256, \"max_question_len\": 32, \"align_to_words\": true}}"));
        assertEquals("who?", q.question());
        assertEquals(3, q.topK());
        assertEquals(64, q.docStride());
        assertEquals(10, q.maxAnswerLen());
        assertEquals(256, q.maxSeqLen());
        assertEquals(32, q.maxQuestionLen());
        assertNull(Requests.qa(b("{\"inputs\": {\"question\": \"q\", \"context\": \"c\"}}")).topK());
    }

    @Test
    void malformedBodiesAre400Malformed() {
        for (String body : new String[] {"", "{", "{\"inputs\": \"a\"} trailing", "{\"inputs\": \"a\", \"inputs\": \"b\"}", "nope",
                "{\"inputs\": 'single quotes'}", "[" .repeat(5000)}) {
            assertEquals(ErrorType.MALFORMED, refused(Route.EMBED, body), body);
        }
        // not UTF-8
        ApiException e = assertThrows(ApiException.class, () -> Requests.parse(Route.EMBED, new byte[] {'{', '"', (byte) 0xC3, '"', ':', '1', '}'}, 4));
        assertEquals(ErrorType.MALFORMED, e.type());
    }

    @Test
    void emptyInputsAre400Empty() {
        assertEquals(ErrorType.EMPTY, refused(Route.EMBED, "{\"inputs\": []}"));
        assertEquals(ErrorType.EMPTY, refused(Route.EMBED, "{\"inputs\": \"\"}"));
        assertEquals(ErrorType.EMPTY, refused(Route.EMBED, "{\"inputs\": [\"a\", \"\"]}"));
        assertEquals(ErrorType.EMPTY, refused(Route.OPENAI_EMBEDDINGS, "{\"input\": []}"));
        assertEquals(ErrorType.EMPTY, refused(Route.SIMILARITY, "{\"inputs\": {\"source_sentence\": \"s\", \"sentences\": []}}"));
        assertEquals(ErrorType.EMPTY, refused(Route.SIMILARITY, "{\"inputs\": {\"source_sentence\": \"\", \"sentences\": [\"a\"]}}"));
        assertEquals(ErrorType.EMPTY, refused(Route.TOKENIZE, "{\"inputs\": []}"));
        assertEquals(ErrorType.EMPTY, refused(Route.QA, "{\"inputs\": {\"question\": \"  \", \"context\": \"c\"}}"));
        assertEquals(ErrorType.EMPTY, refused(Route.QA, "{\"inputs\": {\"question\": \"q\", \"context\": \"\"}}"));
    }

    @Test
    void schemaAndLimitViolationsAre422() {
        String[][] cases = {
                {"EMBED", "[\"a\"]"}, {"EMBED", "{}"}, {"EMBED", "{\"inputs\": null}"}, {"EMBED", "{\"inputs\": 3}"},
                {"EMBED", "{\"inputs\": [1, 2, 3]}"}, {"EMBED", "{\"inputs\": [[1, 2]]}"}, {"EMBED", "{\"inputs\": [\"a\", null]}"},
                {"EMBED", "{\"inputs\": [\"a\", \"b\", \"c\", \"d\", \"e\"]}"}, {"EMBED", "{\"inputs\": \"a\", \"normalize\": \"yes\"}"},
                {"EMBED", "{\"inputs\": \"a\", \"truncate\": 1}"}, {"EMBED", "{\"inputs\": \"a\", \"truncation_direction\": \"left\"}"},
                {"EMBED", "{\"inputs\": \"a\", \"truncation_direction\": \"middle\"}"}, {"EMBED", "{\"inputs\": \"a\", \"prompt_name\": \"query\"}"},
                {"OPENAI_EMBEDDINGS", "{\"inputs\": \"a\"}"}, {"OPENAI_EMBEDDINGS", "{\"input\": \"a\", \"encoding_format\": \"int8\"}"},
                {"OPENAI_EMBEDDINGS", "{\"input\": \"a\", \"model\": 5}"}, {"OPENAI_EMBEDDINGS", "{\"input\": \"a\", \"dimensions\": 0}"},
                {"SIMILARITY", "{\"inputs\": [\"a\"]}"}, {"SIMILARITY", "{\"inputs\": {\"sentences\": [\"a\"]}}"},
                {"SIMILARITY", "{\"inputs\": {\"source_sentence\": \"s\", \"sentences\": [\"a\", \"b\", \"c\", \"d\"]}}"},
                {"SIMILARITY", "{\"inputs\": {\"source_sentence\": \"s\", \"sentences\": \"a\"}}"},
                {"SIMILARITY", "{\"inputs\": {\"source_sentence\": \"s\", \"sentences\": [\"a\"]}, \"parameters\": 3}"},
                {"TOKENIZE", "{\"inputs\": \"a\", \"add_special_tokens\": \"no\"}"},
                {"QA", "{\"inputs\": \"q\"}"}, {"QA", "{\"inputs\": {\"question\": \"q\"}}"}, {"QA", "{\"inputs\": {\"question\": 1, \"context\": \"c\"}}"},
                {"QA", "{\"inputs\": {\"question\": \"q\", \"context\": \"c\"}, \"parameters\": {\"top_k\": 0}}"},
                {"QA", "{\"inputs\": {\"question\": \"q\", \"context\": \"c\"}, \"parameters\": {\"top_k\": 1.5}}"},
                {"QA", "{\"inputs\": {\"question\": \"q\", \"context\": \"c\"}, \"parameters\": {\"top_k\": \"2\"}}"},
                {"QA", "{\"inputs\": {\"question\": \"q\", \"context\": \"c\"}, \"parameters\": {\"doc_stride\": 1e30}}"},
                {"QA", "{\"inputs\": {\"question\": \"q\", \"context\": \"c\"}, \"parameters\": {\"max_seq_len\": 99999999999}}"},
                {"QA", "{\"inputs\": {\"question\": \"q\", \"context\": \"c\"}, \"parameters\": {\"handle_impossible_answer\": true}}"},
        };
        for (String[] c : cases) assertEquals(ErrorType.VALIDATION, refused(Route.valueOf(c[0]), c[1]), c[0] + " " + c[1]);
    }

    @Test
    void getRoutesHaveNoBodyToParse() {
        assertThrows(IllegalArgumentException.class, () -> Requests.parse(Route.HEALTH, b("{}"), 4));
    }

    /** Mutated and random bodies: parse returns or throws ApiException, nothing else (a cheap stand-in for a fuzzer). */
    @Test
    void randomBytesOnlyEverGiveApiExceptions() {
        long seed = System.nanoTime();
        System.out.println("RequestsTest seed " + seed);
        Random r = new Random(seed);
        String[] valid = {
                "{\"inputs\": [\"a b\", \"c\"], \"normalize\": true, \"truncate\": false}",
                "{\"input\": \"x\", \"encoding_format\": \"base64\", \"dimensions\": 384}",
                "{\"inputs\": {\"source_sentence\": \"s\", \"sentences\": [\"a\"]}, \"parameters\": {\"truncate\": true}}",
                "{\"inputs\": {\"question\": \"q\", \"context\": \"c\"}, \"parameters\": {\"top_k\": 2, \"doc_stride\": 3}}"};
        Route[] routes = {Route.EMBED, Route.OPENAI_EMBEDDINGS, Route.SIMILARITY, Route.TOKENIZE, Route.QA};
        for (int i = 0; i < 5_000; i++) {
            byte[] body = b(valid[r.nextInt(valid.length)]);
            int edits = 1 + r.nextInt(4);
            for (int k = 0; k < edits && body.length > 0; k++) {
                int at = r.nextInt(body.length);
                switch (r.nextInt(3)) {
                    case 0 -> body[at] = (byte) r.nextInt(256);
                    case 1 -> body = java.util.Arrays.copyOf(body, at);
                    default -> {
                        byte[] longer = new byte[body.length + 1];
                        System.arraycopy(body, 0, longer, 0, at);
                        String alphabet = "{}[]\",:0-e.\\ntu";
                        longer[at] = (byte) alphabet.charAt(r.nextInt(alphabet.length()));
                        System.arraycopy(body, at, longer, at + 1, body.length - at);
                        body = longer;
                    }
                }
            }
            Route route = routes[r.nextInt(routes.length)];
            try {
                Requests.parse(route, body, 1 + r.nextInt(4));
            } catch (ApiException expected) {
                assertTrue(expected.getMessage() != null && !expected.getMessage().isBlank());
            } catch (RuntimeException e) {
                fail("seed " + seed + ": " + route + " " + new String(body, StandardCharsets.UTF_8) + " threw " + e);
            }
        }
    }
}
