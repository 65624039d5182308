package bertj.serve.http;

/**
 * The kinds of error a client gets, as {@code {"error": message, "error_type": name}} with this status. The names
 * are text-embeddings-inference's where it has one (Empty, Validation, Overloaded, Unhealthy, Backend); the status
 * codes are this server's contract (TEI answers 413 for its validation errors, this server 422).
 */
public enum ErrorType {
    /** 400: an input is empty. */
    EMPTY(400, "Empty"),
    /** 400: the body is not JSON (or not UTF-8, or has trailing data, or a key twice). */
    MALFORMED(400, "Malformed"),
    /** 401: an API key is set and the request does not carry it. */
    UNAUTHORIZED(401, "Unauthorized"),
    /** 404: no such endpoint. */
    NOT_FOUND(404, "NotFound"),
    /** 405: the endpoint exists for another method. */
    METHOD_NOT_ALLOWED(405, "MethodNotAllowed"),
    /** 413: the body is over the payload limit. */
    PAYLOAD_TOO_LARGE(413, "PayloadTooLarge"),
    /** 422: well-formed JSON that breaks the schema or a limit, or asks what the model cannot do. */
    VALIDATION(422, "Validation"),
    /** 424: the forward pass failed. */
    BACKEND(424, "Backend"),
    /** 429: too many requests at once. */
    OVERLOADED(429, "Overloaded"),
    /** 500: a bug in the server. */
    INTERNAL(500, "Internal"),
    /** 503: still loading, shutting down, or the model did not answer in time. */
    UNHEALTHY(503, "Unhealthy");

    private final int status;
    private final String label;

    ErrorType(int status, String label) {
        this.status = status;
        this.label = label;
    }

    public int status() {
        return status;
    }

    /** The error_type value. */
    public String label() {
        return label;
    }
}
