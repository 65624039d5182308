package bertj.parity;

import bertj.backend.Batch;
import bertj.encoder.BertEncoder;
import bertj.readers.ModelFileException;
import bertj.readers.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs an encoder on a reference file's inputs and measures how far each output is from the expected one.
 * <pre>
 *   // ref.safetensors: python3 weights/reference.py --model model.pt --out ref.safetensors (PyTorch's outputs)
 *   LoadedModel m = ModelLoader.load(Path.of("model.pt"));
 *   try (BertEncoder encoder = new BertEncoder(m.weights(), Backends.create("cpu"))) {
 *       Parity.Report r = Parity.run(encoder, ReferenceFile.read(Path.of("ref.safetensors")));
 *       r.tensors().forEach(t -&gt; System.out.println(t.name() + " " + t.relL2() + (t.pass() ? "" : " FAIL")));
 *   }
 * </pre>
 * Stateless; safe for concurrent callers.
 */
public final class Parity {
    private Parity() {
    }

    /** The error of one tensor and whether it is within its limits (NaN limit: not checked). */
    public record TensorResult(String name, int[] shape, double maxAbs, double relL2, double limitMaxAbs, double limitRelL2, boolean pass) {
    }

    /**
     * Fraction of rows whose argmax over unpadded positions agrees, for start and end logits: counting near-ties
     * as agreeing where the tolerance allows it ({@code start}, {@code end}: what passes or fails) and strictly
     * ({@code startExact}, {@code endExact}: reported so that no tie rule hides a moved answer).
     */
    public record ArgmaxResult(double start, double end, double startExact, double endExact, double limit, boolean pass) {
    }

    public record Report(String backend, String precision, String reference, String referencePrecision, Tolerance tolerance,
                         List<TensorResult> tensors, ArgmaxResult argmax, boolean pass) {
    }

    public static Report run(BertEncoder encoder, ReferenceFile ref) {
        Batch batch = ref.batch();
        Map<String, double[]> actual = new HashMap<>();
        Map<String, int[]> shapes = new HashMap<>();
        encoder.forward(batch, false, new BertEncoder.Tap() {
            @Override
            public boolean wants(String name) {
                return ref.expected().containsKey(name);
            }

            @Override
            public void take(String name, int[] shape, double[] values) {
                actual.put(name, values);
                shapes.put(name, shape);
            }
        });
        String backendPrecision = encoder.backend().precision();
        Tolerance tol = Tolerance.between(backendPrecision, ref.precision());
        List<TensorResult> results = new ArrayList<>();
        boolean pass = true;
        for (Map.Entry<String, Tensor> e : ref.expected().entrySet()) {
            String name = e.getKey();
            double[] a = actual.get(name);
            if (a == null) {
                throw new ModelFileException(ref.path() + ": expected output " + name + " is not something this encoder produces"
                        + (name.endsWith("_logits") ? " (the model has no QA head)" : ""));
            }
            if (!Arrays.equals(shapes.get(name), e.getValue().shape())) {
                throw new ModelFileException(ref.path() + ": " + name + " has shape " + Arrays.toString(e.getValue().shape())
                        + " but the model produces " + Arrays.toString(shapes.get(name)));
            }
            TensorResult r = compare(name, e.getValue().shape(), a, e.getValue().toDoubles(), tol);
            results.add(r);
            pass &= r.pass();
        }
        ArgmaxResult argmax = null;
        if (ref.expected().containsKey("start_logits") && ref.expected().containsKey("end_logits")) {
            double s = agreement(batch, actual.get("start_logits"), ref.expected().get("start_logits").toDoubles(), tol.argmaxTie());
            double en = agreement(batch, actual.get("end_logits"), ref.expected().get("end_logits").toDoubles(), tol.argmaxTie());
            boolean ok = Double.isNaN(tol.argmaxAgreement()) || (s >= tol.argmaxAgreement() && en >= tol.argmaxAgreement());
            double sx = agreement(batch, actual.get("start_logits"), ref.expected().get("start_logits").toDoubles(), 0.0);
            double ex = agreement(batch, actual.get("end_logits"), ref.expected().get("end_logits").toDoubles(), 0.0);
            argmax = new ArgmaxResult(s, en, sx, ex, tol.argmaxAgreement(), ok);
            pass &= ok;
        }
        return new Report(encoder.backend().name(), backendPrecision, ref.path().toString(), ref.precision(), tol, results, argmax, pass);
    }

    static TensorResult compare(String name, int[] shape, double[] actual, double[] expected, Tolerance tol) {
        double maxAbs = 0, diff2 = 0, ref2 = 0;
        for (int i = 0; i < expected.length; i++) {
            double d = actual[i] - expected[i];
            if (Double.isNaN(d)) {
                maxAbs = Double.NaN;
            } else if (maxAbs == maxAbs) {
                maxAbs = Math.max(maxAbs, Math.abs(d));
            }
            diff2 += d * d;
            ref2 += expected[i] * expected[i];
        }
        double rel = Math.sqrt(diff2) / Math.max(Math.sqrt(ref2), Double.MIN_NORMAL);
        double limAbs = tol.maxAbsLimit(name);
        double limRel = tol.relL2Limit(name);
        boolean pass = !Double.isNaN(maxAbs) && !Double.isNaN(rel)
                && (Double.isNaN(limAbs) || maxAbs <= limAbs)
                && (Double.isNaN(limRel) || rel <= limRel);
        return new TensorResult(name, shape, maxAbs, rel, limAbs, limRel, pass);
    }

    /** Fraction of sequences whose highest logit over unpadded positions is at the same position. */
    static double agreement(Batch batch, double[] actual, double[] expected) {
        return agreement(batch, actual, expected, 0.0);
    }

    /**
     * Fraction of sequences whose highest logit over unpadded positions is at the same position, or at a
     * position whose expected logit is within {@code tie} × (RMS of the row's expected logits) of the expected
     * maximum (a near-tie the compared precision cannot order; see {@link Tolerance}).
     */
    static double agreement(Batch batch, double[] actual, double[] expected, double tie) {
        int same = 0;
        for (int b = 0; b < batch.size(); b++) {
            int mine = argmax(batch, b, actual), best = argmax(batch, b, expected);
            if (mine == best) {
                same++;
                continue;
            }
            double sq = 0;
            int n = 0;
            for (int j = 0; j < batch.seqLen(); j++) {
                if (batch.masked(b, j)) continue;
                double v = expected[b * batch.seqLen() + j];
                sq += v * v;
                n++;
            }
            double margin = tie * Math.sqrt(sq / Math.max(n, 1));
            if (expected[b * batch.seqLen() + best] - expected[b * batch.seqLen() + mine] <= margin) same++;
        }
        return (double) same / batch.size();
    }

    private static int argmax(Batch batch, int b, double[] logits) {
        int best = -1;
        for (int j = 0; j < batch.seqLen(); j++) {
            if (batch.masked(b, j)) continue;
            int i = b * batch.seqLen() + j;
            if (best < 0 || logits[i] > logits[b * batch.seqLen() + best]) best = j;
        }
        return best;
    }
}
