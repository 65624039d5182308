package bertj.model;

import bertj.readers.OnnxFile;
import bertj.readers.Tensor;

import java.util.Map;
import java.util.function.UnaryOperator;

/** Lets the fuzz targets in bertj.fuzz map ONNX graphs to BERT weights and write the test's BERT graphs as seeds. */
public final class ModelFuzzAccess {
    private ModelFuzzAccess() {
    }

    /** {@link OnnxFormat#fromGraph}: initializers to canonical names, and the graph's facts. */
    public static ModelLoader.Read fromGraph(OnnxFile.Model m, String where) {
        return OnnxFormat.fromGraph(m, where);
    }

    /**
     * Canonical tensors as an ONNX graph the way PyTorch exports it ({@link OnnxImportTest#export}).
     *
     * @param rawData      raw_data (else float_data and friends for every other tensor)
     * @param headsReshape the Reshape that tells the head count
     * @param gemmForKey   the key projections as Gemm (transB = 1) instead of MatMul
     */
    public static byte[] export(Map<String, Tensor> canonical, BertConfig c, boolean rawData, boolean headsReshape, boolean gemmForKey) {
        return OnnxImportTest.export(canonical, c, new OnnxImportTest.Export(rawData, headsReshape, gemmForKey, UnaryOperator.identity()));
    }
}
