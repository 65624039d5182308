package bertj.backend.opencl;

/**
 * IEEE binary16 conversions on the host, bit-exact with the device's vload_half / vstore_half_rte: round to
 * nearest, ties to even ({@link Float#floatToFloat16}).
 */
public final class Half {
    private Half() {
    }

    public static short[] of(float[] values) {
        short[] out = new short[values.length];
        for (int i = 0; i < values.length; i++) out[i] = Float.floatToFloat16(values[i]);
        return out;
    }

    /** Rounds doubles to half; exact when the doubles are already half values (as test inputs are). */
    public static short[] of(double[] values) {
        short[] out = new short[values.length];
        for (int i = 0; i < values.length; i++) out[i] = Float.floatToFloat16((float) values[i]);
        return out;
    }

    public static double[] toDoubles(short[] halves) {
        double[] out = new double[halves.length];
        for (int i = 0; i < halves.length; i++) out[i] = Float.float16ToFloat(halves[i]);
        return out;
    }

    /** The nearest half to {@code v}, as a double. */
    public static double round(double v) {
        return Float.float16ToFloat(Float.floatToFloat16((float) v));
    }
}
