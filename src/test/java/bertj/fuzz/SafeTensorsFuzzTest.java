package bertj.fuzz;

import bertj.readers.ModelFileException;
import bertj.readers.SafeTensors;
import bertj.readers.Tensor;
import com.code_intelligence.jazzer.junit.DictionaryFile;
import com.code_intelligence.jazzer.junit.FuzzTest;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A safetensors file read from memory. An input is the whole file (first byte even), or (odd) a header and the
 * data, for which this test writes the 8-byte header length, so that mutations of the JSON are not all stopped by
 * a length that no longer fits. Property: {@link SafeTensors#read} returns tensors whose byte counts match their
 * shapes, or throws {@link ModelFileException} with a one-line message.
 */
class SafeTensorsFuzzTest {
    static byte[] file(byte[] input) {
        FuzzInput in = new FuzzInput(input);
        if ((in.u8() & 1) == 0) return in.rest();
        byte[] header = in.chunk(), data = in.rest();
        return ByteBuffer.allocate(8 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(header.length).put(header).put(data).array();
    }

    static byte[] structured(String header, byte[] data) {
        return new FuzzInput.Writer().u8(1).text(header).rest(data).toBytes();
    }

    static final String TWO = "{\"__metadata__\":{\"format\":\"pt\"},"
            + "\"bert.embeddings.word_embeddings.weight\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},"
            + "\"b\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[16,20]}}";
    static final String TYPES = "{\"d\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]},"
            + "\"l\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[8,16]},"
            + "\"i\":{\"dtype\":\"I32\",\"shape\":[1,1],\"data_offsets\":[16,20]},"
            + "\"h\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[20,24]},"
            + "\"e\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[24,24]}}";

    static byte[] data(int n) {
        byte[] d = new byte[n];
        for (int i = 0; i < n; i++) d[i] = (byte) (i * 37 + 1);
        return d;
    }

    static Stream<Arguments> seeds() {
        return Stream.of(
                Arguments.of(Named.of("two tensors and metadata", structured(TWO, data(20)))),
                Arguments.of(Named.of("every dtype, a scalar, an empty tensor", structured(TYPES, data(24)))),
                Arguments.of(Named.of("whole file", new FuzzInput.Writer().u8(0).rest(file(structured(TWO, data(20)))).toBytes())),
                Arguments.of(Named.of("empty header", structured("{}", new byte[0]))));
    }

    @MethodSource("seeds")
    @DictionaryFile(resourcePath = "safetensors.dict")
    @FuzzTest
    void safetensors(byte[] input) {
        Contract.holds(() -> {
            try (MemoryChannel ch = new MemoryChannel(file(input))) {
                for (Map.Entry<String, Tensor> e : SafeTensors.read(ch, "model.safetensors").tensors().entrySet()) {
                    Tensor t = e.getValue();
                    if (t.bytes().remaining() != t.numel() * t.dtype().bytes()) throw new AssertionError(e.getKey() + " has the wrong byte count");
                }
            }
        }, ModelFileException.class);
    }

    @Test
    void seedsReadBackAsWritten() {
        SafeTensors.Contents c = SafeTensors.read(new MemoryChannel(file(structured(TWO, TorchFiles.floats(1, 2, 3, 4, 5)))), "s");
        assertEquals(Map.of("format", "pt"), c.metadata());
        assertArrayEquals(new float[] {1, 2, 3, 4}, c.tensors().get("bert.embeddings.word_embeddings.weight").toFloats());
        c = SafeTensors.read(new MemoryChannel(file(structured(TYPES, data(24)))), "s");
        assertEquals("[d, l, i, h, e]", c.tensors().keySet().toString());
        assertEquals(0, c.tensors().get("e").numel());
    }
}
