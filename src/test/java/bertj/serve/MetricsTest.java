package bertj.serve;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Prometheus text format: cumulative buckets, +Inf = count, sum, escaped labels, one TYPE line per family. */
class MetricsTest {
    @Test
    void textFormat() {
        Metrics m = new Metrics();
        m.counter("te_request_count", "Requests", "route", "/embed").add(3);
        m.counter("te_request_count", "Requests", "route", "/q\"a\\\n").inc();
        Metrics.Histogram h = m.histogram("te_batch_next_size", "Sizes", new double[] {1, 4, 16});
        for (double v : new double[] {1, 2, 3, 5, 40}) h.observe(v);
        m.gauge("te_queue_size", "Waiting", () -> 7);
        String t = m.prometheus();
        assertTrue(t.contains("# TYPE te_request_count counter\n"), t);
        assertEquals(1, t.split("# TYPE te_request_count").length - 1, t);
        assertTrue(t.contains("te_request_count{route=\"/embed\"} 3\n"), t);
        assertTrue(t.contains("te_request_count{route=\"/q\\\"a\\\\\\n\"} 1\n"), t);
        assertTrue(t.contains("te_batch_next_size_bucket{le=\"1\"} 1\n"), t);
        assertTrue(t.contains("te_batch_next_size_bucket{le=\"4\"} 3\n"), t);
        assertTrue(t.contains("te_batch_next_size_bucket{le=\"16\"} 4\n"), t);
        assertTrue(t.contains("te_batch_next_size_bucket{le=\"+Inf\"} 5\n"), t);
        assertTrue(t.contains("te_batch_next_size_sum 51\n"), t);
        assertTrue(t.contains("te_batch_next_size_count 5\n"), t);
        assertTrue(t.contains("# TYPE te_queue_size gauge\nte_queue_size 7\n"), t);
        assertEquals(3, m.count("te_request_count", "route", "/embed"));
        assertEquals(0, m.count("never_made"));
        assertThrows(IllegalArgumentException.class, () -> m.histogram("te_request_count", "x", new double[] {1}));
        assertThrows(IllegalArgumentException.class, () -> m.counter("odd", "x", "label"));
    }
}
