package bertj.serve;

/**
 * Why the engine could not serve a request, as a sentence a client can act on; the HTTP layer maps the reason to a
 * status code.
 */
public final class ServeException extends RuntimeException {
    public enum Reason {
        /** An input is empty. */
        EMPTY,
        /** An input breaks a limit or the model cannot do what is asked (too long, no QA head, a bad parameter). */
        INVALID,
        /** Too many requests at once: try again later. */
        OVERLOADED,
        /** Not ready yet, shutting down, or the model did not answer in time. */
        UNAVAILABLE,
        /** The forward pass failed. */
        FAILED
    }

    private final Reason reason;

    public ServeException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public ServeException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
