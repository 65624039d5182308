package bertj.fuzz;

import bertj.fuzz.TorchFiles.View;
import bertj.readers.ModelFileException;
import bertj.readers.OnnxFile;
import bertj.readers.PyTorchCheckpoint;
import bertj.readers.ReadersFuzzAccess;
import bertj.readers.Tensor;
import bertj.testing.OnnxWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.io.ByteArrayOutputStream;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The readers' limits on what a hostile file can make them build, where the fuzz targets cannot reach: their
 * inputs are a few kilobytes, and these attacks need megabytes of file or a declared size of gigabytes. Each
 * test measures the bytes the reading thread allocated (HotSpot's per-thread counter) and bounds them: a file of a
 * few megabytes may not make a reader allocate hundreds of megabytes, nor a shape alone gigabytes.
 */
class LimitsTest {
    private static final com.sun.management.ThreadMXBean THREADS = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    /** Runs {@code body}, expects a ModelFileException mentioning {@code says}, and returns the megabytes allocated. */
    static double refusedAllocatingMb(String says, Executable body) {
        long before = THREADS.getCurrentThreadAllocatedBytes();
        ModelFileException e = assertThrows(ModelFileException.class, body);
        double mb = (THREADS.getCurrentThreadAllocatedBytes() - before) / 1e6;
        assertTrue(e.getMessage().contains(says), e.getMessage());
        System.out.printf("%.1f MB allocated before: %s%n", mb, e.getMessage());
        return mb;
    }

    /** ]a pairs: each builds an empty list and appends it, so the stack stays small while the list grows (4 MB of pickle). */
    @Test
    void pickleBuildingMillionsOfValuesIsRefused() {
        byte[] p = new byte[2 + 1 + 2 * 2_100_000 + 1];
        p[0] = (byte) 0x80;
        p[1] = 2;
        p[2] = ']';
        for (int i = 3; i < p.length - 1; i += 2) {
            p[i] = ']';
            p[i + 1] = 'a';
        }
        p[p.length - 1] = '.';
        double mb = refusedAllocatingMb("more than 2000000 values", () -> ReadersFuzzAccess.unpickle("data.pkl", p));
        assertTrue(mb < 200, mb + " MB");
        // Below the budget the same program runs: 1,900,001 values (APPEND pushes nothing).
        byte[] ok = Arrays.copyOf(p, 3 + 2 * 1_900_000 + 1);
        ok[ok.length - 1] = '.';
        assertEquals(1_900_000, ((java.util.List<?>) ReadersFuzzAccess.unpickle("data.pkl", ok)).size());
    }

    /** A view of 100 million elements with stride 0 over a storage of one float. */
    @Test
    void strideZeroViewCannotRepeatOneElementIntoGigabytes() {
        Map<String, View> t = new LinkedHashMap<>();
        t.put("w", new View("FloatStorage", "0", 1, 0, new long[] {100_000_000}, new long[] {0}));
        byte[] file = TorchFiles.zip("archive", TorchFiles.stateDict(2, t, false), Map.of("0", TorchFiles.floats(7)), false, "little");
        double mb = refusedAllocatingMb("strided views would copy 400000000 bytes",
                () -> PyTorchCheckpoint.read(ScratchFile.write("limits.pt", file)));
        assertTrue(mb < 20, mb + " MB");
        // A small expanded buffer (position_ids is one) still reads, its element repeated.
        t.put("w", new View("FloatStorage", "0", 1, 0, new long[] {2, 3}, new long[] {0, 0}));
        byte[] small = TorchFiles.zip("archive", TorchFiles.stateDict(2, t, false), Map.of("0", TorchFiles.floats(7)), false, "little");
        assertArrayEquals(new float[] {7, 7, 7, 7, 7, 7}, PyTorchCheckpoint.read(ScratchFile.write("limits.pt", small)).get("w").toFloats());
    }

    /** Strides and storage sizes near 2⁶³ must not overflow the bounds check into a read outside the storage. */
    @Test
    void hugeStridesAndStorageSizesAreRefused() {
        Map<String, View> t = new LinkedHashMap<>();
        t.put("w", new View("FloatStorage", "0", 4, 0, new long[] {3, 2}, new long[] {1L << 62, 1}));
        byte[] stride = TorchFiles.zip("archive", TorchFiles.stateDict(2, t, false), Map.of("0", TorchFiles.floats(1, 2, 3, 4)), false, "little");
        refusedAllocatingMb("reach past the 4 elements of storage 0", () -> PyTorchCheckpoint.read(ScratchFile.write("limits.pt", stride)));
        t.put("w", new View("DoubleStorage", "0", Long.MAX_VALUE / 4, 0, new long[] {1}, new long[] {1}));
        byte[] numel = TorchFiles.zip("archive", TorchFiles.stateDict(2, t, false), Map.of("0", new byte[8]), false, "little");
        refusedAllocatingMb("larger than 2 GB", () -> PyTorchCheckpoint.read(ScratchFile.write("limits.pt", numel)));
    }

    static byte[] model(OnnxWriter.Msg graph) {
        return new OnnxWriter.Msg().varint(1, 8).message(7, graph).toBytes();
    }

    /** A FLOAT initializer of shape [400000000] and no data: 1.6 GB of room for nothing. */
    @Test
    void onnxShapeWithoutDataAllocatesNothing() {
        OnnxWriter.Msg t = new OnnxWriter.Msg().packedVarints(1, 400_000_000L).varint(2, 1).string(8, "w");
        byte[] file = model(new OnnxWriter.Msg().message(5, t));
        double mb = refusedAllocatingMb("holds 0 values, expected 400000000", () -> OnnxFile.parse(ByteBuffer.wrap(file), "m.onnx"));
        assertTrue(mb < 10, mb + " MB");
    }

    /** 1.1 million empty NodeProtos: 2.2 MB of file, a few hundred bytes of Java objects each. */
    @Test
    void onnxGraphWithMillionsOfNodesIsRefused() {
        ByteArrayOutputStream g = new ByteArrayOutputStream();
        for (int i = 0; i < 1_100_000; i++) {
            g.write(0x0a);
            g.write(0);
        }
        byte[] graph = g.toByteArray();
        byte[] file = modelWithGraphBytes(graph);
        double mb = refusedAllocatingMb("more than 1000000 nodes", () -> OnnxFile.parse(ByteBuffer.wrap(file), "m.onnx"));
        assertTrue(mb < 400, mb + " MB");
    }

    private static byte[] modelWithGraphBytes(byte[] graph) {
        ByteArrayOutputStream m = new ByteArrayOutputStream();
        m.write(0x08);
        m.write(8); // ir_version 8
        m.write(0x3a); // field 7, length-delimited
        long n = graph.length;
        while ((n & ~0x7fL) != 0) {
            m.write((int) ((n & 0x7f) | 0x80));
            n >>>= 7;
        }
        m.write((int) n);
        m.writeBytes(graph);
        return m.toByteArray();
    }

    /** Typed repeated fields are capped (16,777,216 values); a rank above 8 is refused before its dims pile up. */
    @Test
    void onnxTypedValuesAndRankAreCapped() {
        byte[] ones = new byte[(1 << 24) + 1];
        Arrays.fill(ones, (byte) 1);
        OnnxWriter.Msg t = new OnnxWriter.Msg().packedVarints(1, ones.length).varint(2, 7).string(8, "w").bytes(7, ones);
        byte[] file = model(new OnnxWriter.Msg().message(5, t));
        refusedAllocatingMb("int64_data holds more than 16777216 values", () -> OnnxFile.parse(ByteBuffer.wrap(file), "m.onnx"));
        OnnxWriter.Msg deep = new OnnxWriter.Msg().packedVarints(1, 1, 1, 1, 1, 1, 1, 1, 1, 1).varint(2, 1).string(8, "w");
        byte[] rank = model(new OnnxWriter.Msg().message(5, deep));
        refusedAllocatingMb("more than 8 dimensions", () -> OnnxFile.parse(ByteBuffer.wrap(rank), "m.onnx"));
        // Rank 8 is read.
        OnnxWriter.Msg eight = OnnxWriter.tensor("w", Tensor.ofFloats(new int[] {1, 1, 1, 1, 1, 1, 1, 2}, new float[] {1, 2}), false);
        assertEquals(8, OnnxFile.parse(ByteBuffer.wrap(model(new OnnxWriter.Msg().message(5, eight))), "m.onnx").initializers().get("w").rank());
    }
}
