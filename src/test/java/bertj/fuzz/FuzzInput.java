package bertj.fuzz;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A fuzzer's bytes read as a small structured record: unsigned bytes, 16-bit numbers, length-prefixed chunks and
 * the rest. Reading past the end yields zeros and empty chunks, never an exception, so that every byte string is a
 * valid input; {@link Writer} writes the same layout, so that seeds are made by the tests in the form the fuzzer
 * mutates (and a kept finding stays a plain file of bytes).
 */
final class FuzzInput {
    private final byte[] bytes;
    private int at;

    FuzzInput(byte[] bytes) {
        this.bytes = bytes;
    }

    int u8() {
        return at < bytes.length ? bytes[at++] & 0xff : 0;
    }

    /** Little-endian unsigned 16 bits. */
    int u16() {
        return u8() | u8() << 8;
    }

    boolean bool() {
        return (u8() & 1) != 0;
    }

    /** A number in [0, n): a byte for n ≤ 256, else 16 bits. */
    int below(int n) {
        if (n <= 1) return 0;
        return (n <= 256 ? u8() : u16()) % n;
    }

    /** Up to {@code n} bytes (fewer at the end of the input). */
    byte[] take(int n) {
        int k = Math.min(n, bytes.length - at);
        byte[] out = Arrays.copyOfRange(bytes, at, at + k);
        at += k;
        return out;
    }

    /** A chunk written by {@link Writer#chunk}: a 16-bit length, then that many bytes. */
    byte[] chunk() {
        return take(u16());
    }

    /** A chunk as text: UTF-8 decoded with replacement, so any bytes give a string. */
    String text() {
        return new String(chunk(), StandardCharsets.UTF_8);
    }

    byte[] rest() {
        return take(bytes.length - at);
    }

    boolean atEnd() {
        return at >= bytes.length;
    }

    /** Writes inputs in the layout {@link FuzzInput} reads. */
    static final class Writer {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Writer u8(int v) {
            out.write(v);
            return this;
        }

        Writer u16(int v) {
            if (v < 0 || v > 0xffff) throw new IllegalArgumentException("u16 out of range: " + v);
            out.write(v);
            out.write(v >>> 8);
            return this;
        }

        Writer bool(boolean v) {
            return u8(v ? 1 : 0);
        }

        Writer chunk(byte[] b) {
            u16(b.length);
            out.writeBytes(b);
            return this;
        }

        Writer text(String s) {
            return chunk(s.getBytes(StandardCharsets.UTF_8));
        }

        Writer rest(byte[] b) {
            out.writeBytes(b);
            return this;
        }

        byte[] toBytes() {
            return out.toByteArray();
        }
    }
}
