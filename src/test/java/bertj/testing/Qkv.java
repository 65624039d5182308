package bertj.testing;

/**
 * Packs separate q, k, v [tokens, hidden] into the [tokens, 3·hidden] layout {@code Backend.attention} takes
 * (q | k | v side by side in each row), as the packed query/key/value product gives it.
 */
public final class Qkv {
    private Qkv() {
    }

    public static double[] pack(double[] q, double[] k, double[] v, int tokens, int hidden) {
        double[] out = new double[3 * tokens * hidden];
        for (int t = 0; t < tokens; t++) {
            System.arraycopy(q, t * hidden, out, 3 * t * hidden, hidden);
            System.arraycopy(k, t * hidden, out, 3 * t * hidden + hidden, hidden);
            if (v != null) System.arraycopy(v, t * hidden, out, 3 * t * hidden + 2 * hidden, hidden);
        }
        return out;
    }

    public static float[] pack(float[] q, float[] k, float[] v, int tokens, int hidden) {
        float[] out = new float[3 * tokens * hidden];
        for (int t = 0; t < tokens; t++) {
            System.arraycopy(q, t * hidden, out, 3 * t * hidden, hidden);
            System.arraycopy(k, t * hidden, out, 3 * t * hidden + hidden, hidden);
            if (v != null) System.arraycopy(v, t * hidden, out, 3 * t * hidden + 2 * hidden, hidden);
        }
        return out;
    }
}
