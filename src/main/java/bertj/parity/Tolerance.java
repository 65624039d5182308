package bertj.parity;

/**
 * What "equal to PyTorch" means for one comparison. The precision compared is the looser of the backend's
 * and the reference file's: a float64 backend checked against a float32 PyTorch run can only be as close as
 * float32 arithmetic allows.
 *
 * <pre>
 *   float64   every tensor: max |a − e| ≤ 1e-9
 *   float32   every tensor: ‖a − e‖₂ / ‖e‖₂ ≤ 1e-5;  start/end logits also max |a − e| ≤ 1e-4
 *   float16   every tensor: ‖a − e‖₂ / ‖e‖₂ ≤ 5e-3;  start and end argmax (over unpadded positions) agree on ≥ 99% of rows
 * </pre>
 * A limit of NaN means "not checked".
 *
 * @param precision       float64, float32 or float16
 * @param maxAbs          limit on max |a − e| for every tensor
 * @param relL2           limit on ‖a − e‖₂ / ‖e‖₂ for every tensor
 * @param logitsMaxAbs    limit on max |a − e| for start_logits and end_logits
 * @param argmaxAgreement least fraction of rows whose start (and end) argmax must agree
 */
public record Tolerance(String precision, double maxAbs, double relL2, double logitsMaxAbs, double argmaxAgreement) {

    public static final Tolerance FLOAT64 = new Tolerance("float64", 1e-9, Double.NaN, 1e-9, Double.NaN);
    public static final Tolerance FLOAT32 = new Tolerance("float32", Double.NaN, 1e-5, 1e-4, Double.NaN);
    public static final Tolerance FLOAT16 = new Tolerance("float16", Double.NaN, 5e-3, Double.NaN, 0.99);

    private static int rank(String precision) {
        return switch (precision) {
            case "float64" -> 0;
            case "float32" -> 1;
            case "float16" -> 2;
            default -> throw new IllegalArgumentException("unknown precision " + precision);
        };
    }

    public static Tolerance of(String precision) {
        return switch (precision) {
            case "float64" -> FLOAT64;
            case "float32" -> FLOAT32;
            case "float16" -> FLOAT16;
            default -> throw new IllegalArgumentException("unknown precision " + precision);
        };
    }

    /** The tolerance for comparing a backend of one precision with a reference computed in another. */
    public static Tolerance between(String backendPrecision, String referencePrecision) {
        return rank(backendPrecision) >= rank(referencePrecision) ? of(backendPrecision) : of(referencePrecision);
    }
}
