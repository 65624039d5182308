package bertj.model;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The one place where the spellings of BERT's tensors meet.
 *
 * <p>A tensor's canonical name is its Hugging Face {@code BertModel} key without a prefix, e.g.
 * {@code encoder.layer.2.attention.self.query.weight}; the QA head is {@code qa_outputs.weight}. Other spellings
 * map onto it:
 * <pre>
 *   module.…                              DataParallel prefix                →  removed
 *   bert.…                                BertFor* wrapper prefix            →  removed
 *   …intermediate.dense_act.…             NVIDIA (LinearActivation)          →  …intermediate.dense.…
 *   pooler.dense_act.…                    NVIDIA                             →  pooler.dense.…
 *   …LayerNorm.gamma / …LayerNorm.beta    early Hugging Face / TF ports      →  …LayerNorm.weight / .bias
 * </pre>
 */
public final class TensorNames {
    private TensorNames() {
    }

    /** Spelling family of a checkpoint, decided by the keys it uses. */
    public enum Family {
        NVIDIA, HUGGING_FACE
    }

    private static final Pattern LAYER = Pattern.compile("encoder\\.layer\\.(\\d+)\\..*");

    /** The canonical name of a source key. */
    public static String canonical(String key) {
        String k = key;
        while (k.startsWith("module.")) k = k.substring("module.".length());
        if (k.startsWith("bert.")) k = k.substring("bert.".length());
        k = k.replace(".dense_act.", ".dense.");
        if (k.endsWith("LayerNorm.gamma")) k = k.substring(0, k.length() - "gamma".length()) + "weight";
        if (k.endsWith("LayerNorm.beta")) k = k.substring(0, k.length() - "beta".length()) + "bias";
        return k;
    }

    public static Family family(Iterable<String> keys) {
        for (String k : keys) {
            if (k.contains(".dense_act.")) return Family.NVIDIA;
        }
        return Family.HUGGING_FACE;
    }

    /** Tensors a loader may meet and drop without comment: buffers and heads this encoder has no use for. */
    public static boolean isKnownExtra(String canonical) {
        return canonical.equals("embeddings.position_ids") || canonical.startsWith("cls.");
    }

    /** The layer index of a canonical encoder-layer name, or -1. */
    public static int layerIndex(String canonical) {
        var m = LAYER.matcher(canonical);
        return m.matches() ? Integer.parseInt(m.group(1)) : -1;
    }

    public static final String WORD_EMBEDDINGS = "embeddings.word_embeddings.weight";
    public static final String POSITION_EMBEDDINGS = "embeddings.position_embeddings.weight";
    public static final String TOKEN_TYPE_EMBEDDINGS = "embeddings.token_type_embeddings.weight";
    public static final String EMBEDDINGS_LAYER_NORM = "embeddings.LayerNorm";
    public static final String POOLER = "pooler.dense";
    public static final String QA_OUTPUTS = "qa_outputs";

    public static String layer(int i, String module) {
        return "encoder.layer." + i + "." + module;
    }

    /** Module names inside one encoder layer, in the order the forward pass uses them. */
    public static final List<String> LAYER_LINEARS = List.of(
            "attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
            "intermediate.dense", "output.dense");
    public static final List<String> LAYER_NORMS = List.of("attention.output.LayerNorm", "output.LayerNorm");

    /** Every canonical tensor name an encoder of {@code layers} layers needs (heads not included). */
    public static List<String> required(int layers) {
        List<String> names = new ArrayList<>(List.of(WORD_EMBEDDINGS, POSITION_EMBEDDINGS, TOKEN_TYPE_EMBEDDINGS,
                EMBEDDINGS_LAYER_NORM + ".weight", EMBEDDINGS_LAYER_NORM + ".bias"));
        for (int i = 0; i < layers; i++) {
            for (String m : LAYER_LINEARS) {
                names.add(layer(i, m) + ".weight");
                names.add(layer(i, m) + ".bias");
            }
            for (String m : LAYER_NORMS) {
                names.add(layer(i, m) + ".weight");
                names.add(layer(i, m) + ".bias");
            }
        }
        return names;
    }

    /** The name this canonical tensor has in a Hugging Face BertForQuestionAnswering / BertModel export. */
    public static String huggingFace(String canonical, boolean withBertPrefix) {
        if (canonical.startsWith(QA_OUTPUTS + ".") || !withBertPrefix) return canonical;
        return "bert." + canonical;
    }
}
