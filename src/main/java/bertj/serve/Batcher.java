package bertj.serve;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import java.util.function.ToIntFunction;

/**
 * Dynamic batching: sequences submitted by many concurrent requests wait in one queue, and each worker (one model
 * instance) takes the next batch from it the moment it is free, runs it, and hands every sequence its own result.
 *
 * <p><b>Which sequences ride together.</b> A batch is padded to its longest sequence, so its cost is counted as
 * padded tokens, {@code longest × rows}, and kept within {@link Limits#maxBatchTokens}. The oldest waiting sequence
 * always goes first (so nothing waits behind more than the batches ahead of it); the others of its kind are taken
 * closest in length to it first, then oldest first, while the padded cost stays within the budget and every
 * member is at least {@link #MIN_FILL} of the longest's length or within {@link #PAD_SLACK} tokens of it: similar
 * lengths batch together, and a sequence is never padded to several times its length (which would cost more than
 * the batch saves: a pass costs about its padded tokens). A sequence that fits nowhere waits for a later batch of
 * its own length, behind at most the batches ahead of it once it is the oldest. A sequence longer than the whole
 * budget runs alone, so {@code maxBatchTokens = 1} turns batching off.
 *
 * <p><b>When.</b> A worker runs one batch at a time; the next one forms in the queue meanwhile and is closed the
 * instant the worker is free (late binding). A batch prepared ahead would freeze its membership while the previous
 * one runs; with clients that send again as soon as they are answered, that splits them into a full batch and a
 * nearly empty one. Assembling a batch costs microseconds, a forward pass milliseconds, so nothing is gained by
 * freezing it earlier.
 *
 * <p>Results do not depend on the company a sequence keeps: a runner must return for each item what it would
 * return for it alone (the cpu backend does, bit for bit: padded keys are skipped exactly). Thread-safe.
 *
 * @param <I> an item: one sequence
 * @param <O> its result
 */
public final class Batcher<I, O> implements AutoCloseable {

    /** Runs one batch on one model instance: one result per item, in order. Called by one worker thread only. */
    public interface Runner<I, O> {
        List<O> run(List<I> items);
    }

    /** Told about every batch run (for metrics); called on the worker thread, so it must be quick. */
    public interface Listener {
        /**
         * @param size         sequences
         * @param tokens       their tokens
         * @param paddedTokens longest × size: what the model computed
         * @param nanos        the forward pass's wall time
         */
        void batch(int size, long tokens, long paddedTokens, long nanos);
    }

    /**
     * @param maxBatchTokens   budget of padded tokens per batch (longest × rows), at least 1
     * @param maxBatchRequests most sequences per batch, at least 1
     */
    public record Limits(int maxBatchTokens, int maxBatchRequests) {
        public Limits {
            if (maxBatchTokens < 1) throw new IllegalArgumentException("the batch token budget must be at least 1 (got " + maxBatchTokens + ")");
            if (maxBatchRequests < 1) throw new IllegalArgumentException("the batch size limit must be at least 1 (got " + maxBatchRequests + ")");
        }
    }

    /**
     * What an item's future completes with.
     *
     * @param queueNanos     from submission to the start of its batch
     * @param inferenceNanos its batch's forward pass
     * @param batchSize      sequences in its batch
     */
    public record Done<O>(O value, long queueNanos, long inferenceNanos, int batchSize) {
    }

    /**
     * How far a sequence may be padded to ride in a batch: it joins only if it is at least this share of the batch's
     * longest, or within {@link #PAD_SLACK} tokens of it — so that every batch of more than one is at least that
     * full of real tokens, short ones aside.
     */
    public static final double MIN_FILL = 0.8;

    /** Padding that a sequence may always take, whatever its share: a few tokens cost less than a pass of their own. */
    public static final int PAD_SLACK = 8;

    /** Whether sequences from {@code shortest} to {@code longest} tokens may share a batch. */
    static boolean closeEnough(int shortest, int longest) {
        return longest - shortest <= PAD_SLACK || shortest >= MIN_FILL * longest;
    }

    private final class Entry {
        final I item;
        final int length;
        final Object kind;
        final long order;
        final long submitted = System.nanoTime();
        final CompletableFuture<Done<O>> future = new CompletableFuture<>();

        Entry(I item, long order) {
            this.item = item;
            this.length = Math.max(1, length(item));
            this.kind = Objects.requireNonNull(kindOf.apply(item), "kind");
            this.order = order;
        }
    }

    private final Limits limits;
    private final ToIntFunction<I> lengthOf;
    private final Function<I, Object> kindOf;
    private final Listener listener;
    private final List<Thread> workers = new ArrayList<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition notEmpty = lock.newCondition();
    private List<Entry> queue = new ArrayList<>(); // arrival order
    private long submittedCount;
    private int running;
    private boolean closed;

    /**
     * Starts one worker thread per runner.
     *
     * @param length tokens of an item
     * @param kind   items of equal kinds ({@link Object#equals}) may share a batch, others never do
     */
    public Batcher(Limits limits, ToIntFunction<I> length, Function<I, Object> kind, List<? extends Runner<I, O>> runners,
                   Listener listener) {
        if (runners.isEmpty()) throw new IllegalArgumentException("at least one runner is needed");
        this.limits = limits;
        this.lengthOf = length;
        this.kindOf = kind;
        this.listener = listener == null ? (a, b, c, d) -> { } : listener;
        for (int w = 0; w < runners.size(); w++) {
            Runner<I, O> r = runners.get(w);
            Thread t = new Thread(() -> work(r), "bertj-batch-worker-" + w);
            t.setDaemon(true);
            workers.add(t);
        }
        workers.forEach(Thread::start);
    }

    private int length(I item) {
        return lengthOf.applyAsInt(item);
    }

