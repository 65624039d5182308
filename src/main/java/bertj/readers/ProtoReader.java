package bertj.readers;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Reads one protobuf message in the wire format, field by field, from a byte range of a buffer.
 *
 * <p>The wire format is a sequence of (tag, value) pairs; tag = fieldNumber · 8 + wireType, written as a varint
 * (7 bits per byte, least significant first, high bit = "more bytes follow"). Wire types: 0 varint,
 * 1 fixed 64 bits, 2 length-delimited (a varint length, then that many bytes: strings, bytes, sub-messages and
 * packed repeated scalars), 5 fixed 32 bits; 3 and 4 are the deprecated groups, which ONNX never uses and this
 * reader refuses. Every length is checked against the bytes left in the enclosing message before it is used, so
 * a damaged or hostile file ends in a {@link ModelFileException}, never in a read past the end or a huge
 * allocation.
 */
final class ProtoReader {
    static final int VARINT = 0, FIXED64 = 1, LENGTH_DELIMITED = 2, FIXED32 = 5;

    private final ByteBuffer buf;
    private final String where;
    /** Offset of {@code buf}'s position 0 in the file, for error messages. */
    private final long base;
    private int field, wireType;

    ProtoReader(ByteBuffer message, long fileOffset, String where) {
        this.buf = message.slice().order(ByteOrder.LITTLE_ENDIAN);
        this.base = fileOffset;
        this.where = where;
    }

    /** Moves to the next field; false at the end of the message. */
    boolean next() {
        if (!buf.hasRemaining()) return false;
        long tag = varint();
        if ((tag >>> 3) == 0 || (tag >>> 3) > 0x1fffffff) {
            throw error("field number " + (tag >>> 3) + " is not a valid protobuf field number");
        }
        field = (int) (tag >>> 3);
        wireType = (int) (tag & 7);
        if (wireType != VARINT && wireType != FIXED64 && wireType != LENGTH_DELIMITED && wireType != FIXED32) {
            throw error("field " + field + " has wire type " + wireType + ", which is not used by ONNX");
        }
        return true;
    }

    int field() {
        return field;
    }

    int wireType() {
        return wireType;
    }

    /** The offset in the file of the next unread byte. */
    long offset() {
        return base + buf.position();
    }

    long varint() {
        long v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (!buf.hasRemaining()) throw error("a varint runs past the end of its message; is the file cut short?");
            int b = buf.get() & 0xff;
            if (shift == 63 && b > 1) throw error("a varint is longer than 64 bits");
            v |= (long) (b & 0x7f) << shift;
            if ((b & 0x80) == 0) return v;
        }
        throw error("a varint is longer than 10 bytes");
    }

    long fixed64() {
        need(8);
        return buf.getLong();
    }

    int fixed32() {
        need(4);
        return buf.getInt();
    }

    /** The value of the current length-delimited field as a view of the file's bytes (not copied). */
    ByteBuffer bytes() {
        expect(LENGTH_DELIMITED);
        long n = varint();
        if (n < 0 || n > buf.remaining()) {
            throw error("field " + field + " declares " + Long.toUnsignedString(n) + " bytes but only " + buf.remaining()
                    + " are left in its message; is the file cut short?");
        }
        ByteBuffer slice = buf.slice(buf.position(), (int) n).order(ByteOrder.LITTLE_ENDIAN);
        buf.position(buf.position() + (int) n);
        return slice;
    }

    /** A reader for the current field's sub-message. */
    ProtoReader message() {
        ByteBuffer b = bytes();
        return new ProtoReader(b, offset() - b.remaining(), where);
    }

    String string() {
        ByteBuffer b = bytes();
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(b).toString();
        } catch (CharacterCodingException e) {
            throw error("field " + field + " is a string that is not valid UTF-8");
        }
    }

    /** An int64 scalar (wire type 0) read as a signed two's-complement value. */
    long int64() {
        expect(VARINT);
        return varint();
    }

    /**
     * A repeated int64 field: its values are either packed into one length-delimited field (the proto3 default)
     * or written one per field (wire type 0); {@code into} receives them either way.
     */
    void int64s(LongSink into) {
        if (wireType == VARINT) {
            into.accept(varint());
        } else {
            ProtoReader packed = message();
            while (packed.buf.hasRemaining()) into.accept(packed.varint());
        }
    }

    /** A repeated float field, packed (wire type 2) or not (wire type 5). */
    void floats(FloatSink into) {
        if (wireType == FIXED32) {
            into.accept(Float.intBitsToFloat(fixed32()));
        } else {
            ByteBuffer b = bytes();
            if (b.remaining() % 4 != 0) throw error("packed float field " + field + " has " + b.remaining() + " bytes, not a multiple of 4");
            while (b.hasRemaining()) into.accept(b.getFloat());
        }
    }

    /** A repeated double field, packed (wire type 2) or not (wire type 1). */
    void doubles(DoubleSink into) {
        if (wireType == FIXED64) {
            into.accept(Double.longBitsToDouble(fixed64()));
        } else {
            ByteBuffer b = bytes();
            if (b.remaining() % 8 != 0) throw error("packed double field " + field + " has " + b.remaining() + " bytes, not a multiple of 8");
            while (b.hasRemaining()) into.accept(b.getDouble());
        }
    }

    /** Skips the current field's value, whatever its wire type. */
    void skip() {
        switch (wireType) {
            case VARINT -> varint();
            case FIXED64 -> need(8).position(buf.position() + 8);
            case FIXED32 -> need(4).position(buf.position() + 4);
            case LENGTH_DELIMITED -> bytes();
            default -> throw error("cannot skip wire type " + wireType);
        }
    }

    void expect(int type) {
        if (wireType != type) {
            throw error("field " + field + " has wire type " + wireType + " where " + type + " was expected");
        }
    }

    private ByteBuffer need(int n) {
        if (buf.remaining() < n) throw error("field " + field + " runs past the end of its message");
        return buf;
    }

    ModelFileException error(String what) {
        return new ModelFileException(where + ": not a valid ONNX file: " + what + " (at byte " + offset() + ")");
    }

    interface LongSink {
        void accept(long v);
    }

    interface FloatSink {
        void accept(float v);
    }

    interface DoubleSink {
        void accept(double v);
    }
}
