package bertj.serve;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The queue and batch formation on their own, with a runner that records what it is given (no model). */
class BatcherTest {

    /** An item: a name, a length in tokens, a kind. */
    record Item(String name, int length, String kind) {
    }

    /** Records every batch; the first batch waits for {@link #release} so that the queue can fill behind it. */
    static final class Recorder implements Batcher.Runner<Item, String> {
        final List<List<Item>> batches = Collections.synchronizedList(new ArrayList<>());
        final CountDownLatch started = new CountDownLatch(1), release = new CountDownLatch(1);
        volatile String poison;

        @Override
        public List<String> run(List<Item> items) {
            batches.add(List.copyOf(items));
            started.countDown();
            try {
                if (!release.await(30, TimeUnit.SECONDS)) throw new IllegalStateException("never released");
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            List<String> out = new ArrayList<>();
            for (Item i : items) {
                if (i.name().equals(poison)) throw new IllegalArgumentException("poisoned by " + i.name());
                out.add("result of " + i.name());
            }
            return out;
        }
    }

    private static Batcher<Item, String> batcher(int tokens, int requests, Batcher.Runner<Item, String> r) {
        return new Batcher<>(new Batcher.Limits(tokens, requests), Item::length, Item::kind, List.of(r), null);
    }

    /** Holds the worker on a first item, queues the rest behind it, then lets everything run. */
    private static List<CompletableFuture<Batcher.Done<String>>> queueBehindFirst(Batcher<Item, String> b, Recorder r, List<Item> rest)
            throws InterruptedException {
        List<CompletableFuture<Batcher.Done<String>>> out = new ArrayList<>(b.submit(List.of(new Item("first", 1, "embed"))));
        assertTrue(r.started.await(30, TimeUnit.SECONDS));
        out.addAll(b.submit(rest));
        assertEquals(rest.size(), b.queued());
        r.release.countDown();
        return out;
    }

    @Test
    void everyItemGetsItsOwnResultAndBatchesKeepTheBudgetTheKindAndTheFill() throws Exception {
        long seed = System.nanoTime();
        System.out.println("BatcherTest seed " + seed);
        Random rnd = new Random(seed);
        List<Item> items = new ArrayList<>();
        for (int i = 0; i < 400; i++) {
            int len = rnd.nextBoolean() ? 5 + rnd.nextInt(20) : 100 + rnd.nextInt(200);
            items.add(new Item("i" + i, len, rnd.nextInt(4) == 0 ? "qa" : "embed"));
        }
        Recorder r = new Recorder();
        int budget = 2048;
        try (Batcher<Item, String> b = batcher(budget, Integer.MAX_VALUE, r)) {
            List<CompletableFuture<Batcher.Done<String>>> f = queueBehindFirst(b, r, items);
            for (int i = 0; i < items.size(); i++) {
                Batcher.Done<String> d = f.get(i + 1).get(30, TimeUnit.SECONDS);
                assertEquals("result of " + items.get(i).name(), d.value());
                assertTrue(d.batchSize() >= 1 && d.queueNanos() >= 0 && d.inferenceNanos() >= 0);
            }
        }
        int seen = 0, multi = 0;
        for (List<Item> batch : r.batches.subList(1, r.batches.size())) {
            int longest = batch.stream().mapToInt(Item::length).max().orElseThrow();
            long real = batch.stream().mapToInt(Item::length).sum();
            assertTrue((long) longest * batch.size() <= budget, "padded cost over the budget: " + batch);
            int shortest = batch.stream().mapToInt(Item::length).min().orElseThrow();
            assertTrue(batch.size() == 1 || Batcher.closeEnough(shortest, longest), "lengths too far apart: " + batch);
            assertTrue(batch.size() == 1 || longest - shortest <= Batcher.PAD_SLACK || real >= Batcher.MIN_FILL * longest * batch.size(),
                    "less than " + Batcher.MIN_FILL + " real tokens: " + batch);
            assertEquals(1, batch.stream().map(Item::kind).distinct().count(), "kinds mixed: " + batch);
            seen += batch.size();
            if (batch.size() > 1) multi++;
        }
        assertEquals(items.size(), seen);
        assertTrue(multi > 10, "expected batching, got " + multi + " batches of more than one");
    }

