package bertj.serve.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Request bodies → validated requests: a pure function of the bytes and the client batch limit, with no model and
 * no I/O, so that it can be fuzzed on its own. It either returns a request or throws an {@link ApiException}
 * (400 {@link ErrorType#MALFORMED} for bytes that are not one JSON value; 400 {@link ErrorType#EMPTY} for an empty
 * input; 422 {@link ErrorType#VALIDATION} for JSON that breaks the schema or a limit) — never anything else.
 * What needs the model (token counts, the QA head) is checked later, by the engine.
 *
 * <p>The shapes are text-embeddings-inference's (and OpenAI's for /v1/embeddings, and the Hugging Face
 * question-answering pipeline's for /qa). Fields this server does not know are ignored, as TEI ignores them; fields
 * it knows but whose values it cannot honour (a left truncation, a prompt name) are refused.
 */
public final class Requests {
    private Requests() {
    }

    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    /** A parsed request of one of the POST routes. */
    public sealed interface Parsed permits Embed, OpenAiEmbeddings, Similarity, Tokenize, Qa {
    }

    /**
     * POST /embed {@code {inputs: str | [str], normalize? = true, truncate?, truncation_direction? = "right"}}.
     *
     * @param truncate null: the server's --auto-truncate decides
     */
    public record Embed(List<String> inputs, boolean normalize, Boolean truncate) implements Parsed {
    }

    /**
     * POST /v1/embeddings {@code {input: str | [str], model?, encoding_format? = "float" | "base64", dimensions?,
     * user?}}.
     *
     * @param dimensions null when not given (checked against the model by the API)
     */
    public record OpenAiEmbeddings(List<String> inputs, boolean base64, String model, Integer dimensions) implements Parsed {
    }

    /** POST /similarity {@code {inputs: {source_sentence, sentences: [str]}, parameters?: {truncate?, …}}}. */
    public record Similarity(String source, List<String> sentences, Boolean truncate) implements Parsed {
    }

    /** POST /tokenize {@code {inputs: str | [str], add_special_tokens? = true}}. */
    public record Tokenize(List<String> inputs, boolean addSpecialTokens) implements Parsed {
    }

    /**
     * POST /qa {@code {inputs: {question, context}, parameters?: {top_k, doc_stride, max_answer_len, max_seq_len,
     * max_question_len}}}; a parameter not given is null (the server's setting applies).
     */
    public record Qa(String question, String context, Integer topK, Integer docStride, Integer maxAnswerLen, Integer maxSeqLen,
                     Integer maxQuestionLen) implements Parsed {
    }

    /**
     * Parses the body of a POST route.
     *
     * @param maxClientBatchSize most inputs a request may carry (/similarity: the source sentence counts)
     * @throws ApiException for anything else than a valid request; never another exception
     * @throws IllegalArgumentException when {@code route} has no body (a GET route): a programming error
     */
    public static Parsed parse(Route route, byte[] body, int maxClientBatchSize) {
        return switch (route) {
            case EMBED -> embed(body, maxClientBatchSize);
            case OPENAI_EMBEDDINGS -> openAi(body, maxClientBatchSize);
            case SIMILARITY -> similarity(body, maxClientBatchSize);
            case TOKENIZE -> tokenize(body, maxClientBatchSize);
            case QA -> qa(body);
            default -> throw new IllegalArgumentException(route + " has no request body");
        };
    }

    public static Embed embed(byte[] body, int maxClientBatchSize) {
        JsonNode root = object(body);
        List<String> inputs = texts(root, "inputs", maxClientBatchSize);
        boolean normalize = bool(root, "normalize", true);
        Boolean truncate = optionalBool(root, "truncate");
        truncationDirection(root, "truncation_direction");
        noPrompt(root, "prompt_name");
        return new Embed(inputs, normalize, truncate);
    }

    public static OpenAiEmbeddings openAi(byte[] body, int maxClientBatchSize) {
        JsonNode root = object(body);
        List<String> inputs = texts(root, "input", maxClientBatchSize);
        JsonNode f = root.get("encoding_format");
        boolean base64 = false;
        if (f != null && !f.isNull()) {
            String v = f.isTextual() ? f.asText().toLowerCase(Locale.ROOT) : null;
            if ("base64".equals(v)) base64 = true;
            else if (!"float".equals(v)) throw invalid("\"encoding_format\" must be \"float\" or \"base64\"");
        }
        JsonNode m = root.get("model");
        if (m != null && !m.isNull() && !m.isTextual()) throw invalid("\"model\" must be a string");
        Integer dimensions = optionalInt(root, "dimensions", 1);
        return new OpenAiEmbeddings(inputs, base64, m == null || m.isNull() ? null : m.asText(), dimensions);
    }

    public static Similarity similarity(byte[] body, int maxClientBatchSize) {
        JsonNode root = object(body);
        JsonNode in = root.get("inputs");
        if (in == null || in.isNull()) throw invalid("missing field \"inputs\": send {\"inputs\": {\"source_sentence\": ..., \"sentences\": [...]}}");
        if (!in.isObject()) throw invalid("\"inputs\" must be an object {\"source_sentence\": ..., \"sentences\": [...]}");
        JsonNode src = in.get("source_sentence");
        if (src == null || !src.isTextual()) throw invalid("\"inputs.source_sentence\" must be a string");
        if (src.asText().isEmpty()) throw empty("\"inputs.source_sentence\" is empty");
        JsonNode s = in.get("sentences");
        if (s == null || !s.isArray()) throw invalid("\"inputs.sentences\" must be a list of strings");
        if (s.isEmpty()) throw empty("\"inputs.sentences\" cannot be empty");
        if (s.size() + 1 > maxClientBatchSize) {
            throw invalid("batch size " + (s.size() + 1) + " (the source sentence and " + s.size() + " sentences) > maximum allowed batch size "
                    + maxClientBatchSize);
        }
        List<String> sentences = new ArrayList<>(s.size());
        for (int i = 0; i < s.size(); i++) sentences.add(text(s.get(i), "inputs.sentences[" + i + "]"));
        Boolean truncate = null;
        JsonNode p = root.get("parameters");
        if (p != null && !p.isNull()) {
            if (!p.isObject()) throw invalid("\"parameters\" must be an object");
            truncate = optionalBool(p, "truncate");
            truncationDirection(p, "truncation_direction");
            noPrompt(p, "prompt_name");
        }
        return new Similarity(src.asText(), sentences, truncate);
    }

    public static Tokenize tokenize(byte[] body, int maxClientBatchSize) {
        JsonNode root = object(body);
        List<String> inputs = texts(root, "inputs", maxClientBatchSize);
        boolean special = bool(root, "add_special_tokens", true);
        noPrompt(root, "prompt_name");
        return new Tokenize(inputs, special);
    }

    public static Qa qa(byte[] body) {
        JsonNode root = object(body);
        JsonNode in = root.get("inputs");
        if (in == null || in.isNull()) throw invalid("missing field \"inputs\": send {\"inputs\": {\"question\": ..., \"context\": ...}}");
        if (!in.isObject()) throw invalid("\"inputs\" must be an object {\"question\": ..., \"context\": ...}");
        String question = requiredText(in, "question", "inputs.question");
        String context = requiredText(in, "context", "inputs.context");
        JsonNode p = root.get("parameters");
        Integer topK = null, stride = null, answerLen = null, seqLen = null, questionLen = null;
        if (p != null && !p.isNull()) {
            if (!p.isObject()) throw invalid("\"parameters\" must be an object");
            topK = optionalInt(p, "top_k", 1);
            stride = optionalInt(p, "doc_stride", 1);
            answerLen = optionalInt(p, "max_answer_len", 1);
            seqLen = optionalInt(p, "max_seq_len", 1);
            questionLen = optionalInt(p, "max_question_len", 1);
            JsonNode impossible = p.get("handle_impossible_answer");
            if (impossible != null && !impossible.isNull()) {
                if (!impossible.isBoolean()) throw invalid("\"parameters.handle_impossible_answer\" must be true or false");
                if (impossible.asBoolean()) {
                    throw invalid("\"parameters.handle_impossible_answer\": true is not supported: the model (SQuAD v1.1) always answers with a span");
                }
            }
        }
        return new Qa(question, context, topK, stride, answerLen, seqLen, questionLen);
    }

    // ---------------------------------------------------------------- pieces

    private static JsonNode object(byte[] body) {
        if (body == null || body.length == 0) throw malformed("the request body is empty; send a JSON object");
        JsonNode root;
        try {
            root = JSON.readTree(body);
        } catch (JsonProcessingException e) {
            throw malformed("the request body is not valid JSON: " + oneLine(e.getOriginalMessage()));
        } catch (IOException e) {
            throw malformed("the request body could not be read as JSON: " + oneLine(e.getMessage()));
        } catch (RuntimeException e) {
            // Jackson reports some limits (nesting depth, number length) as unchecked exceptions in some versions
            throw malformed("the request body is not acceptable JSON: " + oneLine(e.getMessage()));
        }
        if (root == null || root.isMissingNode()) throw malformed("the request body is empty; send a JSON object");
        if (!root.isObject()) throw invalid("the request body must be a JSON object, not " + kind(root));
        return root;
    }

    /** A string or a list of strings: the inputs, at least one, each non-empty, at most {@code max}. */
    private static List<String> texts(JsonNode root, String field, int max) {
        JsonNode n = root.get(field);
        if (n == null || n.isNull()) throw invalid("missing field \"" + field + "\": send a string or a list of strings");
        if (n.isTextual()) return List.of(text(n, field));
        if (!n.isArray()) throw invalid("\"" + field + "\" must be a string or a list of strings, not " + kind(n));
        if (n.isEmpty()) throw empty("\"" + field + "\" cannot be empty");
        if (n.size() > max) throw invalid("batch size " + n.size() + " > maximum allowed batch size " + max);
        List<String> out = new ArrayList<>(n.size());
        for (int i = 0; i < n.size(); i++) out.add(text(n.get(i), field + "[" + i + "]"));
        return out;
    }

    private static String text(JsonNode n, String where) {
        if (n.isNumber() || (n.isArray() && !n.isEmpty() && n.get(0).isNumber())) {
            throw invalid("\"" + where + "\" is " + kind(n) + ": token ids as input are not supported; send the text");
        }
        if (!n.isTextual()) throw invalid("\"" + where + "\" must be a string, not " + kind(n));
        if (n.asText().isEmpty()) throw empty("\"" + where + "\" is empty");
        return n.asText();
    }

    private static String requiredText(JsonNode obj, String field, String where) {
        JsonNode n = obj.get(field);
        if (n == null || n.isNull()) throw invalid("missing field \"" + where + "\"");
        if (!n.isTextual()) throw invalid("\"" + where + "\" must be a string, not " + kind(n));
        if (n.asText().isBlank()) throw empty("\"" + where + "\" is empty");
        return n.asText();
    }

    private static boolean bool(JsonNode obj, String field, boolean dflt) {
        Boolean b = optionalBool(obj, field);
        return b == null ? dflt : b;
    }

    private static Boolean optionalBool(JsonNode obj, String field) {
        JsonNode n = obj.get(field);
        if (n == null || n.isNull()) return null;
        if (!n.isBoolean()) throw invalid("\"" + field + "\" must be true or false, not " + kind(n));
        return n.asBoolean();
    }

    /** An integer field ≥ min, or null; 3.0 counts as 3, 3.5 does not. */
    private static Integer optionalInt(JsonNode obj, String field, int min) {
        JsonNode n = obj.get(field);
        if (n == null || n.isNull()) return null;
        if (!n.isNumber()) throw invalid("\"" + field + "\" must be an integer, not " + kind(n));
        double d = n.asDouble();
        if (!(n.isIntegralNumber() && n.canConvertToInt()) && !(d == Math.rint(d) && Math.abs(d) <= Integer.MAX_VALUE)) {
            throw invalid("\"" + field + "\" must be an integer between " + min + " and " + Integer.MAX_VALUE + ", not " + n.asText());
        }
        int v = n.isIntegralNumber() ? n.asInt() : (int) d;
        if (v < min) throw invalid("\"" + field + "\" must be at least " + min + " (got " + v + ")");
        return v;
    }

    private static void truncationDirection(JsonNode obj, String field) {
        JsonNode n = obj.get(field);
        if (n == null || n.isNull()) return;
        String v = n.isTextual() ? n.asText().toLowerCase(Locale.ROOT) : null;
        if ("right".equals(v)) return;
        if ("left".equals(v)) throw invalid("\"" + field + "\": \"left\" is not supported; inputs are cut on the right");
        throw invalid("\"" + field + "\" must be \"right\"");
    }

    private static void noPrompt(JsonNode obj, String field) {
        JsonNode n = obj.get(field);
        if (n != null && !n.isNull()) throw invalid("\"" + field + "\" is not supported: this server has no prompts; put the prefix in the text");
    }

    private static String kind(JsonNode n) {
        return switch (n.getNodeType()) {
            case ARRAY -> "a list";
            case BOOLEAN -> "a boolean";
            case NULL -> "null";
            case NUMBER -> "a number";
            case OBJECT -> "an object";
            case STRING -> "a string";
            default -> "something else";
        };
    }

    /**
     * Jackson's message as one clean line: it quotes the client's bytes (a bad token), so line breaks become spaces
     * and every other control or bidirectional-text character is written as a backslash, u and four hex digits (the set
     * {@link bertj.readers.ModelFileException#mustEscape} names), and it is cut after 300 characters.
     */
    static String oneLine(String s) {
        if (s == null) return "unreadable";
        String t = s.strip();
        StringBuilder b = new StringBuilder(Math.min(t.length(), 320));
        for (int i = 0; i < t.length(); i++) {
            if (b.length() >= 300) {
                if (Character.isHighSurrogate(b.charAt(b.length() - 1))) b.setLength(b.length() - 1);
                b.append('…');
                break;
            }
            char c = t.charAt(i);
            if (c == '\r' || c == '\n' || c == '\t') b.append(' ');
            else if (bertj.readers.ModelFileException.mustEscape(c)) b.append(String.format(Locale.ROOT, "\\u%04X", (int) c));
            else b.append(c);
        }
        return b.toString();
    }

    static ApiException invalid(String message) {
        return new ApiException(ErrorType.VALIDATION, message);
    }

    static ApiException empty(String message) {
        return new ApiException(ErrorType.EMPTY, message);
    }

    static ApiException malformed(String message) {
        return new ApiException(ErrorType.MALFORMED, message);
    }
}