    /**
     * Queues items (kept together, in order, in arrival order) and returns one future per item. A future that is
     * cancelled before its batch forms is dropped from the queue.
     *
     * @throws IllegalStateException once {@link #close} has begun
     */
    public List<CompletableFuture<Done<O>>> submit(List<I> items) {
        List<CompletableFuture<Done<O>>> out = new ArrayList<>(items.size());
        lock.lock();
        try {
            if (closed) throw new IllegalStateException("the server is shutting down");
            for (I item : items) {
                Entry e = new Entry(item, submittedCount++);
                queue.add(e);
                out.add(e.future);
            }
            notEmpty.signalAll();
        } finally {
            lock.unlock();
        }
        return out;
    }

    /** Sequences waiting for a batch. */
    public int queued() {
        lock.lock();
        try {
            return queue.size();
        } finally {
            lock.unlock();
        }
    }

    /** Batches being run right now. */
    public int running() {
        lock.lock();
        try {
            return running;
        } finally {
            lock.unlock();
        }
    }

    public Limits limits() {
        return limits;
    }

    private void work(Runner<I, O> runner) {
        while (true) {
            List<Entry> batch;
            lock.lock();
            try {
                while (true) {
                    queue.removeIf(e -> e.future.isDone());
                    if (!queue.isEmpty() || closed) break;
                    notEmpty.awaitUninterruptibly();
                }
                if (queue.isEmpty()) return; // closed and drained
                batch = next();
                running++;
            } finally {
                lock.unlock();
            }
            try {
                run(runner, batch);
            } finally {
                lock.lock();
                try {
                    running--;
                } finally {
                    lock.unlock();
                }
            }
        }
    }

    /**
     * Takes the next batch out of the queue (the caller holds the lock; the queue is not empty): the oldest entry,
     * then the entries of its kind closest to it in length (ties: oldest first) while the padded cost stays within
     * the budget and the lengths stay {@link #closeEnough}.
     */
    private List<Entry> next() {
        Entry head = queue.get(0);
        List<Entry> chosen = new ArrayList<>();
        chosen.add(head);
        int longest = head.length, shortest = head.length;
        if (limits.maxBatchRequests() > 1 && queue.size() > 1) {
            List<Entry> candidates = new ArrayList<>();
            for (int i = 1; i < queue.size(); i++) {
                Entry e = queue.get(i);
                if (e.kind.equals(head.kind)) candidates.add(e);
            }
            candidates.sort(Comparator.comparingInt((Entry e) -> Math.abs(e.length - head.length)).thenComparingLong(e -> e.order));
            for (Entry e : candidates) {
                if (chosen.size() >= limits.maxBatchRequests()) break;
                int newLongest = Math.max(longest, e.length), newShortest = Math.min(shortest, e.length);
                long padded = (long) newLongest * (chosen.size() + 1);
                if (padded > limits.maxBatchTokens() || !closeEnough(newShortest, newLongest)) continue;
                chosen.add(e);
                longest = newLongest;
                shortest = newShortest;
            }
        }
        if (chosen.size() == 1) {
            queue.remove(0);
        } else {
            java.util.Set<Entry> taken = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
            taken.addAll(chosen);
            List<Entry> rest = new ArrayList<>(queue.size() - chosen.size());
            for (Entry e : queue) if (!taken.contains(e)) rest.add(e);
            queue = rest;
            chosen.sort(Comparator.comparingLong(e -> e.order));
        }
        return chosen;
    }

    private void run(Runner<I, O> runner, List<Entry> batch) {
        List<I> items = new ArrayList<>(batch.size());
        long tokens = 0;
        int longest = 0;
        for (Entry e : batch) {
            items.add(e.item);
            tokens += e.length;
            longest = Math.max(longest, e.length);
        }
        long t0 = System.nanoTime();
        List<O> results;
        try {
            results = runner.run(items);
            if (results == null || results.size() != items.size()) {
                throw new IllegalStateException("the runner returned " + (results == null ? "null" : results.size() + " results")
                        + " for a batch of " + items.size());
            }
        } catch (Throwable t) {
            for (Entry e : batch) e.future.completeExceptionally(t);
            if (t instanceof VirtualMachineError vme && !(t instanceof OutOfMemoryError)) throw vme;
            return;
        }
        long nanos = System.nanoTime() - t0;
        try {
            listener.batch(batch.size(), tokens, (long) longest * batch.size(), nanos);
        } catch (RuntimeException ignored) {
            // metrics must never lose a result
        }
        for (int i = 0; i < batch.size(); i++) {
            Entry e = batch.get(i);
            e.future.complete(new Done<>(results.get(i), t0 - e.submitted, nanos, batch.size()));
        }
    }

    /**
     * Stops taking new items, lets the workers run everything already queued, and waits for them, at most
     * {@code timeoutMillis}; what is still queued then fails with an IllegalStateException. Idempotent.
     */
    public void close(long timeoutMillis) {
        lock.lock();
        try {
            closed = true;
            notEmpty.signalAll();
        } finally {
            lock.unlock();
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(Math.min(timeoutMillis, TimeUnit.DAYS.toMillis(365)));
        for (Thread t : workers) {
            long left = deadline - System.nanoTime();
            try {
                if (left > 0) t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        lock.lock();
        try {
            for (Entry e : queue) e.future.completeExceptionally(new IllegalStateException("the server shut down before this ran"));
            queue.clear();
        } finally {
            lock.unlock();
        }
    }

    /** {@link #close(long)} without a time limit. */
    @Override
    public void close() {
        close(Long.MAX_VALUE);
    }

    /** Whether every worker has finished (after {@link #close}). */
    public boolean terminated() {
        for (Thread t : workers) if (t.isAlive()) return false;
        return true;
    }
}
