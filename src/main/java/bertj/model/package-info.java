/**
 * <b>API:</b> reading a model — {@link bertj.model.ModelLoader} (torch.save checkpoints, safetensors, Hugging Face
 * directories, ONNX, built-in names), {@link bertj.model.LoadedModel}, {@link bertj.model.BertConfig},
 * {@link bertj.model.BertWeights}, {@link bertj.model.GeluForm}, {@link bertj.model.BuiltinModels},
 * {@link bertj.model.HuggingFaceExport}. All immutable, safe to share between threads.
 * <b>Internal:</b> Erf, TensorNames, OnnxFormat.
 */
package bertj.model;
