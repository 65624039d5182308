package bertj.testing;

/**
 * Element-wise errors measured in units of a precision's roundoff, the bound the MiniLM parity tests hold each
 * backend to:
 * <pre>
 *   |a_i − e_i| ≤ k · u · (|e_i| + rms(e_row))
 * </pre>
 * u is the unit roundoff of the precision compared (2^-24 for float32, 2^-11 for half) and rms(e_row) the RMS of
 * the expected row the element belongs to (a token's hidden vector, an embedding): a rounding error is relative to
 * the value, and sums and LayerNorms spread the errors of a row's large values over its small ones. {@link #units}
 * returns the worst k.
 */
public final class Elementwise {
    private Elementwise() {
    }

    public static final double FLOAT32_UNIT = 0x1p-24;
    public static final double HALF_UNIT = 0x1p-11;

    /** max over i of |a_i − e_i| / (u·(|e_i| + rms(e))) for one row; NaN in a counts as infinitely wrong. */
    public static double units(double[] a, double[] e, double unit) {
        return units(a, 0, e, 0, e.length, unit);
    }

    /** The same for the row of {@code width} values starting at {@code ao} in a and {@code eo} in e. */
    public static double units(double[] a, int ao, double[] e, int eo, int width, double unit) {
        double sq = 0;
        for (int i = 0; i < width; i++) sq += e[eo + i] * e[eo + i];
        double rms = Math.sqrt(sq / width), worst = 0;
        for (int i = 0; i < width; i++) {
            double d = Math.abs(a[ao + i] - e[eo + i]);
            if (Double.isNaN(d)) return Double.POSITIVE_INFINITY;
            worst = Math.max(worst, d / (unit * (Math.abs(e[eo + i]) + rms)));
        }
        return worst;
    }
}
