package bertj.serve.http;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The seam between the API and whatever speaks HTTP: a transport reads each request whole, hands it to a
 * {@link Handler}, and writes the response with a fixed length (so connections are kept alive). The JDK's
 * com.sun.net.httpserver is the one in use ({@link JdkHttpTransport}); another server (Helidon, Netty) would
 * implement this interface and nothing else.
 */
public interface HttpTransport {

    /**
     * One request, its body read whole.
     *
     * @param headers  header names in lower case, each with its values
     * @param body     the body (empty when there is none, or when it was too large)
     * @param tooLarge the body was over the payload limit and was not read
     * @param received {@link System#nanoTime} when its headers had been read (before its body): a request received
     *                 before a shutdown began is in flight and is answered
     */
    record Request(String method, String path, Map<String, List<String>> headers, byte[] body, boolean tooLarge, long received) {
        /** The first value of a header (any case), or null. */
        public String header(String name) {
            List<String> v = headers.get(name.toLowerCase(Locale.ROOT));
            return v == null || v.isEmpty() ? null : v.get(0);
        }
    }

    /**
     * A response.
     *
     * @param headers         extra headers
     * @param closeConnection close the connection after it (shutting down, or an unread body)
     */
    record Response(int status, String contentType, byte[] body, Map<String, String> headers, boolean closeConnection) {
        public Response withClose() {
            return new Response(status, contentType, body, headers, true);
        }
    }

    /** Answers requests; called concurrently (one virtual thread per request). Never throws. */
    interface Handler {
        Response handle(Request request);
    }

    /** Starts listening. */
    void start();

    /** The address bound (the real port when 0 was asked for). */
    InetSocketAddress address();

    /**
     * Stops accepting connections, waits for the requests being handled (at most {@code drain}), then closes every
     * connection.
     */
    void stop(Duration drain);
}
