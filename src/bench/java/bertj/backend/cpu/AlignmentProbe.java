package bertj.backend.cpu;

import bertj.backend.Backend.Epilogue;

import java.util.Arrays;
import java.util.Locale;
import java.util.Random;

/**
 * What cache-line alignment is worth to the vector kernels on this machine: 4L-288D's products (384 rows) with the
 * packed weights on a line boundary and 16 bytes past one, and its attention (12 heads of 24, 384 keys) with the
 * scratch blocks likewise, the two placements alternating within every repetition, so that a busy host slows both
 * alike. Prints each op's median time per placement and the median of the per-repetition ratios.
 *
 * <pre>
 *   java --add-modules jdk.incubator.vector -cp ... bertj.backend.cpu.AlignmentProbe [repetitions]
 * </pre>
 * Not a test: nothing here fails on speed. Needs {@link Aligned} on (G1): otherwise neither placement is known.
 */
public final class AlignmentProbe {
    private AlignmentProbe() {
    }

    public static void main(String[] args) {
        int reps = args.length > 0 ? Integer.parseInt(args[0]) : 300, skip = reps / 5;
        if (!Aligned.on()) {
            System.err.println("alignment is off in this JVM (not G1, or an unknown array header): nothing to compare");
            System.exit(1);
        }
        VectorKernels k = new VectorKernels();
        Random r = new Random(1);
        int seq = 384, hidden = 288, d = 24, heads = 12, nr = k.panelWidth();
        float[] qkv = normal(r, seq * 3 * hidden), ctx = new float[seq * hidden], mask = new float[seq];
        float[] s = Aligned.floats(k.attentionScratch(d, seq) + Aligned.LINE);
        int[][] shapes = {{288, 864}, {288, 288}, {288, 1152}, {1152, 288}};
        float[][] w = new float[shapes.length][], b = new float[shapes.length][], x = new float[shapes.length][],
                y = new float[shapes.length][];
        for (int i = 0; i < shapes.length; i++) {
            int in = shapes[i][0], out = shapes[i][1], panels = (out + nr - 1) / nr;
            w[i] = Aligned.floats(panels * in * nr + Aligned.LINE);
            System.arraycopy(normal(r, w[i].length), 0, w[i], 0, w[i].length);
            b[i] = new float[panels * nr];
            x[i] = normal(r, seq * in);
            y[i] = new float[seq * out];
        }
        float[] ls = new float[k.linearScratch()];
        int[] shift = {0, 4}; // floats past the line boundary: aligned, 16 bytes off
        long[][][] t = new long[1 + shapes.length][2][reps];
        for (int rep = 0; rep < reps; rep++) {
            for (int v = 0; v < 2; v++) {
                int at = Aligned.SKEW + shift[v];
                long t0 = System.nanoTime();
                for (int h = 0; h < heads; h++) {
                    k.attentionKeys(qkv, hidden, d, 0, h * d, seq, s, at);
                    for (int i0 = 0; i0 < seq; i0 += k.queryBlock()) {
                        k.attention(qkv, ctx, hidden, d, seq, 0, h * d, seq, mask, i0, 0.2f, s, at);
                    }
                }
                t[0][v][rep] = System.nanoTime() - t0;
                for (int i = 0; i < shapes.length; i++) {
                    int in = shapes[i][0], out = shapes[i][1];
                    t0 = System.nanoTime();
                    k.linear(x[i], in, w[i], at, b[i], y[i], out, 0, seq, 0, (out + nr - 1) / nr, Epilogue.NONE, ls, 0);
                    t[1 + i][v][rep] = System.nanoTime() - t0;
                }
            }
        }
        System.out.printf(Locale.ROOT, "%s, %d repetitions (the first %d not counted)%n", k.description(), reps, skip);
        for (int o = 0; o < t.length; o++) {
            String name = o == 0 ? "attention 12 x 24, 384 keys" : "linear 384 x " + shapes[o - 1][0] + " -> " + shapes[o - 1][1];
            double[] ratio = new double[reps - skip];
            for (int i = skip; i < reps; i++) ratio[i - skip] = (double) t[o][1][i] / t[o][0][i];
            Arrays.sort(ratio);
            System.out.printf(Locale.ROOT, "%-30s on a line %.3f ms, 16 B off %.3f ms: off / on %.3f (quartiles %.3f-%.3f)%n",
                    name, median(t[o][0], skip) / 1e6, median(t[o][1], skip) / 1e6,
                    ratio[ratio.length / 2], ratio[ratio.length / 4], ratio[3 * ratio.length / 4]);
        }
    }

    private static double median(long[] a, int skip) {
        long[] c = Arrays.copyOfRange(a, skip, a.length);
        Arrays.sort(c);
        return c[c.length / 2];
    }

    private static float[] normal(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
        return a;
    }
}
