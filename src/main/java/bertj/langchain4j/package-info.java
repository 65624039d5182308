/**
 * <b>API:</b> {@link bertj.langchain4j.BertjEmbeddingModel}, a langchain4j {@code EmbeddingModel} computed by bertj
 * (needs {@code dev.langchain4j:langchain4j-core} on the class path, which a langchain4j application has).
 */
package bertj.langchain4j;
