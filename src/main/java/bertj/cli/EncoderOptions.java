package bertj.cli;

import bertj.backend.Backend;
import bertj.model.LoadedModel;
import picocli.CommandLine;
import picocli.CommandLine.Mixin;

/**
 * What every command that runs a model takes, declared once: the model ({@link ModelOptions}), the backend that
 * runs it ({@link BackendOptions}) and {@code --verbose}. Commands call {@link #check} first, so that usage errors
 * come before the seconds a model takes to load.
 */
public class EncoderOptions {
    @Mixin
    ModelOptions model;
    @Mixin
    BackendOptions backend;
    @Mixin
    VerboseOption verbose;

    /** Usage errors across options; {@code others}: further backends the command runs (--compare). */
    void check(CommandLine cmd, String... others) {
        backend.check(cmd, others);
    }

    LoadedModel load() {
        return model.load();
    }

    Backend backend() {
        return backend.create();
    }
}
