package bertj.fuzz;

import bertj.fuzz.TorchFiles.View;
import bertj.readers.ModelFileException;
import bertj.readers.PyTorchCheckpoint;
import bertj.readers.Tensor;
import com.code_intelligence.jazzer.junit.DictionaryFile;
import com.code_intelligence.jazzer.junit.FuzzTest;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A torch.save checkpoint: the zip container and the state dict in it. An input is either a whole file (first
 * byte even: the fuzzer mutates the zip's headers and central directory) or, first byte odd, the parts of a
 * well-formed archive — data.pkl and up to three storages, stored or deflated, with or without a byteorder entry
 * — that this test zips, so that mutations reach the pickle and the tensor views (offsets, sizes, strides against
 * storage sizes) instead of dying at the zip checks. Property: {@link PyTorchCheckpoint#read} returns tensors or
 * throws {@link ModelFileException} with a one-line message.
 */
class PyTorchZipFuzzTest {
    /** Layout of a structured input: flags, data.pkl, storage count, storages. */
    static byte[] structured(boolean deflate, String byteorder, byte[] pickle, byte[]... storages) {
        int flags = 1 | (deflate ? 2 : 0) | (byteorder != null ? 4 : 0) | ("big".equals(byteorder) ? 8 : 0);
        FuzzInput.Writer w = new FuzzInput.Writer().u8(flags).chunk(pickle).u8(storages.length);
        for (byte[] s : storages) w.chunk(s);
        return w.toBytes();
    }

    static byte[] whole(byte[] file) {
        return new FuzzInput.Writer().u8(0).rest(file).toBytes();
    }

    /** The file an input stands for. */
    static byte[] file(byte[] input) {
        FuzzInput in = new FuzzInput(input);
        int flags = in.u8();
        if ((flags & 1) == 0) return in.rest();
        byte[] pickle = in.chunk();
        int n = in.u8() % 4;
        Map<String, byte[]> storages = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) storages.put(Integer.toString(i), in.chunk());
        String byteorder = (flags & 4) == 0 ? null : (flags & 8) != 0 ? "big" : "little";
        return TorchFiles.zip("archive", pickle, storages, (flags & 2) != 0, byteorder);
    }

    static final byte[] WORD = TorchFiles.floats(1, 2, 3, 4, 5, 6);
    static final byte[] HALF = {0, 0x3c, 0, 0x40, 0, 0x42}; // 1, 2, 3 in float16
    static final byte[] SIX_DOUBLES = new byte[48], FOUR_LONGS = new byte[32], ONE_BF16 = {(byte) 0x80, 0x3f};

    static {
        java.nio.ByteBuffer.wrap(SIX_DOUBLES).order(java.nio.ByteOrder.LITTLE_ENDIAN).asDoubleBuffer().put(new double[] {1, 2, 3, 4, 5, 6});
        java.nio.ByteBuffer.wrap(FOUR_LONGS).order(java.nio.ByteOrder.LITTLE_ENDIAN).asLongBuffer().put(new long[] {10, 11, 12, 13});
    }

    static byte[] twoTensorsPickle() {
        return TorchFiles.stateDict(2, PickleFuzzTest.twoTensors(), false);
    }

    static Stream<Arguments> seeds() {
        byte[] viewsPickle = TorchFiles.stateDict(4, PickleFuzzTest.views(), true);
        return Stream.of(
                Arguments.of(Named.of("state dict", structured(false, "little", twoTensorsPickle(), WORD, HALF))),
                Arguments.of(Named.of("state dict, deflated, no byteorder", structured(true, null, twoTensorsPickle(), WORD, HALF))),
                Arguments.of(Named.of("views and parameters", structured(false, "little", viewsPickle, SIX_DOUBLES, FOUR_LONGS, ONE_BF16))),
                Arguments.of(Named.of("under 'model'", structured(false, "little", TorchFiles.wrapped("model", twoTensorsPickle()), WORD, HALF))),
                Arguments.of(Named.of("big-endian", structured(false, "big", twoTensorsPickle(), WORD, HALF))),
                Arguments.of(Named.of("whole file", whole(file(structured(false, "little", twoTensorsPickle(), WORD, HALF))))),
                Arguments.of(Named.of("whole file, deflated", whole(file(structured(true, "little", viewsPickle, SIX_DOUBLES, FOUR_LONGS, ONE_BF16))))),
                Arguments.of(Named.of("legacy magic", whole(new byte[] {(byte) 0x80, 0x02, (byte) 0x8a, 0x0a, 0x6c, (byte) 0xfc, (byte) 0x9c, 0x46, (byte) 0xf9, 0x20}))));
    }

    @MethodSource("seeds")
    @DictionaryFile(resourcePath = "pickle.dict")
    @DictionaryFile(resourcePath = "zip.dict")
    @FuzzTest
    void checkpoint(byte[] input) {
        Contract.holds(() -> {
            Path p = ScratchFile.write("model.pt", file(input));
            PyTorchCheckpoint.isLegacy(p);
            PyTorchCheckpoint.looksLike(p);
            for (Map.Entry<String, Tensor> e : PyTorchCheckpoint.read(p).entrySet()) {
                if (e.getKey().startsWith("module.")) throw new AssertionError("module. prefix left on " + e.getKey());
                Tensor t = e.getValue();
                if (t.bytes().remaining() != t.numel() * t.dtype().bytes()) throw new AssertionError(e.getKey() + " has the wrong byte count");
            }
        }, ModelFileException.class);
    }

    /** The seeds read back as written: values, a transposed view, an offset view, a parameter, a scalar. */
    @Test
    void seedsReadBackAsWritten() {
        Map<String, Tensor> t = PyTorchCheckpoint.read(ScratchFile.write("seed.pt", file(structured(false, "little", twoTensorsPickle(), WORD, HALF))));
        assertEquals(List.of("bert.embeddings.word_embeddings.weight", "bert.embeddings.LayerNorm.bias"), List.copyOf(t.keySet()));
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, t.get("bert.embeddings.word_embeddings.weight").toFloats());
        assertArrayEquals(new float[] {1, 2, 3}, t.get("bert.embeddings.LayerNorm.bias").toFloats());
        t = PyTorchCheckpoint.read(ScratchFile.write("seed.pt", file(structured(true, "little",
                TorchFiles.stateDict(4, PickleFuzzTest.views(), true), SIX_DOUBLES, FOUR_LONGS, ONE_BF16))));
        assertEquals("[w, b, x]", t.keySet().toString());
        assertEquals("[3, 2]", Arrays.toString(t.get("w").shape()));
        assertArrayEquals(new double[] {1, 4, 2, 5, 3, 6}, t.get("w").toDoubles());
        assertArrayEquals(new long[] {11, 12, 13}, t.get("b").toLongs());
        assertArrayEquals(new float[] {1}, t.get("x").toFloats());
    }
}
