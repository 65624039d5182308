package bertj.cli;

import bertj.model.HuggingFaceExport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "convert", description = {
        "Write a model as a Hugging Face style directory: model.safetensors (BertForQuestionAnswering keys),",
        "config.json (hidden_act keeps the GELU form) and the vocabulary if one sits beside the source."})
public final class ConvertCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model;
    @Mixin
    VerboseOption verbose;
    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Directory to write.")
    Path out;
    @Option(names = "--force", description = "Overwrite files that already exist in DIR.")
    boolean force;
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        var loaded = model.load();
        for (Path p : HuggingFaceExport.write(loaded, out, force)) {
            spec.commandLine().getOut().println("wrote " + p);
        }
        return 0;
    }
}
