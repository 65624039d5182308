package bertj.tokenizer;

import java.util.Locale;

/**
 * How an uncased tokenizer lower-cases. The two differ only at a capital sigma (Σ, U+03A3) that ends a word:
 * {@code ΟΔΟΣ} is {@code οδοσ} character by character and {@code οδος} with Python's {@code str.lower()}, which
 * applies Unicode's Final_Sigma rule (then WordPiece gives {@code ο ##δ ##ο ##σ} against {@code ο ##δ ##ος}).
 */
public enum LowerCasing {
    /**
     * Each code point on its own, after accent stripping: Hugging Face tokenizers' BertNormalizer (Rust,
     * {@code char::to_lowercase}). What sentence-transformers models and Hugging Face's pipelines see.
     */
    HF,
    /**
     * Each word with Python's {@code str.lower()}, before accent stripping: Google's and NVIDIA's tokenization.py
     * ({@code token.lower()} on each whitespace-separated word), which run_squad.py uses. See {@link PythonLowerCase}.
     */
    PYTHON;

    /** The command-line spelling: {@code hf} or {@code python}. */
    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** {@code hf} or {@code python}; anything else is an IllegalArgumentException saying what is accepted. */
    public static LowerCasing parse(String s) {
        for (LowerCasing l : values()) if (l.cliName().equals(s)) return l;
        throw new IllegalArgumentException("lower-casing must be hf or python, got '" + s + "'");
    }
}
