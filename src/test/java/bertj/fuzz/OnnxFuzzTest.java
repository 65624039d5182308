package bertj.fuzz;

import bertj.model.BertConfig;
import bertj.model.GeluForm;
import bertj.model.LoadedModel;
import bertj.model.ModelFuzzAccess;
import bertj.model.ModelLoader;
import bertj.readers.ModelFileException;
import bertj.readers.OnnxFile;
import bertj.readers.Tensor;
import bertj.testing.RandomBert;
import com.code_intelligence.jazzer.junit.DictionaryFile;
import com.code_intelligence.jazzer.junit.FuzzTest;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * An ONNX file from memory: bertj's own protobuf reader ({@link OnnxFile#parse}), then the mapping of the graph to
 * BERT weights and facts (initializer names, MatMul/Gemm scopes, the heads Reshape, GELU and LayerNorm ε nodes),
 * then the loader's checks. Property: a loaded model, or {@link ModelFileException} with a one-line message.
 */
class OnnxFuzzTest {
    /** The smallest BERT the loader accepts: 1 layer, hidden 4, 2 heads (no preset: the graph must say). */
    static final BertConfig MINI = new BertConfig(6, 4, 1, 2, 8, 4, 2, 1e-12, GeluForm.ERF);

    static Map<String, Tensor> mini(long seed) {
        return RandomBert.tensors(MINI, seed);
    }

    static Stream<Arguments> seeds() {
        return Stream.of(
                Arguments.of(Named.of("BERT graph, raw_data", ModelFuzzAccess.export(mini(1), MINI, true, true, false))),
                Arguments.of(Named.of("BERT graph, typed data, Gemm", ModelFuzzAccess.export(mini(2), MINI, false, true, true))),
                Arguments.of(Named.of("BERT graph, no heads Reshape", ModelFuzzAccess.export(mini(3), MINI, true, false, false))));
    }

    static final String WHERE = "model.onnx";

    @MethodSource("seeds")
    @DictionaryFile(resourcePath = "onnx.dict")
    @FuzzTest
    void onnx(byte[] input) {
        Contract.holds(() -> {
            OnnxFile.Model m = OnnxFile.parse(ByteBuffer.wrap(input), WHERE);
            for (Map.Entry<String, Tensor> e : m.initializers().entrySet()) {
                Tensor t = e.getValue();
                if (t.bytes().remaining() != t.numel() * t.dtype().bytes()) throw new AssertionError(e.getKey() + " has the wrong byte count");
            }
            ModelLoader.Read read = ModelFuzzAccess.fromGraph(m, WHERE);
            LoadedModel loaded = ModelLoader.assemble(Path.of(WHERE), WHERE, "onnx", read, null, null, ModelLoader.Options.defaults());
            ModelLoaderFuzzTest.checkLoaded(loaded);
        }, ModelFileException.class);
    }

    @Test
    void seedsLoad() {
        for (boolean raw : new boolean[] {true, false}) {
            OnnxFile.Model m = OnnxFile.parse(ByteBuffer.wrap(ModelFuzzAccess.export(mini(4), MINI, raw, true, !raw)), WHERE);
            LoadedModel loaded = ModelLoader.assemble(Path.of(WHERE), WHERE, "onnx", ModelFuzzAccess.fromGraph(m, WHERE), null, null,
                    ModelLoader.Options.defaults());
            assertEquals(MINI, loaded.weights().config());
        }
    }
}
