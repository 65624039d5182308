package bertj.readers;

/**
 * A model or reference file that cannot be used as it is. The message is one sentence a user can act on and
 * names the file and, where there is one, the tensor at fault.
 *
 * <p>Messages echo what a file says (tensor and storage names, pickle globals, JSON keys), and a hostile file can
 * put anything there; so the message is made one line here, whoever builds it: every line break, other control
 * character and bidirectional-text control becomes a visible escape ({@code \n}, {@code \u001b}, …), which a
 * terminal shows instead of acting on.
 */
public class ModelFileException extends RuntimeException {
    public ModelFileException(String message) {
        super(oneLine(message));
    }

    public ModelFileException(String message, Throwable cause) {
        super(oneLine(message), cause);
    }

    /** Whether a message may not hold this character as it is: C0/C1 controls, line and paragraph separators, bidi controls. */
    public static boolean mustEscape(char c) {
        return Character.isISOControl(c) || c == '\u2028' || c == '\u2029' || (c >= '\u202A' && c <= '\u202E')
                || (c >= '\u2066' && c <= '\u2069') || c == '\u200E' || c == '\u200F' || c == '\u061C';
    }

    /** The text with each character of {@link #mustEscape} written as an escape. */
    public static String oneLine(String text) {
        if (text == null) return null;
        StringBuilder sb = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (!mustEscape(c)) {
                if (sb != null) sb.append(c);
                continue;
            }
            if (sb == null) sb = new StringBuilder(text.length() + 16).append(text, 0, i);
            switch (c) {
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> sb.append(String.format("\\u%04x", (int) c));
            }
        }
        return sb == null ? text : sb.toString();
    }
}
