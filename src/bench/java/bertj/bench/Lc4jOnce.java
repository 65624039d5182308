package bertj.bench;

import dev.langchain4j.model.embedding.onnx.allminilml6v2.AllMiniLmL6V2EmbeddingModel;

/**
 * The peer of {@code scripts/bench-startup.sh}: what a Java user embedding a few texts with all-MiniLM-L6-v2 runs
 * today, in a fresh JVM — langchain4j's {@code AllMiniLmL6V2EmbeddingModel} made and asked for each argument's
 * vector. Prints the first value of each vector and the vector's size, so that the work cannot be skipped.
 */
public final class Lc4jOnce {
    public static void main(String[] args) {
        AllMiniLmL6V2EmbeddingModel model = new AllMiniLmL6V2EmbeddingModel();
        for (String text : args) {
            float[] v = model.embed(text).content().vector();
            System.out.println(v.length + " " + v[0]);
        }
        System.exit(0); // ONNX Runtime's and langchain4j's threads are not daemons
    }
}
