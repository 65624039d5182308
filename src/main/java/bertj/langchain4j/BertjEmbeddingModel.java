package bertj.langchain4j;

import bertj.embed.SentenceEmbedder;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.ModelProvider;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.output.Response;
import dev.langchain4j.model.output.TokenUsage;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A langchain4j {@link EmbeddingModel} computed by bertj: in a langchain4j application,
 * <pre>
 *   EmbeddingModel model = new AllMiniLmL6V2EmbeddingModel();     // ONNX Runtime + DJL's tokenizer
 *   EmbeddingModel model = new BertjEmbeddingModel();             // the same model, pure Java
 * </pre>
 * {@link #BertjEmbeddingModel()} is all-MiniLM-L6-v2 (bertj's built-in {@code minilm}: the ONNX file of
 * langchain4j's own artifact, which must be on the class path or in the local Maven repository), mean pooling,
 * L2-normalised, as sentence-transformers and langchain4j compute it. Any model bertj reads works through
 * {@link #BertjEmbeddingModel(Path, SentenceEmbedder.Options)}.
 *
 * <p>Texts longer than the model's cut are truncated (128 tokens by default here, as langchain4j's own
 * all-MiniLM-L6-v2 tokenizer configuration does, so that both give the same vectors); use the options'
 * {@code maxLength} for another cut. The token usage reported is the number of tokens fed to the model.
 *
 * <p>Safe for concurrent callers (see {@link SentenceEmbedder}). Holds a backend: {@link #close} frees it.
 */
public final class BertjEmbeddingModel implements EmbeddingModel, AutoCloseable {
    /** The cut of langchain4j's all-MiniLM-L6-v2 (its tokenizer.json truncates there). */
    public static final int LANGCHAIN4J_MAX_LENGTH = 128;

    private final SentenceEmbedder embedder;
    private final String name;

    /** all-MiniLM-L6-v2 on the cpu backend, mean pooling, normalised, cut at 128 tokens. */
    public BertjEmbeddingModel() {
        this(Path.of("minilm"), SentenceEmbedder.Options.defaults().withMaxLength(LANGCHAIN4J_MAX_LENGTH));
    }

    /** Any model bertj reads (a built-in name, a file or a directory), with the given options. */
    public BertjEmbeddingModel(Path model, SentenceEmbedder.Options options) {
        this.embedder = SentenceEmbedder.load(model, options);
        this.name = model.getFileName() == null ? model.toString() : model.getFileName().toString();
    }

    @Override
    public Response<List<Embedding>> embedAll(List<TextSegment> segments) {
        List<String> texts = new ArrayList<>(segments.size());
        for (TextSegment s : segments) texts.add(s.text());
        List<SentenceEmbedder.Embedding> out = embedder.embed(texts);
        List<Embedding> embeddings = new ArrayList<>(out.size());
        int tokens = 0;
        for (SentenceEmbedder.Embedding e : out) {
            double[] v = e.vector();
            float[] f = new float[v.length];
            for (int i = 0; i < v.length; i++) f[i] = (float) v[i];
            embeddings.add(new Embedding(f));
            tokens += e.tokens();
        }
        return Response.from(embeddings, new TokenUsage(tokens));
    }

    @Override
    public int dimension() {
        return embedder.dimension();
    }

    @Override
    public String modelName() {
        return name;
    }

    @Override
    public ModelProvider provider() {
        return ModelProvider.OTHER;
    }

    /** The bertj embedder behind this model. */
    public SentenceEmbedder embedder() {
        return embedder;
    }

    @Override
    public void close() {
        embedder.close();
    }
}
