package bertj.serve.http;

/** A request the API refuses, with the status and a sentence the client can act on. */
public final class ApiException extends RuntimeException {
    private final ErrorType type;

    public ApiException(ErrorType type, String message) {
        super(message);
        this.type = type;
    }

    public ErrorType type() {
        return type;
    }
}
