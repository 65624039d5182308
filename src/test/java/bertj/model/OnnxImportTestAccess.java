package bertj.model;

import bertj.readers.Tensor;

import java.util.Map;

/** Lets tests in other packages write the test BERT ONNX graph of {@link OnnxImportTest}. */
public final class OnnxImportTestAccess {
    private OnnxImportTestAccess() {
    }

    /** RandomBert.TINY-shaped canonical tensors as an ONNX graph the way PyTorch exports it. */
    public static byte[] export(Map<String, Tensor> canonical) {
        return OnnxImportTest.export(canonical, bertj.testing.RandomBert.TINY, OnnxImportTest.Export.plain());
    }
}
