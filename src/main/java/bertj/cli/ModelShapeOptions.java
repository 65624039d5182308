package bertj.cli;

import bertj.model.GeluForm;
import bertj.model.LoadedModel;
import bertj.model.ModelLoader;
import picocli.CommandLine;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/**
 * {@code --gelu}, {@code --heads} and {@code --config}: what a model file may leave unsaid. Declared once, here, for
 * every command that loads a model; {@code --model} itself is declared by {@link ModelOptions} (required) or by a
 * command with a default model (similarity). Bad values are usage errors found while parsing, before any model loads.
 */
public abstract class ModelShapeOptions {
    @Option(names = "--gelu", paramLabel = "erf|tanh", converter = GeluConverter.class,
            description = "Override the GELU form (default: tanh for NVIDIA checkpoints, else what the ONNX graph or config.json says, else erf).")
    GeluForm gelu;

    @Option(names = "--heads", paramLabel = "N", converter = Converters.Positive.class,
            description = "Number of attention heads, for a model whose files do not tell it (a bare .pt or .safetensors); "
                    + "a value that contradicts the model's config.json or ONNX graph is an error.")
    Integer heads;

    @Option(names = "--config", paramLabel = "JSON", description = "A config.json / bert_config.json to read the model's shape from.")
    Path config;

    /** The model path or built-in name. */
    abstract Path path();

    LoadedModel load() {
        return ModelLoader.load(path(), new ModelLoader.Options(gelu, heads, config));
    }

    static final class GeluConverter implements CommandLine.ITypeConverter<GeluForm> {
        @Override
        public GeluForm convert(String value) {
            try {
                return GeluForm.parse(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }
}
