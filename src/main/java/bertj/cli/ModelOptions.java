package bertj.cli;

import picocli.CommandLine.Option;

import java.nio.file.Path;

/** {@code --model} (required) and the options that complete what a model file says ({@link ModelShapeOptions}). */
public class ModelOptions extends ModelShapeOptions {
    @Option(names = "--model", required = true, paramLabel = "PATH",
            description = "Checkpoint: a torch.save .pt/.bin file, a .safetensors file, an .onnx file, a Hugging Face style directory, "
                    + "or a built-in model name: minilm (all-MiniLM-L6-v2, fetched by the build).")
    Path model;

    @Override
    Path path() {
        return model;
    }
}
