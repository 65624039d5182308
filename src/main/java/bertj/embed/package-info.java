/**
 * <b>API.</b> Sentence embeddings the sentence-transformers way: {@link bertj.embed.SentenceEmbedder} (load a model,
 * embed texts, pool, normalise). Thread-safe.
 */
package bertj.embed;
