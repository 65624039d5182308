package bertj.fuzz;

import bertj.serve.http.ApiException;
import bertj.serve.http.ErrorType;
import bertj.serve.http.Requests;
import bertj.serve.http.Route;
import com.code_intelligence.jazzer.junit.DictionaryFile;
import com.code_intelligence.jazzer.junit.FuzzTest;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The HTTP server's request parsing ({@code bertj serve}): {@link Requests#parse}, the one piece of the server that
 * reads bytes a client chose, on its own (no model, no sockets). An input is a route byte (one of the five POST
 * routes), a client batch limit byte (1 … 64) and the body. Property: a request of the route's own type whose
 * inputs are all present, non-empty and within the limit, or an {@link ApiException} of a client error type (400
 * malformed or empty, 422 validation) with a one-line message free of control characters — never another
 * exception, and never a 500.
 */
class RequestsFuzzTest {
    static final Route[] POST = {Route.EMBED, Route.OPENAI_EMBEDDINGS, Route.SIMILARITY, Route.TOKENIZE, Route.QA};
    static final Set<ErrorType> CLIENT = Set.of(ErrorType.MALFORMED, ErrorType.EMPTY, ErrorType.VALIDATION);

    static byte[] input(Route route, int limit, String body) {
        int r = List.of(POST).indexOf(route);
        return new FuzzInput.Writer().u8(r).u8(limit - 1).rest(body.getBytes(StandardCharsets.UTF_8)).toBytes();
    }

    static Stream<Arguments> seeds() {
        return Stream.of(
                Arguments.of(Named.of("embed, one text", input(Route.EMBED, 32, "{\"inputs\":\"What is BERT?\",\"normalize\":false}"))),
                Arguments.of(Named.of("embed, a list and every option", input(Route.EMBED, 4,
                        "{\"inputs\":[\"a\",\"b c\"],\"normalize\":true,\"truncate\":true,\"truncation_direction\":\"right\",\"prompt_name\":null}"))),
                Arguments.of(Named.of("openai, base64", input(Route.OPENAI_EMBEDDINGS, 8,
                        "{\"input\":[\"x\"],\"model\":\"minilm\",\"encoding_format\":\"base64\",\"dimensions\":384,\"user\":\"u\"}"))),
                Arguments.of(Named.of("similarity", input(Route.SIMILARITY, 3,
                        "{\"inputs\":{\"source_sentence\":\"s\",\"sentences\":[\"t\",\"u\"]},\"parameters\":{\"truncate\":false}}"))),
                Arguments.of(Named.of("tokenize", input(Route.TOKENIZE, 2, "{\"inputs\":[\"caf\\u00e9 \\ud83d\\ude00\"],\"add_special_tokens\":false}"))),
                Arguments.of(Named.of("qa with parameters", input(Route.QA, 1,
                        "{\"inputs\":{\"question\":\"Who?\",\"context\":\"Ann did.\"},\"parameters\":{\"top_k\":2,\"doc_stride\":128,"
                                + "\"max_answer_len\":30,\"max_seq_len\":384,\"max_question_len\":64,\"handle_impossible_answer\":false}}"))),
                Arguments.of(Named.of("token ids", input(Route.EMBED, 32, "{\"inputs\":[[101,102]]}"))),
                Arguments.of(Named.of("duplicate key", input(Route.EMBED, 32, "{\"inputs\":\"a\",\"inputs\":\"b\"}"))),
                Arguments.of(Named.of("trailing tokens", input(Route.QA, 32, "{} {}"))));
    }

    @MethodSource("seeds")
    @DictionaryFile(resourcePath = "requests.dict")
    @FuzzTest
    void requests(byte[] input) {
        FuzzInput in = new FuzzInput(input);
        Route route = POST[in.below(POST.length)];
        int limit = 1 + in.below(64);
        byte[] body = in.rest();
        Contract.holds(() -> {
            Requests.Parsed p;
            try {
                p = Requests.parse(route, body, limit);
            } catch (ApiException e) {
                if (!CLIENT.contains(e.type())) throw new AssertionError("a client's bytes gave " + e.type() + ": " + e.getMessage(), e);
                if (e.getMessage() != null && e.getMessage().length() > 1000) {
                    throw new AssertionError("an error message of " + e.getMessage().length() + " characters", e);
                }
                throw e;
            }
            check(route, limit, p);
        }, ApiException.class);
    }

    static void check(Route route, int limit, Requests.Parsed p) {
        switch (route) {
            case EMBED -> texts(assertInstanceOf(Requests.Embed.class, p).inputs(), limit);
            case OPENAI_EMBEDDINGS -> {
                Requests.OpenAiEmbeddings o = assertInstanceOf(Requests.OpenAiEmbeddings.class, p);
                texts(o.inputs(), limit);
                if (o.dimensions() != null && o.dimensions() < 1) throw new AssertionError("dimensions " + o.dimensions());
            }
            case SIMILARITY -> {
                Requests.Similarity s = assertInstanceOf(Requests.Similarity.class, p);
                if (s.source() == null || s.source().isEmpty()) throw new AssertionError("an empty source sentence was accepted");
                texts(s.sentences(), limit - 1);
            }
            case TOKENIZE -> texts(assertInstanceOf(Requests.Tokenize.class, p).inputs(), limit);
            case QA -> {
                Requests.Qa q = assertInstanceOf(Requests.Qa.class, p);
                if (q.question().isBlank() || q.context().isBlank()) throw new AssertionError("a blank question or context was accepted");
                for (Integer v : new Integer[] {q.topK(), q.docStride(), q.maxAnswerLen(), q.maxSeqLen(), q.maxQuestionLen()}) {
                    if (v != null && v < 1) throw new AssertionError("a parameter of " + v + " was accepted");
                }
            }
            default -> throw new AssertionError(route + " is not a POST route");
        }
    }

    static void texts(List<String> texts, int limit) {
        if (texts.isEmpty() || texts.size() > limit) throw new AssertionError(texts.size() + " inputs accepted with a limit of " + limit);
        for (String t : texts) if (t == null || t.isEmpty()) throw new AssertionError("an empty input was accepted");
    }

    @Test
    void seedsParseAsTheyShould() {
        Requests.Parsed qa = Requests.parse(Route.QA, ("{\"inputs\":{\"question\":\"Who?\",\"context\":\"Ann did.\"},"
                + "\"parameters\":{\"top_k\":2.0}}").getBytes(StandardCharsets.UTF_8), 1);
        assertEquals(2, ((Requests.Qa) qa).topK());
        ApiException e = assertThrows(ApiException.class, () -> Requests.parse(Route.EMBED, "{\"inputs\":[\"a\",\"b\"]}".getBytes(StandardCharsets.UTF_8), 1));
        assertEquals(ErrorType.VALIDATION, e.type());
    }

    /** A control character inside a bad token reaches Jackson's message; the error must still be one clean line. */
    @Test
    void controlCharactersInABadTokenAreEscaped() {
        for (String body : new String[] {"{\"inputs\": tru\u0001e}", "{\"inputs\": x\u001b[2Jy}", "\u202e{", "{\"a\":\"\u0000"}) {
            ApiException e = assertThrows(ApiException.class, () -> Requests.parse(Route.EMBED, body.getBytes(StandardCharsets.UTF_8), 4));
            Contract.oneLine(e);
        }
    }
}
