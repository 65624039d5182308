package bertj.readers;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The safetensors format: an 8-byte little-endian header length N, N bytes of JSON
 * ({@code {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}}}),
 * then the data, offsets counted from the end of the header. Everything is checked before a byte is used:
 * the header's size, its JSON, each dtype and shape, each offset range against the file, and that no two
 * tensors share bytes.
 */
public final class SafeTensors {
    /** Headers larger than this are refused: real ones are a few kilobytes per hundred tensors. */
    public static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;

    private static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(64).build())
            .build()).enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private SafeTensors() {
    }

    /** The tensors of a safetensors file in header order, and its string metadata. */
    public record Contents(Map<String, Tensor> tensors, Map<String, String> metadata) {
    }

    /** True when the file starts like a safetensors file: a plausible header length followed by '{'. */
    public static boolean looksLike(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            if (ch.size() < 10) {
                return false;
            }
            ByteBuffer head = ByteBuffer.allocate(9).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(head, 0);
            long n = head.getLong(0);
            return n > 1 && head.get(8) == '{';
        }
    }

    public static Contents read(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return read(ch, file.toString());
        } catch (IOException e) {
            throw new ModelFileException(file + ": cannot read: " + firstLine(e.getMessage()), e);
        }
    }

    /**
     * Reads a safetensors file from a channel (a file, or bytes in memory); {@code where} names it in errors.
     * The channel's position is moved; it is not closed.
     */
    public static Contents read(SeekableByteChannel ch, String where) {
        try {
            long fileSize = ch.size();
            if (fileSize < 8) {
                throw new ModelFileException(where + ": too short to be a safetensors file (" + fileSize + " bytes)");
            }
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0, where);
            long headerLen = lenBuf.getLong(0);
            if (headerLen < 2 || headerLen > MAX_HEADER_BYTES) {
                throw new ModelFileException(where + ": safetensors header length " + Long.toUnsignedString(headerLen)
                        + " is outside 2.." + MAX_HEADER_BYTES + " bytes");
            }
            if (8 + headerLen > fileSize) {
                throw new ModelFileException(where + ": safetensors header length " + headerLen
                        + " runs past the end of the file (" + fileSize + " bytes)");
            }
            ByteBuffer headerBuf = ByteBuffer.allocate((int) headerLen);
            readFully(ch, headerBuf, 8, where);
            JsonNode header;
            try {
                header = JSON.readTree(headerBuf.array());
            } catch (IOException e) {
                throw new ModelFileException(where + ": safetensors header is not valid JSON: " + firstLine(e.getMessage()));
            }
            if (header == null || !header.isObject()) {
                throw new ModelFileException(where + ": safetensors header is not a JSON object");
            }
            long dataStart = 8 + headerLen;
            long dataSize = fileSize - dataStart;

            Map<String, String> metadata = new LinkedHashMap<>();
            List<Entry> entries = new ArrayList<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> f = it.next();
                if (f.getKey().equals("__metadata__")) {
                    if (!f.getValue().isObject()) {
                        throw new ModelFileException(where + ": __metadata__ must be an object of strings");
                    }
                    f.getValue().fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
                    continue;
                }
                entries.add(parseEntry(where, f.getKey(), f.getValue(), dataSize));
            }
            List<Entry> byOffset = new ArrayList<>(entries);
            byOffset.sort(Comparator.comparingLong(Entry::begin));
            for (int i = 1; i < byOffset.size(); i++) {
                Entry a = byOffset.get(i - 1), b = byOffset.get(i);
                if (b.begin() < a.end()) {
                    throw new ModelFileException(where + ": tensors " + a.name() + " and " + b.name() + " overlap (bytes "
                            + a.begin() + ".." + a.end() + " and " + b.begin() + ".." + b.end() + ")");
                }
            }
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            for (Entry e : entries) {
                long n = e.end() - e.begin();
                if (n > Integer.MAX_VALUE - 16) {
                    throw new ModelFileException(where + ": tensor " + e.name() + " is larger than 2 GB, which this reader does not support");
                }
                ByteBuffer buf = ByteBuffer.allocate((int) n).order(ByteOrder.LITTLE_ENDIAN);
                readFully(ch, buf, dataStart + e.begin(), where);
                buf.flip();
                tensors.put(e.name(), new Tensor(e.dtype(), e.shape(), buf));
            }
            return new Contents(tensors, metadata);
        } catch (IOException e) {
            throw new ModelFileException(where + ": cannot read: " + firstLine(e.getMessage()), e);
        }
    }

    private record Entry(String name, DType dtype, int[] shape, long begin, long end) {
    }

    private static Entry parseEntry(String where, String name, JsonNode node, long dataSize) {
        String at = where + ": tensor " + name;
        if (!node.isObject()) {
            throw new ModelFileException(at + ": header entry is not an object");
        }
        JsonNode dt = node.get("dtype"), sh = node.get("shape"), off = node.get("data_offsets");
        if (dt == null || !dt.isTextual() || sh == null || !sh.isArray() || off == null || !off.isArray() || off.size() != 2) {
            throw new ModelFileException(at + ": header entry needs dtype (string), shape (array) and data_offsets ([begin, end])");
        }
        DType dtype = DType.fromSafetensors(dt.asText());
        if (dtype == null) {
            throw new ModelFileException(at + ": dtype " + dt.asText() + " is not supported (F64, F32, F16, BF16, I64, I32 are)");
        }
        if (sh.size() > 8) {
            throw new ModelFileException(at + ": rank " + sh.size() + " is more than 8");
        }
        int[] shape = new int[sh.size()];
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = sh.get(i);
            if (!d.canConvertToLong() || !d.isIntegralNumber() || d.asLong() < 0 || d.asLong() > Integer.MAX_VALUE) {
                throw new ModelFileException(at + ": shape entry " + d + " is not a dimension");
            }
            shape[i] = (int) d.asLong();
        }
        if (!off.get(0).isIntegralNumber() || !off.get(1).isIntegralNumber()
                || !off.get(0).canConvertToLong() || !off.get(1).canConvertToLong()) {
            throw new ModelFileException(at + ": data_offsets must be two integers");
        }
        long begin = off.get(0).asLong(), end = off.get(1).asLong();
        if (begin < 0 || end < begin || end > dataSize) {
            throw new ModelFileException(at + ": data_offsets [" + begin + ", " + end + "] lie outside the "
                    + dataSize + " data bytes of the file");
        }
        long need;
        try {
            need = Math.multiplyExact(Tensor.numel(shape), dtype.bytes());
        } catch (ArithmeticException e) {
            throw new ModelFileException(at + ": shape is too large");
        }
        if (end - begin != need) {
            throw new ModelFileException(at + ": data_offsets cover " + (end - begin) + " bytes but shape "
                    + java.util.Arrays.toString(shape) + " of " + dtype + " needs " + need);
        }
        return new Entry(name, dtype, shape, begin, end);
    }

    private static void readFully(SeekableByteChannel ch, ByteBuffer buf, long pos, String where) throws IOException {
        ch.position(pos);
        while (buf.hasRemaining()) {
            int n = ch.read(buf);
            if (n < 0) {
                throw new ModelFileException(where + ": file ends early");
            }
        }
    }

    /** Writes tensors (in the given order) and string metadata as a safetensors file. */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        ObjectNode header = JSON.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode m = header.putObject("__metadata__");
            metadata.forEach(m::put);
        }
        long offset = 0;
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            Tensor t = e.getValue();
            ObjectNode n = header.putObject(e.getKey());
            n.put("dtype", t.dtype().safetensorsName());
            var shape = n.putArray("shape");
            for (int d : t.shape()) shape.add(d);
            long len = t.numel() * t.dtype().bytes();
            n.putArray("data_offsets").add(offset).add(offset + len);
            offset += len;
        }
        byte[] json = JSON.writeValueAsBytes(header);
        int padded = (json.length + 7) / 8 * 8;
        byte[] head = new byte[padded];
        java.util.Arrays.fill(head, (byte) ' ');
        System.arraycopy(json, 0, head, 0, json.length);
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (OutputStream out = new java.io.BufferedOutputStream(Files.newOutputStream(tmp), 1 << 20)) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded);
            out.write(len.array());
            out.write(head);
            byte[] chunk = new byte[1 << 16];
            for (Tensor t : tensors.values()) {
                ByteBuffer b = t.bytes();
                while (b.hasRemaining()) {
                    int n = Math.min(chunk.length, b.remaining());
                    b.get(chunk, 0, n);
                    out.write(chunk, 0, n);
                }
            }
        }
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    static String firstLine(String s) {
        if (s == null) {
            return "unknown error";
        }
        int nl = s.indexOf('\n');
        return (nl < 0 ? s : s.substring(0, nl)).trim();
    }
}
