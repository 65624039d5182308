package bertj.parity;

/**
 * What "equal to PyTorch" means for one comparison. The precision compared is the looser of the backend's
 * and the reference file's: a float64 backend checked against a float32 PyTorch run can only be as close as
 * float32 arithmetic allows.
 *
 * <pre>
 *   float64   every tensor: max |a − e| ≤ 1e-9
 *   float32   every tensor: ‖a − e‖₂ / ‖e‖₂ ≤ 1e-5;  start/end logits also max |a − e| ≤ 1e-4
 *   float16   every tensor: ‖a − e‖₂ / ‖e‖₂ ≤ 5e-3;  start and end argmax (over unpadded positions) agree on ≥ 99% of rows,
 *             a row counting as agreeing also when the position the backend picked has a reference logit within
 *             1% of the row's logit RMS of the reference maximum (a near-tie)
 * </pre>
 * A limit of NaN means "not checked".
 *
 * <p>Why near-ties: fp16 activations leave the logits with errors of about 1e-3 of their RMS (measured: rms
 * 1.0e-3, max 4.2e-3 on logits of RMS 0.66, docs/numerics.md), so two positions whose reference logits differ
 * by less than that are ordered by rounding, not by the model. On 64 rows × 128 tokens of a random 4L-288D
 * model one start row flipped between two positions whose float32 logits differed by 5.5e-5; with batches of
 * fewer than 100 rows a single such flip fails a 99% limit, so without the margin the check would fail at
 * random. Flips between positions further apart than the margin still count as disagreements.
 *
 * @param precision       float64, float32 or float16
 * @param maxAbs          limit on max |a − e| for every tensor
 * @param relL2           limit on ‖a − e‖₂ / ‖e‖₂ for every tensor
 * @param logitsMaxAbs    limit on max |a − e| for start_logits and end_logits
 * @param argmaxAgreement least fraction of rows whose start (and end) argmax must agree
 * @param argmaxTie       near-tie margin as a fraction of the row's reference logit RMS (0: exact agreement only)
 */
public record Tolerance(String precision, double maxAbs, double relL2, double logitsMaxAbs, double argmaxAgreement,
                        double argmaxTie) {

    public Tolerance(String precision, double maxAbs, double relL2, double logitsMaxAbs, double argmaxAgreement) {
        this(precision, maxAbs, relL2, logitsMaxAbs, argmaxAgreement, 0.0);
    }

    public static final Tolerance FLOAT64 = new Tolerance("float64", 1e-9, Double.NaN, 1e-9, Double.NaN);
    public static final Tolerance FLOAT32 = new Tolerance("float32", Double.NaN, 1e-5, 1e-4, Double.NaN);
    public static final Tolerance FLOAT16 = new Tolerance("float16", Double.NaN, 5e-3, Double.NaN, 0.99, 0.01);

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