    @Test
    void theOldestWaitingItemAlwaysRidesInTheNextBatch() throws Exception {
        Recorder r = new Recorder();
        List<Item> items = new ArrayList<>();
        for (int i = 0; i < 60; i++) items.add(new Item("i" + i, i % 2 == 0 ? 300 : 10, "embed"));
        try (Batcher<Item, String> b = batcher(1200, Integer.MAX_VALUE, r)) {
            List<CompletableFuture<Batcher.Done<String>>> f = queueBehindFirst(b, r, items);
            for (CompletableFuture<Batcher.Done<String>> x : f) x.get(30, TimeUnit.SECONDS);
        }
        // replay the queue: the first item of each batch (in arrival order) must be the oldest not yet run
        List<String> waiting = new ArrayList<>(items.stream().map(Item::name).toList());
        for (List<Item> batch : r.batches.subList(1, r.batches.size())) {
            assertEquals(waiting.get(0), batch.get(0).name(), "batch " + batch + " skipped the oldest item");
            for (Item i : batch) assertTrue(waiting.remove(i.name()));
        }
        assertTrue(waiting.isEmpty());
    }

    @Test
    void similarLengthsRideTogether() throws Exception {
        // 40 short and 40 long, interleaved: each batch holds one length class
        Recorder r = new Recorder();
        List<Item> items = new ArrayList<>();
        for (int i = 0; i < 80; i++) items.add(new Item("i" + i, i % 2 == 0 ? 12 : 250, "embed"));
        try (Batcher<Item, String> b = batcher(16384, Integer.MAX_VALUE, r)) {
            for (CompletableFuture<Batcher.Done<String>> x : queueBehindFirst(b, r, items)) x.get(30, TimeUnit.SECONDS);
        }
        List<List<Item>> batches = r.batches.subList(1, r.batches.size());
        assertTrue(batches.size() <= 3, "expected about one batch per length class, got " + batches.size());
        for (List<Item> batch : batches) {
            long shorts = batch.stream().filter(i -> i.length() == 12).count(), longs = batch.size() - shorts;
            assertTrue(shorts == 0 || longs == 0, "short and long mixed: " + shorts + " short, " + longs + " long");
        }
    }

    @Test
    void maxBatchRequestsAndAnOverBudgetItemRunAlone() throws Exception {
        Recorder r = new Recorder();
        List<Item> items = new ArrayList<>();
        for (int i = 0; i < 10; i++) items.add(new Item("i" + i, 8, "embed"));
        items.add(new Item("huge", 5000, "embed"));
        try (Batcher<Item, String> b = batcher(1000, 3, r)) {
            for (CompletableFuture<Batcher.Done<String>> x : queueBehindFirst(b, r, items)) x.get(30, TimeUnit.SECONDS);
        }
        for (List<Item> batch : r.batches) {
            assertTrue(batch.size() <= 3);
            if (batch.stream().anyMatch(i -> i.name().equals("huge"))) assertEquals(1, batch.size());
        }
        // batching off: a budget of one token runs everything alone
        Recorder off = new Recorder();
        off.release.countDown();
        try (Batcher<Item, String> b = batcher(1, Integer.MAX_VALUE, off)) {
            for (CompletableFuture<Batcher.Done<String>> x : b.submit(items)) x.get(30, TimeUnit.SECONDS);
        }
        assertTrue(off.batches.stream().allMatch(x -> x.size() == 1));
        assertEquals(items.size(), off.batches.size());
    }

    @Test
    void aFailingBatchFailsItsItemsOnlyAndTheWorkerGoesOn() throws Exception {
        Recorder r = new Recorder();
        r.poison = "bad";
        try (Batcher<Item, String> b = batcher(100, Integer.MAX_VALUE, r)) {
            List<CompletableFuture<Batcher.Done<String>>> f = queueBehindFirst(b, r, List.of(
                    new Item("bad", 50, "embed"), new Item("ok-qa", 50, "qa")));
            ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(1).get(30, TimeUnit.SECONDS));
            assertInstanceOf(IllegalArgumentException.class, e.getCause());
            assertEquals("result of ok-qa", f.get(2).get(30, TimeUnit.SECONDS).value());
            assertEquals("result of later", b.submit(List.of(new Item("later", 3, "embed"))).get(0).get(30, TimeUnit.SECONDS).value());
        }
    }

