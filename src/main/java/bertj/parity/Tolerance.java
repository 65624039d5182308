package bertj.parity;

/**
 * What "equal to PyTorch" means for one comparison. The precision compared is the looser of the backend's
 * and the reference file's: a float64 backend checked against a float32 PyTorch run can only be as close as
 * float32 arithmetic allows.
 *
 * <pre>
 *   float64   every tensor: ‖a − e‖₂ / ‖e‖₂ ≤ 1e-12
 *   float32   every tensor: ‖a − e‖₂ / ‖e‖₂ ≤ 1e-5;  start/end logits also max |a − e| ≤ 1e-4
 *   float16   embeddings and layer outputs: ‖a − e‖₂ / ‖e‖₂ ≤ u·(2 + n), u = 2^-11, n = encoder layers the tensor
 *             comes after (embeddings 0, layer.i i + 1): 9.8e-4, 1.5e-3, 2.0e-3, 2.4e-3, 2.9e-3 for 4L-288D;
 *             start/end logits ≤ 5e-3, and start and end argmax (over unpadded positions) agree on ≥ 99% of rows,
 *             a row counting as agreeing also when the position the backend picked has a reference logit within
 *             1% of the row's logit RMS of the reference maximum (a near-tie)
 * </pre>
 * A limit of NaN means "not checked".
 *
 * <p>Each limit is a few times what the backend achieves and a fraction of what a known wrong variant gives
 * (docs/numerics.md, "What the tolerances catch"), measured on random NVIDIA-format 4L-288D checkpoints:
 * <ul>
 *   <li>float64: achieved ≤ 3.3e-15 (the same sums in another order); the wrong GELU form gives ≥ 1.0e-4, a
 *   LayerNorm ε of 1e-11 instead of 1e-12 1.4e-11 at the embeddings (max-abs 6.5e-11) — which the former limit,
 *   max-abs 1e-9, let through.</li>
 *   <li>float32: achieved ≤ 2.0e-6 (PyTorch's own float32 is as far from float64); the wrong GELU gives
 *   1.0e-4 … 3.9e-4, and its logits move by ≥ 4.1e-4.</li>
 *   <li>float16: each kernel rounds its result to half once (relative error ≤ u), so the error of the stored
 *   activations starts at the embeddings' ~0.77 u and grows by ~0.4 u per layer; the limit is about 2.5 × that at
 *   every depth. A LayerNorm with the unbiased variance (torch.var's default; 1.76e-3 at the embeddings) fails it,
 *   the former flat 5e-3 did not. The logits, one dot product per token, err more relative to their size (up to
 *   3.2e-3) and keep 5e-3. The GELU form is below fp16's resolution on these models (it moves the layers by
 *   1.0e-4 … 2.0e-4, a fifth of fp16's own error): the float32 and float64 limits are the ones that see it.</li>
 * </ul>
 *
 * <p>Why near-ties: fp16 activations leave the logits with errors of about 1e-3 of their RMS (measured: rms
 * 1.0e-3, max 4.2e-3 on logits of RMS 0.66, docs/numerics.md), so two positions whose reference logits differ
 * by less than that are ordered by rounding, not by the model. On 64 rows × 128 tokens of a random 4L-288D
 * model one start row flipped between two positions whose float32 logits differed by 5.5e-5; with batches of
 * fewer than 100 rows a single such flip fails a 99% limit, so without the margin the check would fail at
 * random. Flips between positions further apart than the margin still count as disagreements.
 *
 * @param precision       float64, float32 or float16
 * @param maxAbs          limit on max |a − e| for every tensor but the logits
 * @param relL2           limit on ‖a − e‖₂ / ‖e‖₂ for the embeddings (and, with relL2PerLayer 0, every tensor but the logits)
 * @param relL2PerLayer   what the relative L2 limit grows by per encoder layer a tensor comes after
 * @param logitsRelL2     limit on ‖a − e‖₂ / ‖e‖₂ for start_logits and end_logits
 * @param logitsMaxAbs    limit on max |a − e| for start_logits and end_logits
 * @param argmaxAgreement least fraction of rows whose start (and end) argmax must agree
 * @param argmaxTie       near-tie margin as a fraction of the row's reference logit RMS (0: exact agreement only)
 */
public record Tolerance(String precision, double maxAbs, double relL2, double relL2PerLayer, double logitsRelL2,
                        double logitsMaxAbs, double argmaxAgreement, double argmaxTie) {

    /** One relative L2 limit for every tensor, logits included. */
    public Tolerance(String precision, double maxAbs, double relL2, double logitsMaxAbs, double argmaxAgreement, double argmaxTie) {
        this(precision, maxAbs, relL2, 0.0, relL2, logitsMaxAbs, argmaxAgreement, argmaxTie);
    }

    /** The unit roundoff of half precision, 2^-11: the largest relative error of rounding to half. */
    public static final double HALF_UNIT = 0x1p-11;

    public static final Tolerance FLOAT64 = new Tolerance("float64", Double.NaN, 1e-12, Double.NaN, Double.NaN, 0.0);
    public static final Tolerance FLOAT32 = new Tolerance("float32", Double.NaN, 1e-5, 1e-4, Double.NaN, 0.0);
    public static final Tolerance FLOAT16 = new Tolerance("float16", Double.NaN, 2 * HALF_UNIT, HALF_UNIT, 5e-3, Double.NaN, 0.99, 0.01);

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

    static boolean isLogits(String tensor) {
        return tensor.endsWith("_logits");
    }

    /**
     * Encoder layers a tensor comes after: 0 for the embeddings, i + 1 for {@code layer.i} and for what is computed
     * inside it ({@code layer.i.query}, …).
     */
    static int depth(String tensor) {
        if (!tensor.startsWith("layer.")) return 0;
        int end = tensor.indexOf('.', 6);
        try {
            return Integer.parseInt(tensor.substring(6, end < 0 ? tensor.length() : end)) + 1;
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** The relative L2 limit of one tensor (NaN: not checked). */
    public double relL2Limit(String tensor) {
        if (isLogits(tensor)) return logitsRelL2;
        return relL2PerLayer == 0 ? relL2 : relL2 + relL2PerLayer * depth(tensor);
    }

    /** The max-abs limit of one tensor (NaN: not checked). */
    public double maxAbsLimit(String tensor) {
        return isLogits(tensor) ? logitsMaxAbs : maxAbs;
    }
}
