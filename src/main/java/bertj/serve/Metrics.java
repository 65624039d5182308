package bertj.serve;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.DoubleSupplier;

/**
 * Counters, gauges and histograms, written in Prometheus' text exposition format (version 0.0.4). Names follow
 * text-embeddings-inference's ({@code te_request_count}, {@code te_queue_size}, {@code te_batch_next_size}, …) so
 * that dashboards made for it keep working; bertj's own additions start with {@code bertj_}. Thread-safe; the
 * hot paths are lock-free adders.
 */
public final class Metrics {
    /** Seconds: 0.5 ms … 2 min. */
    public static final double[] DURATION_BUCKETS = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120};
    /** Sequences per batch. */
    public static final double[] SIZE_BUCKETS = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};
    /** Tokens per batch. */
    public static final double[] TOKEN_BUCKETS = {16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536};

    public static final class Counter {
        private final LongAdder value = new LongAdder();

        public void inc() {
            value.increment();
        }

        public void add(long n) {
            value.add(n);
        }

        public long get() {
            return value.sum();
        }
    }

    public static final class Histogram {
        private final double[] bounds;
        private final LongAdder[] buckets;
        private final LongAdder count = new LongAdder();
        private final DoubleAdder sum = new DoubleAdder();

        Histogram(double[] bounds) {
            this.bounds = bounds.clone();
            buckets = new LongAdder[bounds.length];
            for (int i = 0; i < buckets.length; i++) buckets[i] = new LongAdder();
        }

        public void observe(double v) {
            for (int i = 0; i < bounds.length; i++) {
                if (v <= bounds[i]) {
                    buckets[i].increment();
                    break;
                }
            }
            count.increment();
            sum.add(v);
        }

        public void observeNanos(long nanos) {
            observe(nanos / 1e9);
        }

        public long count() {
            return count.sum();
        }

        public double sum() {
            return sum.sum();
        }
    }

    private enum Type { COUNTER, GAUGE, HISTOGRAM }

    private record Family(String name, String help, Type type, double[] buckets, Map<String, Object> series) {
    }

    private final Map<String, Family> families = new LinkedHashMap<>();

    private synchronized Family family(String name, String help, Type type, double[] buckets) {
        Family f = families.get(name);
        if (f == null) {
            f = new Family(name, help, type, buckets, new ConcurrentHashMap<>());
            families.put(name, f);
        } else if (f.type != type) {
            throw new IllegalArgumentException(name + " is already a " + f.type);
        }
        return f;
    }

    /** A counter; {@code labels} are name, value pairs. */
    public Counter counter(String name, String help, String... labels) {
        return (Counter) family(name, help, Type.COUNTER, null).series.computeIfAbsent(labels(labels), k -> new Counter());
    }

    public Histogram histogram(String name, String help, double[] buckets, String... labels) {
        return (Histogram) family(name, help, Type.HISTOGRAM, buckets).series.computeIfAbsent(labels(labels), k -> new Histogram(buckets));
    }

    /** A gauge read when the metrics are written. */
    public void gauge(String name, String help, DoubleSupplier value, String... labels) {
        family(name, help, Type.GAUGE, null).series.put(labels(labels), value);
    }

    /** The value of a counter, 0 when it was never touched (for tests and the load benchmark). */
    public long count(String name, String... labels) {
        Family f;
        synchronized (this) {
            f = families.get(name);
        }
        Object c = f == null ? null : f.series.get(labels(labels));
        return c instanceof Counter counter ? counter.get() : 0;
    }

    private static String labels(String... pairs) {
        if (pairs.length % 2 != 0) throw new IllegalArgumentException("labels come in name, value pairs");
        if (pairs.length == 0) return "";
        StringBuilder sb = new StringBuilder("{");
        for (int i = 0; i < pairs.length; i += 2) {
            if (i > 0) sb.append(',');
            sb.append(pairs[i]).append("=\"");
            String v = pairs[i + 1];
            for (int k = 0; k < v.length(); k++) {
                char c = v.charAt(k);
                if (c == '\\' || c == '"') sb.append('\\').append(c);
                else if (c == '\n') sb.append("\\n");
                else sb.append(c);
            }
            sb.append('"');
        }
        return sb.append('}').toString();
    }

    /** Every metric in the text exposition format. */
    public String prometheus() {
        Family[] all;
        synchronized (this) {
            all = families.values().toArray(new Family[0]);
        }
        StringBuilder sb = new StringBuilder(4096);
        for (Family f : all) {
            sb.append("# HELP ").append(f.name).append(' ').append(f.help).append('\n');
            sb.append("# TYPE ").append(f.name).append(' ').append(f.type.name().toLowerCase(Locale.ROOT)).append('\n');
            for (Map.Entry<String, Object> s : new java.util.TreeMap<>(f.series).entrySet()) {
                String labels = s.getKey();
                switch (f.type) {
                    case COUNTER -> sb.append(f.name).append(labels).append(' ').append(((Counter) s.getValue()).get()).append('\n');
                    case GAUGE -> sb.append(f.name).append(labels).append(' ').append(number(((DoubleSupplier) s.getValue()).getAsDouble())).append('\n');
                    case HISTOGRAM -> {
                        Histogram h = (Histogram) s.getValue();
                        String inner = labels.isEmpty() ? "" : labels.substring(1, labels.length() - 1) + ",";
                        long cumulative = 0;
                        for (int i = 0; i < h.bounds.length; i++) {
                            cumulative += h.buckets[i].sum();
                            sb.append(f.name).append("_bucket{").append(inner).append("le=\"").append(number(h.bounds[i])).append("\"} ")
                                    .append(cumulative).append('\n');
                        }
                        long count = Math.max(h.count(), cumulative); // the buckets may have moved on while being read
                        sb.append(f.name).append("_bucket{").append(inner).append("le=\"+Inf\"} ").append(count).append('\n');
                        sb.append(f.name).append("_sum").append(labels).append(' ').append(number(h.sum())).append('\n');
                        sb.append(f.name).append("_count").append(labels).append(' ').append(count).append('\n');
                    }
                }
            }
        }
        return sb.toString();
    }

    private static String number(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e15) return Long.toString((long) v);
        return Double.toString(v);
    }
}
