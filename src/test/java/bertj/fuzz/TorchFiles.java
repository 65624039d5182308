package bertj.fuzz;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Seeds in torch.save's layout, written in Java: pickle programs built opcode by opcode the way Python's pickler
 * writes a state dict (protocol 2, as torch.save uses, and protocol 4 with frames, STACK_GLOBAL and MEMOIZE), and
 * the zip archive around them ({@code <name>/data.pkl}, {@code <name>/data/<key>}, {@code byteorder},
 * {@code version}).
 */
final class TorchFiles {
    private TorchFiles() {
    }

    /** A pickle program being written. */
    static final class Pickle {
        private final ByteArrayOutputStream b = new ByteArrayOutputStream();
        private final int protocol;
        private int memo;

        Pickle(int protocol) {
            this.protocol = protocol;
            op(0x80).b.write(protocol);
        }

        Pickle op(int code) {
            b.write(code);
            return this;
        }

        /** Bytes written as they are (an opcode's argument). */
        Pickle raw(byte[] bytes) {
            b.writeBytes(bytes);
            return this;
        }

        /** SETITEM. */
        Pickle s() {
            return op('s');
        }

        /** Remembers the top of the stack, as the pickler does after every new object. */
        Pickle put() {
            if (protocol >= 4) return op(0x94); // MEMOIZE
            if (memo < 256) {
                op('q').b.write(memo);
            } else {
                op('r');
                int32(memo);
            }
            memo++;
            return this;
        }

        Pickle global(String module, String name) {
            if (protocol >= 4) {
                str(module).str(name).op(0x93); // STACK_GLOBAL
            } else {
                op('c');
                b.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
            }
            return put();
        }

        Pickle str(String s) {
            byte[] u = s.getBytes(StandardCharsets.UTF_8);
            if (protocol >= 4 && u.length < 256) {
                op(0x8c).b.write(u.length);
            } else {
                op('X');
                int32(u.length);
            }
            b.writeBytes(u);
            return protocol >= 4 ? this : put();
        }

        Pickle integer(long v) {
            if (v >= 0 && v < 256) {
                op('K').b.write((int) v);
            } else if (v >= 0 && v < 65536) {
                op('M').b.write((int) v);
                b.write((int) (v >>> 8));
            } else if (v == (int) v) {
                op('J');
                int32((int) v);
            } else {
                op(0x8a).b.write(8);
                for (int i = 0; i < 8; i++) b.write((int) (v >>> (8 * i)));
            }
            return this;
        }

        Pickle tuple(long... items) {
            if (items.length == 0) return op(')');
            if (items.length > 3) op('(');
            for (long v : items) integer(v);
            return op(items.length == 1 ? 0x85 : items.length == 2 ? 0x86 : items.length == 3 ? 0x87 : 't').put();
        }

        private void int32(int v) {
            for (int i = 0; i < 4; i++) b.write(v >>> (8 * i));
        }

        byte[] stop() {
            op('.');
            return b.toByteArray();
        }
    }

    /** One tensor of a state dict: a view (offset, size, stride) of a storage. */
    record View(String storageType, String key, long numel, long offset, long[] size, long[] stride) {
        static View contiguous(String storageType, String key, long... size) {
            long[] stride = new long[size.length];
            long n = 1;
            for (int i = size.length - 1; i >= 0; i--) {
                stride[i] = n;
                n *= size[i];
            }
            return new View(storageType, key, n, 0, size, stride);
        }
    }

    /**
     * A state dict as torch.save pickles it: an OrderedDict (REDUCE of collections.OrderedDict), its items set with
     * SETITEMS, each tensor a {@code _rebuild_tensor_v2(persistent storage id, offset, size, stride, False,
     * OrderedDict())}, and the {@code _metadata} attribute set with BUILD.
     */
    static byte[] stateDict(int protocol, Map<String, View> tensors, boolean parameters) {
        Pickle p = new Pickle(protocol);
        if (protocol >= 4) p.op(0x95).b.writeBytes(new byte[8]); // FRAME (advisory; length not checked)
        p.global("collections", "OrderedDict").op(')').op('R').put().op('(');
        for (Map.Entry<String, View> e : tensors.entrySet()) {
            View v = e.getValue();
            p.str(e.getKey());
            if (parameters) p.global("torch._utils", "_rebuild_parameter").op('(');
            p.global("torch._utils", "_rebuild_tensor_v2").op('(');
            p.op('(').str("storage").global("torch", v.storageType()).str(v.key()).str("cpu").integer(v.numel()).op('t').put();
            p.op('Q').integer(v.offset()).tuple(v.size()).tuple(v.stride()).op(0x89);
            p.global("collections", "OrderedDict").op(')').op('R').put();
            p.op('t').put().op('R').put();
            if (parameters) p.op(0x89).global("collections", "OrderedDict").op(')').op('R').put().op('t').put().op('R').put();
        }
        p.op('u');
        p.op('}').put().str("_metadata").global("collections", "OrderedDict").op(')').op('R').put();
        p.op('(').str("").op('}').put().str("version").integer(1).op('s').op('u');
        p.op('s').op('b');
        return p.stop();
    }

    /** {key: dict} around a state dict pickle's top: {"model": state} (as training scripts save it). */
    static byte[] wrapped(String key, byte[] stateDictPickle) {
        // Replace the leading PROTO 2 with: PROTO 2, EMPTY_DICT, key; and the final STOP with SETITEM, STOP.
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(0x80);
        b.write(2);
        b.write('}');
        byte[] k = key.getBytes(StandardCharsets.UTF_8);
        b.write('X');
        b.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(k.length).array());
        b.writeBytes(k);
        b.write(stateDictPickle, 2, stateDictPickle.length - 3);
        b.write('s');
        b.write('.');
        return b.toByteArray();
    }

    /** A torch.save zip: {@code folder/data.pkl}, {@code folder/data/<key>} for each storage, byteorder, version. */
    static byte[] zip(String folder, byte[] pickle, Map<String, byte[]> storages, boolean deflate, String byteorder) {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put(folder + "/data.pkl", pickle);
        if (byteorder != null) entries.put(folder + "/byteorder", byteorder.getBytes(StandardCharsets.US_ASCII));
        storages.forEach((k, v) -> entries.put(folder + "/data/" + k, v));
        entries.put(folder + "/version", "3\n".getBytes(StandardCharsets.US_ASCII));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ZipOutputStream z = new ZipOutputStream(out)) {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                ZipEntry ze = new ZipEntry(e.getKey());
                if (deflate) {
                    ze.setMethod(ZipEntry.DEFLATED);
                } else {
                    CRC32 crc = new CRC32();
                    crc.update(e.getValue());
                    ze.setMethod(ZipEntry.STORED);
                    ze.setSize(e.getValue().length);
                    ze.setCrc(crc.getValue());
                }
                z.putNextEntry(ze);
                z.write(e.getValue());
                z.closeEntry();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /** Little-endian float32 bytes. */
    static byte[] floats(float... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) b.putFloat(f);
        return b.array();
    }
}
