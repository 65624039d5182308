package bertj.readers;

/**
 * A model or reference file that cannot be used as it is. The message is one sentence a user can act on and
 * names the file and, where there is one, the tensor at fault.
 */
public class ModelFileException extends RuntimeException {
    public ModelFileException(String message) {
        super(message);
    }

    public ModelFileException(String message, Throwable cause) {
        super(message, cause);
    }
}
