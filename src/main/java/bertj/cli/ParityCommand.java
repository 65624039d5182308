package bertj.cli;

import bertj.encoder.BertEncoder;
import bertj.explain.ParityReport;
import bertj.parity.Parity;
import bertj.parity.ReferenceFile;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;

@Command(name = "parity", description = {
        "Run the model on a reference file's inputs and compare every output with PyTorch's.",
        "Exit 0 when every tensor is within the backend's tolerance (docs/numerics.md), 1 otherwise."})
public final class ParityCommand implements Callable<Integer> {
    @Mixin
    EncoderOptions setup;
    @Option(names = "--reference", required = true, paramLabel = "REF.safetensors",
            description = "Inputs and PyTorch's outputs, as written by weights/reference.py.")
    Path reference;
    @Option(names = "--json", description = "Print the report as JSON with a top-level \"pass\".")
    boolean json;
    @Option(names = "--report", paramLabel = "parity.html",
            description = "Also write a self-contained HTML page: the error per tensor as a chart (log scale, tolerance line) next to the table.")
    Path report;
    @Option(names = "--plot", paramLabel = "parity.png", description = "Also write that chart as a PNG.")
    Path plot;
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        setup.check(spec.commandLine());
        ParityReport.checkFolder(report);
        ParityReport.checkFolder(plot);
        ReferenceFile ref = ReferenceFile.read(reference);
        var loaded = setup.load();
        Parity.Report r;
        try (BertEncoder encoder = new BertEncoder(loaded.weights(), setup.backend())) {
            r = Parity.run(encoder, ref);
        }
        // written whether or not the check passes: a failing run is the one worth looking at
        if (report != null) ParityReport.writeHtml(r, loaded.source().toString(), report);
        if (plot != null) ParityReport.writePng(r, plot);
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(Json.write(toJson(r, loaded.source().toString())));
        } else {
            print(out, r);
        }
        return r.pass() ? 0 : 1;
    }

    static ObjectNode toJson(Parity.Report r, String modelPath) {
        ObjectNode root = Json.object();
        root.put("pass", r.pass());
        root.put("model", modelPath);
        root.put("reference", r.reference());
        root.put("backend", r.backend());
        root.put("precision", r.precision());
        root.put("reference_precision", r.referencePrecision());
        ObjectNode tol = root.putObject("tolerance");
        tol.put("precision", r.tolerance().precision());
        Json.putLimit(tol, "max_abs", r.tolerance().maxAbs());
        Json.putLimit(tol, "rel_l2", r.tolerance().relL2());
        tol.put("rel_l2_per_layer", r.tolerance().relL2PerLayer());
        Json.putLimit(tol, "logits_rel_l2", r.tolerance().logitsRelL2());
        Json.putLimit(tol, "logits_max_abs", r.tolerance().logitsMaxAbs());
        Json.putLimit(tol, "argmax_agreement", r.tolerance().argmaxAgreement());
        tol.put("argmax_tie", r.tolerance().argmaxTie());
        ArrayNode tensors = root.putArray("tensors");
        for (Parity.TensorResult t : r.tensors()) {
            ObjectNode n = tensors.addObject();
            n.put("name", t.name());
            ArrayNode shape = n.putArray("shape");
            for (int d : t.shape()) shape.add(d);
            n.put("max_abs", t.maxAbs());
            n.put("rel_l2", t.relL2());
            Json.putLimit(n, "limit_max_abs", t.limitMaxAbs());
            Json.putLimit(n, "limit_rel_l2", t.limitRelL2());
            n.put("pass", t.pass());
        }
        if (r.argmax() != null) {
            ObjectNode a = root.putObject("argmax_agreement");
            a.put("start", r.argmax().start());
            a.put("end", r.argmax().end());
            a.put("start_exact", r.argmax().startExact());
            a.put("end_exact", r.argmax().endExact());
            Json.putLimit(a, "limit", r.argmax().limit());
            a.put("pass", r.argmax().pass());
        }
        return root;
    }

    private static void print(PrintWriter out, Parity.Report r) {
        out.printf("backend %s (%s) vs %s (PyTorch %s): %s tolerance%n", r.backend(), r.precision(), r.reference(),
                r.referencePrecision(), r.tolerance().precision());
        out.printf("%-16s %-16s %12s %12s   %s%n", "tensor", "shape", "max_abs", "rel_l2", "limit");
        for (Parity.TensorResult t : r.tensors()) {
            StringBuilder lim = new StringBuilder();
            if (!Double.isNaN(t.limitMaxAbs())) lim.append("max_abs <= ").append(fmt(t.limitMaxAbs()));
            if (!Double.isNaN(t.limitRelL2())) lim.append(lim.isEmpty() ? "" : ", ").append("rel_l2 <= ").append(fmt(t.limitRelL2()));
            out.printf("%-16s %-16s %12s %12s   %-36s %s%n", t.name(), Arrays.toString(t.shape()).replace(" ", ""),
                    fmt(t.maxAbs()), fmt(t.relL2()), lim, t.pass() ? "ok" : "FAIL");
        }
        if (r.argmax() != null) {
            out.printf("argmax agreement: start %.4f, end %.4f (exact: %.4f, %.4f)%s%n", r.argmax().start(), r.argmax().end(),
                    r.argmax().startExact(), r.argmax().endExact(),
                    Double.isNaN(r.argmax().limit()) ? "" : String.format(" (limit %.2f%s) %s", r.argmax().limit(),
                            r.tolerance().argmaxTie() > 0 ? String.format(", near-ties within %.0f%% of the row's logit RMS agree",
                                    100 * r.tolerance().argmaxTie()) : "",
                            r.argmax().pass() ? "ok" : "FAIL"));
        }
        out.println(r.pass() ? "PASS" : "FAIL");
    }

    static String fmt(double v) {
        return String.format("%.3e", v);
    }
}
