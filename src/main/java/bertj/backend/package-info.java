/**
 * <b>API.</b> The ops a forward pass is made of ({@link bertj.backend.Backend}), the backends by name
 * ({@link bertj.backend.Backends}: reference float64, cpu float32, opencl fp16) and a batch of token ids
 * ({@link bertj.backend.Batch}). A backend serves one pass at a time; share a {@link bertj.encoder.BertEncoder}.
 */
package bertj.backend;