    @Test
    void aCancelledItemIsDroppedBeforeItRuns() throws Exception {
        Recorder r = new Recorder();
        try (Batcher<Item, String> b = batcher(100, Integer.MAX_VALUE, r)) {
            b.submit(List.of(new Item("first", 1, "embed")));
            assertTrue(r.started.await(30, TimeUnit.SECONDS));
            List<CompletableFuture<Batcher.Done<String>>> f = b.submit(List.of(new Item("gone", 5, "embed"), new Item("kept", 5, "embed")));
            f.get(0).cancel(false);
            r.release.countDown();
            assertEquals("result of kept", f.get(1).get(30, TimeUnit.SECONDS).value());
        }
        assertFalse(r.batches.stream().flatMap(List::stream).anyMatch(i -> i.name().equals("gone")));
    }

    @Test
    void closeRunsWhatIsQueuedThenRefusesAndTimesOutAStuckWorker() throws Exception {
        Recorder r = new Recorder();
        Batcher<Item, String> b = batcher(100, Integer.MAX_VALUE, r);
        b.submit(List.of(new Item("first", 1, "embed")));
        assertTrue(r.started.await(30, TimeUnit.SECONDS));
        List<CompletableFuture<Batcher.Done<String>>> queued = b.submit(List.of(new Item("a", 5, "embed"), new Item("b", 7, "qa")));
        Thread closer = Thread.ofPlatform().start(b::close);
        Thread.sleep(100);
        assertTrue(closer.isAlive(), "close must wait for the batch in flight and the queue");
        assertThrows(IllegalStateException.class, () -> b.submit(List.of(new Item("late", 1, "embed"))));
        r.release.countDown();
        closer.join(30_000);
        assertFalse(closer.isAlive());
        for (CompletableFuture<Batcher.Done<String>> f : queued) assertTrue(f.get(1, TimeUnit.SECONDS).value().startsWith("result of "));
        assertTrue(b.terminated());

        // a worker that never comes back: close gives up after its timeout and fails what is still queued
        Recorder stuck = new Recorder();
        Batcher<Item, String> s = batcher(100, Integer.MAX_VALUE, stuck);
        s.submit(List.of(new Item("first", 1, "embed")));
        assertTrue(stuck.started.await(30, TimeUnit.SECONDS));
        CompletableFuture<Batcher.Done<String>> left = s.submit(List.of(new Item("never", 5, "embed"))).get(0);
        long t0 = System.nanoTime();
        s.close(200);
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(10));
        ExecutionException e = assertThrows(ExecutionException.class, () -> left.get(1, TimeUnit.SECONDS));
        assertInstanceOf(IllegalStateException.class, e.getCause());
        stuck.release.countDown();
    }

    @Test
    void severalWorkersRunBatchesAtOnce() throws Exception {
        CountDownLatch both = new CountDownLatch(2);
        AtomicInteger runs = new AtomicInteger();
        Batcher.Runner<Item, String> r = items -> {
            runs.incrementAndGet();
            both.countDown();
            try {
                if (!both.await(30, TimeUnit.SECONDS)) throw new IllegalStateException("the other worker never ran");
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            return items.stream().map(Item::name).toList();
        };
        try (Batcher<Item, String> b = new Batcher<>(new Batcher.Limits(10, Integer.MAX_VALUE), Item::length, Item::kind, List.of(r, r), null)) {
            // two items of 10 tokens cannot share a batch of 10: each worker takes one, and both must run at once
            List<CompletableFuture<Batcher.Done<String>>> f = b.submit(List.of(new Item("x", 10, "embed"), new Item("y", 10, "embed")));
            assertEquals("x", f.get(0).get(30, TimeUnit.SECONDS).value());
            assertEquals("y", f.get(1).get(30, TimeUnit.SECONDS).value());
        }
        assertEquals(2, runs.get());
    }
}
