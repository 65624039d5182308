package bertj.readers;

import bertj.model.TensorNames;
import bertj.testing.Cli;
import bertj.testing.PyTorch;
import bertj.testing.RandomBert;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Hostile and broken model files: each must give exit code 1 and one line on stderr naming the problem, within
 * seconds, without running anything or exhausting memory.
 */
class HostileFilesTest {
    @TempDir
    static Path dir;
    static Path marker;
    static Path goodCheckpoint;

    @BeforeAll
    static void setUp() throws IOException {
        marker = dir.resolve("pwned");
        goodCheckpoint = PyTorch.checkpoint(dir, "good.pt", PyTorch.seed("checkpoint to break"));
    }

    static Stream<Arguments> hostileFiles() throws IOException {
        String touch = "touch " + marker;
        return Stream.of(
                Arguments.of("pickle naming os.system", torchZip(callPickle("os", "system", touch)), "os.system"),
                Arguments.of("pickle naming posix.system", torchZip(callPickle("posix", "system", touch)), "posix.system"),
                Arguments.of("pickle naming builtins.eval", torchZip(callPickle("builtins", "eval", "__import__('os').system('" + touch + "')")), "builtins.eval"),
                Arguments.of("pickle naming subprocess.Popen", torchZip(callPickle("subprocess", "Popen", touch)), "subprocess.Popen"),
                Arguments.of("STACK_GLOBAL naming builtins.exec", torchZip(stackGlobalPickle("builtins", "exec", "open('" + marker + "','w')")), "builtins.exec"),
                Arguments.of("truncated zip", truncated(goodCheckpoint, 0.5), "zip"),
                Arguments.of("storage shorter than its tensor", torchZip(tensorPickle(100, new int[] {10, 10}), new byte[40]), "shorter"),
                Arguments.of("tensor view past its storage", torchZip(tensorPickle(10, new int[] {10, 10}), new byte[40]), "reach past the 10 elements of storage"),
                Arguments.of("storage entry missing", torchZipNoStorage(tensorPickle(100, new int[] {10, 10})), "missing"),
                Arguments.of("safetensors header length beyond the file", safetensorsRaw(1_000_000L, "{}", 0), "past the end"),
                Arguments.of("safetensors header length absurd", safetensorsRaw(Long.MAX_VALUE, "{}", 0), "header length"),
                Arguments.of("malformed header JSON", safetensorsRaw(-1, "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], ", 8), "not valid JSON"),
                Arguments.of("out-of-range offsets", safetensorsRaw(-1, "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8), "outside"),
                Arguments.of("overlapping offsets", safetensorsRaw(-1, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                        + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12), "overlap"),
                Arguments.of("offsets disagreeing with shape", safetensorsRaw(-1, "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8), "needs"),
                Arguments.of("wrong shape", bert("wrongshape", t -> t.put("encoder.layer.1.attention.self.query.weight",
                        RandomBert.normal(new Random(1), 0.1, 32, 31))), "[32, 31], expected [32, 32]"),
                Arguments.of("missing tensor", bert("missing", t -> t.remove("encoder.layer.1.output.dense.bias")), "encoder.layer.1.output.dense.bias"),
                Arguments.of("NaN weights", bert("nan", t -> {
                    float[] v = t.get("encoder.layer.0.intermediate.dense.weight").toFloats();
                    v[17] = Float.NaN;
                    t.put("encoder.layer.0.intermediate.dense.weight", Tensor.ofFloats(new int[] {64, 32}, v));
                }), "NaN"),
                Arguments.of("empty file", write("empty.pt", new byte[0]), "empty"),
                Arguments.of("random bytes", write("random.bin", randomBytes(1 << 16)), "unrecognised"),
                Arguments.of("deeply nested pickle (lists)", torchZip(nestedLists(100_000)), "not a dict"),
                Arguments.of("deeply nested pickle (marks)", torchZip(nestedMarks(100_000)), "nested more than"),
                Arguments.of("legacy torch.save file", write("legacy.pt", legacyHead()), "legacy"),
                Arguments.of("zip without data.pkl", zipOf("nothing.pt", Map.of("archive/readme", "hi".getBytes())), "data.pkl"),
                Arguments.of("pickle that is not a dict", torchZip(new byte[] {(byte) 0x80, 2, 'K', 7, '.'}), "not a dict"),
                Arguments.of("pickle with unknown opcode", torchZip(new byte[] {(byte) 0x80, 2, 'i', '.'}), "opcode"),
                Arguments.of("pickle ending early", torchZip(new byte[] {(byte) 0x80, 2, '}', 'X', 100, 0, 0, 0, 'a'}), "past the end"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("hostileFiles")
    void rejectedWithOneLineAndExitOne(String what, Path file, String mustMention) {
        Cli.Result r = assertTimeoutPreemptively(Duration.ofSeconds(20), () -> Cli.run("info", "--model", file.toString()));
        assertEquals(1, r.code(), what + ": " + r.out() + r.err());
        assertEquals(1, r.errLines().length, what + ": expected one line, got: " + r.err());
        assertTrue(r.err().contains(mustMention), what + ": message should mention '" + mustMention + "': " + r.err());
        assertFalse(r.err().contains("Exception") || r.err().contains("\tat "), what + ": " + r.err());
        assertFalse(Files.exists(marker), what + ": something was executed");
        System.out.println(what + " -> " + r.err().trim());
    }

    // ---- builders -------------------------------------------------------------------------------------------

    /** A pickle that calls module.name(arg) with GLOBAL + REDUCE, as a malicious __reduce__ would produce. */
    static byte[] callPickle(String module, String name, String arg) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(0x80);
        b.write(2);
        b.writeBytes(("c" + module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
        unicode(b, arg);
        b.write(0x85); // TUPLE1
        b.write('R');
        b.write('.');
        return b.toByteArray();
    }

    static byte[] stackGlobalPickle(String module, String name, String arg) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(0x80);
        b.write(4);
        unicode(b, module);
        unicode(b, name);
        b.write(0x93); // STACK_GLOBAL
        unicode(b, arg);
        b.write(0x85);
        b.write('R');
        b.write('.');
        return b.toByteArray();
    }

    /** {"w": _rebuild_tensor_v2(('storage', FloatStorage, '0', 'cpu', numel), 0, size, contiguous stride, False, OrderedDict())} */
    static byte[] tensorPickle(int storageNumel, int[] size) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(0x80);
        b.write(2);
        b.write('}');
        unicode(b, "w");
        b.writeBytes("ctorch._utils\n_rebuild_tensor_v2\n".getBytes(StandardCharsets.US_ASCII));
        b.write('(');
        // persistent id tuple
        b.write('(');
        unicode(b, "storage");
        b.writeBytes("ctorch\nFloatStorage\n".getBytes(StandardCharsets.US_ASCII));
        unicode(b, "0");
        unicode(b, "cpu");
        binint(b, storageNumel);
        b.write('t');
        b.write('Q'); // BINPERSID
        binint(b, 0);
        b.write('(');
        for (int d : size) binint(b, d);
        b.write('t');
        b.write('(');
        int stride = 1;
        int[] strides = new int[size.length];
        for (int i = size.length - 1; i >= 0; i--) {
            strides[i] = stride;
            stride *= size[i];
        }
        for (int s : strides) binint(b, s);
        b.write('t');
        b.write(0x89); // False
        b.writeBytes("ccollections\nOrderedDict\n".getBytes(StandardCharsets.US_ASCII));
        b.write(')');
        b.write('R');
        b.write('t');
        b.write('R');
        b.write('s'); // SETITEM
        b.write('.');
        return b.toByteArray();
    }

    static byte[] nestedLists(int depth) {
        byte[] p = new byte[3 + depth + (depth - 1)];
        p[0] = (byte) 0x80;
        p[1] = 2;
        Arrays.fill(p, 2, 2 + depth, (byte) ']');
        Arrays.fill(p, 2 + depth, p.length - 1, (byte) 'a');
        p[p.length - 1] = '.';
        return p;
    }

    static byte[] nestedMarks(int depth) {
        byte[] p = new byte[3 + depth];
        p[0] = (byte) 0x80;
        p[1] = 2;
        Arrays.fill(p, 2, 2 + depth, (byte) '(');
        p[p.length - 1] = '.';
        return p;
    }

    static byte[] legacyHead() {
        byte[] b = new byte[64];
        byte[] magic = {(byte) 0x80, 0x02, (byte) 0x8a, 0x0a, 0x6c, (byte) 0xfc, (byte) 0x9c, 0x46, (byte) 0xf9, 0x20};
        System.arraycopy(magic, 0, b, 0, magic.length);
        return b;
    }

    private static void unicode(ByteArrayOutputStream b, String s) {
        byte[] u = s.getBytes(StandardCharsets.UTF_8);
        b.write('X');
        b.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(u.length).array());
        b.writeBytes(u);
    }

    private static void binint(ByteArrayOutputStream b, int v) {
        b.write('J');
        b.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array());
    }

    private static int counter;

    static Path torchZip(byte[] pickle) throws IOException {
        return torchZip(pickle, null);
    }

    static Path torchZip(byte[] pickle, byte[] storage) throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("archive/data.pkl", pickle);
        entries.put("archive/version", "3\n".getBytes());
        entries.put("archive/data/0", storage == null ? new byte[0] : storage);
        return zipOf("hostile" + (counter++) + ".pt", entries);
    }

    static Path torchZipNoStorage(byte[] pickle) throws IOException {
        return zipOf("nostorage.pt", Map.of("archive/data.pkl", pickle, "archive/version", "3\n".getBytes()));
    }

    static Path zipOf(String name, Map<String, byte[]> entries) throws IOException {
        Path p = dir.resolve(name);
        try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(p))) {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                ZipEntry ze = new ZipEntry(e.getKey());
                ze.setMethod(ZipEntry.STORED);
                ze.setSize(e.getValue().length);
                CRC32 crc = new CRC32();
                crc.update(e.getValue());
                ze.setCrc(crc.getValue());
                z.putNextEntry(ze);
                z.write(e.getValue());
                z.closeEntry();
            }
        }
        return p;
    }

