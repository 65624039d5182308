package bertj.readers;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * Reads the tensors of a {@code torch.save} checkpoint in the zip format PyTorch has written since 1.6:
 * {@code <name>/data.pkl} (the pickled object, read by {@link RestrictedUnpickler}), {@code <name>/data/<key>}
 * (one raw little-endian storage per key), {@code <name>/version} and, since 1.10, {@code <name>/byteorder}.
 *
 * <p>The zip is read through its central directory ({@link ZipFile}): torch writes entries with the
 * "sizes follow the data" flag, which streaming readers refuse. The state dict may be the pickled object
 * itself or sit under {@code "model"} or {@code "state_dict"}; {@code module.} prefixes left by
 * DataParallel are stripped. Tensors are views (storage, offset, size, stride); strides and offsets are
 * honoured and every view is checked to lie inside its storage. A contiguous view shares its storage's bytes; a
 * strided one is copied, and all copies together may not exceed the bytes of the storages read plus
 * {@link #COPY_ALLOWANCE}: overlapping views (a stride of 0, as expand() makes) can repeat one element without end,
 * and a small file could otherwise claim gigabytes.
 */
public final class PyTorchCheckpoint {
    private static final long MAX_PICKLE_BYTES = 64L * 1024 * 1024;
    /** Bytes that strided views may copy beyond the size of the storages (small expanded buffers, e.g. position_ids). */
    static final long COPY_ALLOWANCE = 64L * 1024 * 1024;
    /** torch.save's legacy (pre-1.6) files start with this pickled magic number. */
    private static final byte[] LEGACY_MAGIC = {(byte) 0x80, 0x02, (byte) 0x8a, 0x0a, 0x6c, (byte) 0xfc, (byte) 0x9c, 0x46, (byte) 0xf9, 0x20};

    private PyTorchCheckpoint() {
    }

    /** True when the file starts with the magic number of torch.save's legacy (pre-1.6, non-zip) format. */
    public static boolean isLegacy(Path file) throws IOException {
        return Arrays.equals(readHead(file, LEGACY_MAGIC.length), LEGACY_MAGIC);
    }

    /** True when the file starts with a zip local-file header. */
    public static boolean looksLike(Path file) throws IOException {
        byte[] head = readHead(file, 4);
        return head.length == 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4;
    }

    /** Reads every tensor of the state dict, in file order, under its key with any {@code module.} prefix removed. */
    public static Map<String, Tensor> read(Path file) {
        String where = file.toString();
        try (ZipFile zip = new ZipFile(file.toFile())) {
            ZipEntry pkl = null;
            List<String> names = new ArrayList<>();
            for (Enumeration<? extends ZipEntry> en = zip.entries(); en.hasMoreElements(); ) {
                ZipEntry e = en.nextElement();
                names.add(e.getName());
                if (e.getName().endsWith("/data.pkl") && e.getName().indexOf('/') == e.getName().length() - 9) {
                    if (pkl != null) {
                        throw new ModelFileException(where + ": zip holds more than one data.pkl");
                    }
                    pkl = e;
                }
            }
            if (pkl == null) {
                throw new ModelFileException(where + ": zip archive has no <name>/data.pkl, so it is not a torch.save checkpoint");
            }
            String prefix = pkl.getName().substring(0, pkl.getName().length() - "data.pkl".length());
            ZipEntry order = zip.getEntry(prefix + "byteorder");
            if (order != null) {
                String bo = new String(readEntry(zip, order, 16, where), StandardCharsets.US_ASCII).trim();
                if (!bo.equals("little")) {
                    throw new ModelFileException(where + ": byteorder is '" + bo + "'; only little-endian checkpoints are supported");
                }
            }
            Object root = RestrictedUnpickler.load(where, readEntry(zip, pkl, MAX_PICKLE_BYTES, where));
            Map<?, ?> stateDict = findStateDict(where, root);
            Map<String, ByteBuffer> storages = new HashMap<>();
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            long[] bytes = {0, 0}; // bytes of the storages read, bytes copied by strided views
            for (Map.Entry<?, ?> e : stateDict.entrySet()) {
                if (!(e.getKey() instanceof String key)) {
                    throw new ModelFileException(where + ": state dict has a key that is not a string");
                }
                if (!(e.getValue() instanceof RestrictedUnpickler.TensorRef ref)) {
                    continue; // e.g. a stray integer such as a step count; not a weight
                }
                String name = key.startsWith("module.") ? key.substring("module.".length()) : key;
                if (tensors.containsKey(name)) {
                    throw new ModelFileException(where + ": tensor " + name + " appears twice (with and without 'module.')");
                }
                tensors.put(name, materialise(zip, prefix, where, key, ref, storages, bytes));
            }
            if (tensors.isEmpty()) {
                throw new ModelFileException(where + ": checkpoint holds no tensors");
            }
            return tensors;
        } catch (ZipException e) {
            throw new ModelFileException(where + ": not a readable zip archive (truncated or corrupt): " + SafeTensors.firstLine(e.getMessage()));
        } catch (IOException e) {
            throw new ModelFileException(where + ": cannot read: " + SafeTensors.firstLine(e.getMessage()), e);
        }
    }

    private static Map<?, ?> findStateDict(String where, Object root) {
        if (!(root instanceof Map<?, ?> top)) {
            throw new ModelFileException(where + ": the pickled object is not a dict, so it is not a state dict");
        }
        for (String k : new String[] {"model", "state_dict", "model_state_dict"}) {
            if (top.get(k) instanceof Map<?, ?> inner && containsTensor(inner)) {
                return inner;
            }
        }
        if (!containsTensor(top)) {
            throw new ModelFileException(where + ": the pickled dict holds no tensors (looked at the top level and under "
                    + "'model' and 'state_dict')");
        }
        return top;
    }

    private static boolean containsTensor(Map<?, ?> m) {
        for (Object v : m.values()) {
            if (v instanceof RestrictedUnpickler.TensorRef) return true;
        }
        return false;
    }

    /**
     * The tensor a view describes; {@code bytes[0]} counts the bytes of the storages read so far, {@code bytes[1]} the
     * bytes strided views have copied.
     */
    private static Tensor materialise(ZipFile zip, String prefix, String where, String key,
                                      RestrictedUnpickler.TensorRef ref, Map<String, ByteBuffer> storages, long[] bytes) throws IOException {
        RestrictedUnpickler.StorageRef s = ref.storage();
        int elem = s.dtype().bytes();
        long numel = Tensor.numel(ref.size());
        String at = where + ": tensor " + key;
        if (numel > (Integer.MAX_VALUE - 16) / elem) {
            throw new ModelFileException(at + " is larger than 2 GB, which this reader does not support");
        }
        if (s.numel() > (Integer.MAX_VALUE - 16) / elem) {
            throw new ModelFileException(at + ": storage " + s.key() + " of " + s.numel() + " elements is larger than 2 GB, "
                    + "which this reader does not support");
        }
        if (ref.offset() < 0) throw new ModelFileException(at + " has a negative storage offset");
        // The highest element the view touches, offset + Σ (size − 1) · stride, must lie inside the storage; each
        // term is checked against the storage first, so that a huge stride cannot overflow the sum.
        long last = ref.offset();
        for (int i = 0; i < ref.size().length; i++) {
            if (ref.size()[i] == 0) {
                last = -1;
                break;
            }
            long stride = ref.stride()[i];
            if (stride < 0) throw new ModelFileException(at + " has a negative stride");
            if (stride > 0 && (ref.size()[i] - 1) > (s.numel() - last) / stride) {
                throw new ModelFileException(at + " has size " + java.util.Arrays.toString(ref.size()) + " and stride "
                        + java.util.Arrays.toString(ref.stride()) + ", which reach past the " + s.numel() + " elements of storage " + s.key());
            }
            last += (ref.size()[i] - 1) * stride;
        }
        if (last >= s.numel()) {
            throw new ModelFileException(at + " reaches element " + last + " of storage " + s.key()
                    + ", which holds " + s.numel());
        }
        ByteBuffer storage = storages.get(s.key());
        if (storage == null) {
            ZipEntry entry = zip.getEntry(prefix + "data/" + s.key());
            if (entry == null) {
                throw new ModelFileException(at + ": storage data/" + s.key() + " is missing from the archive");
            }
            long need = s.numel() * elem;
            if (entry.getSize() >= 0 && entry.getSize() < need) {
                throw new ModelFileException(at + ": storage data/" + s.key() + " holds " + entry.getSize()
                        + " bytes, shorter than the " + need + " its header declares");
            }
            if (entry.getMethod() != ZipEntry.STORED && entry.getCompressedSize() >= 0 && need > entry.getCompressedSize() * 1100L) {
                throw new ModelFileException(at + ": storage data/" + s.key() + " declares far more data than its compressed size allows");
            }
            storage = ByteBuffer.wrap(readEntry(zip, entry, need, where, true)).order(ByteOrder.LITTLE_ENDIAN);
            storages.put(s.key(), storage);
            bytes[0] += need;
        }
        int[] size = ref.size();
        long numelView = Tensor.numel(size);
        if (numelView == 0) return new Tensor(s.dtype(), size, ByteBuffer.allocate(0));
        boolean contiguous = true;
        long expect = 1;
        for (int i = size.length - 1; i >= 0; i--) {
            if (size[i] != 1 && ref.stride()[i] != expect) contiguous = false;
            expect *= size[i];
        }
        if (contiguous) {
            // Elements offset .. offset + numel − 1 of the storage, in order: the tensor is that slice, not a copy.
            ByteBuffer slice = storage.duplicate().position((int) (ref.offset() * elem)).limit((int) ((ref.offset() + numelView) * elem));
            return new Tensor(s.dtype(), size, slice);
        }
        bytes[1] += numelView * elem;
        if (bytes[1] > bytes[0] + COPY_ALLOWANCE) {
            throw new ModelFileException(at + " is a strided view of " + numelView + " elements of storage " + s.key()
                    + ", which holds " + s.numel() + "; the checkpoint's strided views would copy " + bytes[1]
                    + " bytes, more than its storages hold (" + bytes[0] + ") plus " + COPY_ALLOWANCE);
        }
        return new Tensor(s.dtype(), size, gather(storage, elem, ref));
    }

    /** Copies a strided view into a contiguous row-major buffer. */
    private static ByteBuffer gather(ByteBuffer storage, int elem, RestrictedUnpickler.TensorRef ref) {
        int[] size = ref.size();
        long[] stride = ref.stride();
        int numel = (int) Tensor.numel(size);
        ByteBuffer out = ByteBuffer.allocate(numel * elem).order(ByteOrder.LITTLE_ENDIAN);
        int[] idx = new int[size.length];
        byte[] one = new byte[elem];
        ByteBuffer src = storage.duplicate();
        for (int n = 0; n < numel; n++) {
            long off = ref.offset();
            for (int i = 0; i < size.length; i++) off += idx[i] * stride[i];
            src.position((int) (off * elem));
            src.get(one);
            out.put(one);
            for (int i = size.length - 1; i >= 0; i--) {
                if (++idx[i] < size[i]) break;
                idx[i] = 0;
            }
        }
        return out.flip();
    }

    private static byte[] readEntry(ZipFile zip, ZipEntry e, long max, String where) throws IOException {
        return readEntry(zip, e, max, where, false);
    }

    /** Reads an entry: all of it (at most {@code max} bytes), or exactly {@code max} bytes when {@code exact}. */
    private static byte[] readEntry(ZipFile zip, ZipEntry e, long max, String where, boolean exact) throws IOException {
        if (!exact && e.getSize() > max) {
            throw new ModelFileException(where + ": " + e.getName() + " is " + e.getSize() + " bytes, more than the " + max + " allowed");
        }
        int want = exact ? (int) max : (int) Math.min(max, e.getSize() >= 0 ? e.getSize() : max);
        try (InputStream in = zip.getInputStream(e)) {
            byte[] b = in.readNBytes(want);
            if (exact && b.length < want) {
                throw new ModelFileException(where + ": " + e.getName() + " holds " + b.length
                        + " bytes, shorter than the " + want + " its header declares");
            }
            if (!exact && e.getSize() < 0 && in.read() >= 0) {
                throw new ModelFileException(where + ": " + e.getName() + " is more than the " + max + " bytes allowed");
            }
            return b;
        }
    }

    private static byte[] readHead(Path file, int n) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return in.readNBytes(n);
        }
    }
}
