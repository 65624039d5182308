/**
 * <b>API:</b> {@link bertj.tokenizer.BertTokenizer} (BERT WordPiece, identical to Hugging Face's tokenizers) and
 * {@link bertj.tokenizer.Vocabulary} (vocab.txt, tokenizer.json). Immutable and thread-safe.
 * <b>Internal:</b> BasicTokenizer, WordPiece, IntList and the Unicode tables.
 */
package bertj.tokenizer;
