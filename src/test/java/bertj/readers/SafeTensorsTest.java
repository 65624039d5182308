package bertj.readers;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class SafeTensorsTest {
    @TempDir
    Path dir;

    @Test
    void roundTripsEveryDtype() throws Exception {
        Random r = new Random(3);
        float[] f = new float[6];
        for (int i = 0; i < f.length; i++) f[i] = (float) r.nextGaussian();
        double[] d = {Math.PI, -Math.E, 1e-300};
        long[] l = {Long.MIN_VALUE, -1, 0, 1, Long.MAX_VALUE};
        ByteBuffer half = ByteBuffer.allocate(6).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer bf16 = ByteBuffer.allocate(6).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : new float[] {1.5f, -0.25f, 65504f}) {
            half.putShort(Float.floatToFloat16(x));
            bf16.putShort((short) (Float.floatToIntBits(x) >>> 16));
        }
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put("f32", Tensor.ofFloats(new int[] {2, 3}, f));
        t.put("f64", Tensor.ofDoubles(new int[] {3}, d));
        t.put("i64", Tensor.ofLongs(new int[] {5, 1}, l));
        t.put("f16", new Tensor(DType.F16, new int[] {3}, half.flip()));
        t.put("bf16", new Tensor(DType.BF16, new int[] {3}, bf16.flip()));
        t.put("empty", Tensor.ofFloats(new int[] {0, 4}, new float[0]));
        Path p = dir.resolve("x.safetensors");
        SafeTensors.write(p, t, Map.of("k", "v"));
        SafeTensors.Contents c = SafeTensors.read(p);
        assertEquals("v", c.metadata().get("k"));
        assertEquals(t.keySet(), c.tensors().keySet());
        assertArrayEquals(f, c.tensors().get("f32").toFloats());
        assertArrayEquals(new int[] {2, 3}, c.tensors().get("f32").shape());
        assertArrayEquals(d, c.tensors().get("f64").toDoubles());
        assertArrayEquals(l, c.tensors().get("i64").toLongs());
        assertArrayEquals(new float[] {1.5f, -0.25f, 65504f}, c.tensors().get("f16").toFloats());
        assertArrayEquals(new float[] {1.5f, -0.25f, 65280f}, c.tensors().get("bf16").toFloats()); // bf16 written by truncating 65504
        assertEquals(0, c.tensors().get("empty").numel());
    }
}