    static Path truncated(Path file, double fraction) throws IOException {
        byte[] all = Files.readAllBytes(file);
        return write("truncated.pt", Arrays.copyOf(all, (int) (all.length * fraction)));
    }

    /** A safetensors file with the given header (padded) and data bytes; headerLen -1 = the header's real length. */
    static Path safetensorsRaw(long headerLen, String header, int dataBytes) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        Path p = dir.resolve("st" + (counter++) + ".safetensors");
        try (OutputStream o = Files.newOutputStream(p)) {
            o.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(headerLen < 0 ? h.length : headerLen).array());
            o.write(h);
            o.write(new byte[dataBytes]);
        }
        return p;
    }

    interface Mutation {
        void apply(Map<String, Tensor> t);
    }

    static Path bert(String name, Mutation m) throws IOException {
        Map<String, Tensor> t = RandomBert.tensors(RandomBert.TINY, 5);
        m.apply(t);
        Path d = dir.resolve(name);
        Files.createDirectories(d);
        SafeTensors.write(d.resolve("model.safetensors"), t, Map.of());
        Files.writeString(d.resolve("config.json"), "{\"hidden_size\":32,\"num_hidden_layers\":2,\"num_attention_heads\":4,"
                + "\"intermediate_size\":64,\"max_position_embeddings\":16,\"type_vocab_size\":2,\"vocab_size\":100,\"hidden_act\":\"gelu\"}");
        assertTrue(t.containsKey(TensorNames.WORD_EMBEDDINGS));
        return d;
    }

    static Path write(String name, byte[] content) throws IOException {
        return Files.write(dir.resolve(name), content);
    }

    static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        new Random(42).nextBytes(b);
        b[0] = 0x13; // not 'P', not a plausible safetensors header
        return b;
    }
}
