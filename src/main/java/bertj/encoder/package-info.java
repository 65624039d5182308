/**
 * <b>API.</b> {@link bertj.encoder.BertEncoder}: the BERT forward pass, written once for every backend, with a
 * {@link bertj.encoder.BertEncoder.Tap} for every intermediate. Thread-safe (passes take turns).
 */
package bertj.encoder;
