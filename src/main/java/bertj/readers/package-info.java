/**
 * <b>API:</b> {@link bertj.readers.ModelFileException} (every error about a model file: one sentence naming the file),
 * {@link bertj.readers.Tensor}, {@link bertj.readers.DType}, {@link bertj.readers.SafeTensors} (read and write).
 * <b>Internal:</b> the torch.save reader and its restricted unpickler, the ONNX/protobuf reader, Utf8; use
 * {@link bertj.model.ModelLoader} to read model files.
 */
package bertj.readers;
