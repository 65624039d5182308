package bertj.model;

/**
 * The two GELU definitions BERT checkpoints were trained with.
 *
 * <pre>
 *   ERF:  gelu(x) = x · Φ(x) = ½ x (1 + erf(x / √2))                       (Hugging Face "gelu", PyTorch default)
 *   TANH: gelu(x) ≈ ½ x (1 + tanh(√(2/π) (x + 0.044715 x³)))               (NVIDIA's modeling.py at the
 *         distillation release, Hugging Face "gelu_new", PyTorch approximate='tanh')
 * </pre>
 * The two differ by up to about 5e-4 for |x| near 2, which after four layers moves logits by ~6e-4: enough
 * to fail a float32 parity check, so the form is part of the model, not a detail.
 */
public enum GeluForm {
    ERF("erf"),
    TANH("tanh");

    private final String label;

    GeluForm(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }

    public static GeluForm parse(String s) {
        return switch (s.toLowerCase(java.util.Locale.ROOT)) {
            case "erf" -> ERF;
            case "tanh" -> TANH;
            default -> throw new IllegalArgumentException("GELU form must be 'erf' or 'tanh', got '" + s + "'");
        };
    }

    private static final double SQRT_2_OVER_PI = Math.sqrt(2.0 / Math.PI);

    /** GELU in float64: the definition every backend is measured against. */
    public double apply(double x) {
        return switch (this) {
            case ERF -> 0.5 * x * (1.0 + Erf.erf(x / Math.sqrt(2.0)));
            case TANH -> 0.5 * x * (1.0 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)));
        };
    }
}
