package bertj.backend;

/**
 * A backend cannot do what was asked on this machine — no OpenCL platform, a device that refuses a kernel, a
 * batch too large for the device's memory. The message is one sentence a user can act on; the command line
 * prints it as is.
 */
public class BackendException extends RuntimeException {
    public BackendException(String message) {
        super(message);
    }

    public BackendException(String message, Throwable cause) {
        super(message, cause);
    }
}
