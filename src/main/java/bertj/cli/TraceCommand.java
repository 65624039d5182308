package bertj.cli;

import bertj.backend.Batch;
import bertj.encoder.BertEncoder;
import bertj.parity.ReferenceFile;
import bertj.readers.SafeTensors;
import bertj.readers.Tensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "trace", description = {
        "Run the model and save every intermediate for audit: embeddings; per layer query, key, value,",
        "attention_probs, context, attention_output, intermediate and the layer output; start/end logits."})
public final class TraceCommand implements Callable<Integer> {
    @Mixin
    EncoderOptions setup;
    @Option(names = "--input", required = true, paramLabel = "IN.safetensors",
            description = "A file holding input_ids, token_type_ids and attention_mask (I64 [B, S]); a parity reference will do.")
    Path input;
    @Option(names = "--out", required = true, paramLabel = "TRACE.safetensors", description = "Where to write the trace.")
    Path out;
    @Option(names = "--force", description = "Overwrite --out if it exists.")
    boolean force;
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        setup.check(spec.commandLine());
        if (Files.exists(out) && !force) {
            throw new Main.UserError(out + " already exists; choose another --out or pass --force");
        }
        var contents = SafeTensors.read(input);
        Batch batch = ReferenceFile.batchOf(input.toString(), contents.tensors());
        var loaded = setup.load();
        Map<String, Tensor> trace = new LinkedHashMap<>();
        for (String n : ReferenceFile.INPUTS) trace.put(n, contents.tensors().get(n));
        String precision;
        try (BertEncoder encoder = new BertEncoder(loaded.weights(), setup.backend())) {
            precision = encoder.backend().precision();
            boolean f64 = precision.equals("float64");
            encoder.forward(batch, false, new BertEncoder.Tap() {
                @Override
                public boolean wants(String name) {
                    return true;
                }

                @Override
                public void take(String name, int[] shape, double[] values) {
                    if (f64) {
                        trace.put(name, Tensor.ofDoubles(shape, values));
                    } else {
                        float[] f = new float[values.length];
                        for (int i = 0; i < f.length; i++) f[i] = (float) values[i];
                        trace.put(name, Tensor.ofFloats(shape, f));
                    }
                }
            });
            Map<String, String> meta = new LinkedHashMap<>();
            meta.put("model", loaded.source().toString());
            meta.put("backend", encoder.backend().name());
            meta.put("precision", precision);
            meta.put("gelu", loaded.config().gelu().label());
            SafeTensors.write(out, trace, meta);
        }
        spec.commandLine().getOut().printf("wrote %d tensors (%s) to %s%n", trace.size(), precision, out);
        return 0;
    }
}
