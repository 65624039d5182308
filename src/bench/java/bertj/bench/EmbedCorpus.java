package bertj.bench;

import bertj.backend.Backends;
import bertj.embed.SentenceEmbedder;
import bertj.encoder.BertEncoder;
import bertj.model.LoadedModel;
import bertj.model.ModelLoader;
import bertj.tokenizer.BertTokenizer;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * The single-JVM side of scripts/bench-spark.sh: the texts of a file (one per line) embedded by
 * {@link SentenceEmbedder} in one JVM, as a Java user would call it, timed from after the model is loaded, the
 * same span the Spark job reports. Two orders: as given, {@code batch} texts at a time; and sorted by length first
 * (what the Spark job does inside each partition), to tell batching's share from Spark's.
 * <pre>
 *   EmbedCorpus --texts corpus.txt [--model minilm] [--batch 32] [--normalize] [--order given|sorted|both]
 * </pre>
 * Prints one line per order: {@code api-given: 2000 rows in 9.81 s (203.9 rows/s)}.
 */
public final class EmbedCorpus {
    public static void main(String[] args) throws Exception {
        Path texts = null;
        String model = "minilm", order = "both";
        int batch = 32;
        boolean normalize = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--texts" -> texts = Path.of(args[++i]);
                case "--model" -> model = args[++i];
                case "--batch" -> batch = Integer.parseInt(args[++i]);
                case "--normalize" -> normalize = true;
                case "--order" -> order = args[++i];
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        if (texts == null) throw new IllegalArgumentException("--texts FILE is required");
        List<String> corpus = Files.readAllLines(texts, StandardCharsets.UTF_8);
        LoadedModel m = ModelLoader.load(Path.of(model));
        BertTokenizer tok = BertTokenizer.load(m.vocab(), null);
        try (BertEncoder encoder = new BertEncoder(m.weights(), Backends.create("cpu"))) {
            SentenceEmbedder e = new SentenceEmbedder(encoder, tok, SentenceEmbedder.Pooling.MEAN, normalize, m.config().maxPositions());
            if (!order.equals("sorted")) time("api-given", e, corpus, batch);
            if (!order.equals("given")) {
                List<String> sorted = new ArrayList<>(corpus);
                // The sort is timed too: the Spark job sorts inside its tasks.
                long t0 = System.nanoTime();
                sorted.sort(Comparator.comparingInt(String::length).reversed());
                time("api-sorted", e, sorted, batch, System.nanoTime() - t0);
            }
        }
    }

    private static void time(String label, SentenceEmbedder e, List<String> texts, int batch) {
        time(label, e, texts, batch, 0);
    }

    private static void time(String label, SentenceEmbedder e, List<String> texts, int batch, long extraNanos) {
        long t0 = System.nanoTime();
        List<SentenceEmbedder.Embedding> out = e.embed(texts, batch);
        double s = (System.nanoTime() - t0 + extraNanos) / 1e9;
        if (out.size() != texts.size()) throw new AssertionError(out.size() + " embeddings for " + texts.size() + " texts");
        System.out.printf(Locale.ROOT, "%s: %d rows in %.2f s (%.1f rows/s)%n", label, texts.size(), s, texts.size() / s);
    }
}
