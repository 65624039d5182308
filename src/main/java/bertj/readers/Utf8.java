package bertj.readers;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Strict UTF-8 text files: a malformed byte sequence is an error naming the file, line and byte offset, never a
 * silent U+FFFD (which the tokenizer would then drop, changing what the user wrote).
 */
public final class Utf8 {
    private Utf8() {
    }

    /** The file's text (a leading byte-order mark is dropped); throws {@link ModelFileException} with a one-line message. */
    public static String read(Path file, String what) {
        byte[] bytes;
        try {
            if (Files.isDirectory(file)) {
                throw new ModelFileException(file + ": is a directory; expected " + what);
            }
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new ModelFileException(file + ": no such file (expected " + what + ")");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (OutOfMemoryError e) {
            throw new ModelFileException(file + ": too large to read into memory");
        }
        return decode(bytes, file.toString());
    }

    /** Decodes bytes strictly; {@code where} names the source in the error. */
    public static String decode(byte[] bytes, String where) {
        CharsetDecoder dec = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length + 1);
        var result = dec.decode(in, out, true);
        if (result.isError()) {
            int at = in.position();
            int line = 1;
            for (int i = 0; i < at; i++) if (bytes[i] == '\n') line++;
            throw new ModelFileException(where + ": not valid UTF-8 (byte offset " + at + ", line " + line
                    + "); save the file as UTF-8");
        }
        try {
            result = dec.flush(out);
            if (result.isError()) result.throwException();
        } catch (CharacterCodingException e) {
            throw new ModelFileException(where + ": not valid UTF-8 (truncated at the end); save the file as UTF-8");
        }
        out.flip();
        String s = out.toString();
        return !s.isEmpty() && s.charAt(0) == '\uFEFF' ? s.substring(1) : s;
    }
}
