package bertj.langchain4j;

import bertj.embed.SentenceEmbedder;
import bertj.testing.MiniLm;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.embedding.onnx.allminilml6v2.AllMiniLmL6V2EmbeddingModel;
import dev.langchain4j.model.output.Response;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The langchain4j adapter against langchain4j's own all-MiniLM-L6-v2 (ONNX Runtime and DJL's tokenizer): the
 * same vectors for the same texts, short and past langchain4j's 128-token cut, so that swapping one for the
 * other in an application changes nothing but the runtime.
 */
class BertjEmbeddingModelTest {

    private static double cosine(float[] a, float[] b) {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
        }
        return dot / Math.sqrt(na * nb);
    }

    @Test
    void sameVectorsAsLangchain4jsOwnModel() {
        List<TextSegment> segments = new ArrayList<>();
        for (String s : MiniLm.SENTENCES) segments.add(TextSegment.from(s));
        // longer than 128 tokens: both cut it at 128
        segments.add(TextSegment.from(String.join(" ", MiniLm.SENTENCES) + " " + String.join(" ", MiniLm.SENTENCES)));
        EmbeddingModel theirs = new AllMiniLmL6V2EmbeddingModel();
        List<Embedding> want = theirs.embedAll(segments).content();
        double worst = 1;
        try (BertjEmbeddingModel ours = new BertjEmbeddingModel()) {
            Response<List<Embedding>> got = ours.embedAll(segments);
            assertEquals(384, ours.dimension());
            assertEquals(segments.size(), got.content().size());
            assertTrue(got.tokenUsage().inputTokenCount() > segments.size(), "token usage counts the model's tokens");
            for (int i = 0; i < segments.size(); i++) {
                double c = cosine(want.get(i).vector(), got.content().get(i).vector());
                worst = Math.min(worst, c);
                assertTrue(c >= 0.99999, "text " + i + ": cosine " + c + " to langchain4j's vector");
            }
            // one text through the interface's default path as well
            assertTrue(cosine(theirs.embed("A man is eating food.").content().vector(),
                    ours.embed("A man is eating food.").content().vector()) >= 0.99999);
        }
        System.out.printf("[langchain4j] %d texts: min cosine bertj vs AllMiniLmL6V2EmbeddingModel %.9f (1 - %.1e)%n",
                segments.size(), worst, 1 - worst);
    }

    @Test
    void anyModelAndOptionsThroughTheSecondConstructor() {
        try (BertjEmbeddingModel cls = new BertjEmbeddingModel(java.nio.file.Path.of("minilm"),
                SentenceEmbedder.Options.defaults().withPooling(SentenceEmbedder.Pooling.CLS, false))) {
            float[] v = cls.embed("Hi!").content().vector();
            double norm = 0;
            for (float x : v) norm += x * x;
            assertTrue(Math.abs(Math.sqrt(norm) - 1) > 1e-3, "cls pooling without normalisation is not a unit vector");
            assertEquals("minilm", cls.modelName());
        }
    }
}
