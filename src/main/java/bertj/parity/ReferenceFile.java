package bertj.parity;

import bertj.backend.Batch;
import bertj.readers.DType;
import bertj.readers.ModelFileException;
import bertj.readers.SafeTensors;
import bertj.readers.Tensor;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A parity reference: inputs {@code input_ids}, {@code token_type_ids}, {@code attention_mask} (I64 [B, S])
 * and expected outputs ({@code embeddings}, {@code layer.i}, {@code start_logits}, {@code end_logits}, in F32
 * or F64) in one safetensors file, as written by {@code weights/reference.py}.
 */
public record ReferenceFile(Path path, Batch batch, Map<String, Tensor> expected, String precision, Map<String, String> metadata) {

    public static final String[] INPUTS = {"input_ids", "token_type_ids", "attention_mask"};

    public static ReferenceFile read(Path path) {
        SafeTensors.Contents c = SafeTensors.read(path);
        Batch batch = batchOf(path.toString(), c.tensors());
        Map<String, Tensor> expected = new LinkedHashMap<>();
        DType dtype = null;
        for (Map.Entry<String, Tensor> e : c.tensors().entrySet()) {
            if (Arrays.asList(INPUTS).contains(e.getKey())) continue;
            Tensor t = e.getValue();
            if (t.dtype() != DType.F32 && t.dtype() != DType.F64) {
                throw new ModelFileException(path + ": expected output " + e.getKey() + " has dtype " + t.dtype() + "; F32 or F64 needed");
            }
            if (dtype != null && dtype != t.dtype()) {
                throw new ModelFileException(path + ": expected outputs mix F32 and F64");
            }
            dtype = t.dtype();
            expected.put(e.getKey(), t);
        }
        if (expected.isEmpty()) {
            throw new ModelFileException(path + ": holds inputs but no expected outputs");
        }
        return new ReferenceFile(path, batch, expected, dtype == DType.F64 ? "float64" : "float32", c.metadata());
    }

    /** Reads the three input tensors of a reference or trace-input file as a batch. */
    public static Batch batchOf(String where, Map<String, Tensor> tensors) {
        int[][] parts = new int[3][];
        int[] shape = null;
        for (int i = 0; i < 3; i++) {
            Tensor t = tensors.get(INPUTS[i]);
            if (t == null) {
                throw new ModelFileException(where + ": missing input tensor " + INPUTS[i]);
            }
            if (t.dtype() != DType.I64 && t.dtype() != DType.I32) {
                throw new ModelFileException(where + ": " + INPUTS[i] + " has dtype " + t.dtype() + "; I64 needed");
            }
            if (t.rank() != 2 || t.dim(0) == 0 || t.dim(1) == 0) {
                throw new ModelFileException(where + ": " + INPUTS[i] + " has shape " + Arrays.toString(t.shape()) + "; [batch, seq] needed");
            }
            if (shape != null && !Arrays.equals(shape, t.shape())) {
                throw new ModelFileException(where + ": " + INPUTS[i] + " has shape " + Arrays.toString(t.shape())
                        + " but " + INPUTS[0] + " has " + Arrays.toString(shape));
            }
            shape = t.shape();
            long[] v = t.toLongs();
            int[] out = new int[v.length];
            for (int j = 0; j < v.length; j++) {
                if (v[j] < Integer.MIN_VALUE || v[j] > Integer.MAX_VALUE) {
                    throw new ModelFileException(where + ": " + INPUTS[i] + " holds " + v[j] + ", out of range");
                }
                out[j] = (int) v[j];
            }
            parts[i] = out;
        }
        return new Batch(shape[0], shape[1], parts[0], parts[1], parts[2]);
    }
}
