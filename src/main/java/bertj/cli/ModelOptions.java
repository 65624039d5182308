package bertj.cli;

import bertj.model.GeluForm;
import bertj.model.LoadedModel;
import bertj.model.ModelLoader;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** Options every command that loads a model shares. */
public class ModelOptions {
    @Option(names = "--model", required = true, paramLabel = "PATH",
            description = "Checkpoint: a torch.save .pt/.bin file, a .safetensors file, an .onnx file, a Hugging Face style directory, "
                    + "or a built-in model name: minilm (all-MiniLM-L6-v2, fetched by the build).")
    Path model;

    @Option(names = "--gelu", paramLabel = "erf|tanh",
            description = "Override the GELU form (default: tanh for NVIDIA checkpoints, else from config.json).")
    String gelu;

    @Option(names = "--heads", paramLabel = "N", description = "Number of attention heads, when no config file tells it.")
    Integer heads;

    @Option(names = "--config", paramLabel = "JSON", description = "A config.json / bert_config.json to read the model's shape from.")
    Path config;

    LoadedModel load() {
        GeluForm g = gelu == null ? null : GeluForm.parse(gelu);
        if (heads != null && heads <= 0) {
            throw new IllegalArgumentException("--heads must be positive");
        }
        return ModelLoader.load(model, new ModelLoader.Options(g, heads, config));
    }
}
