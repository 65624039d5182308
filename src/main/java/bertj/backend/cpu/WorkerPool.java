package bertj.backend.cpu;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * A small fixed set of threads that run one parallel loop at a time: {@code run(n, body)} calls
 * {@code body.run(task, worker)} for every task in [0, n) and returns when all have finished. The caller's
 * thread is worker 0 and takes tasks too, so a pool of T threads starts T − 1.
 *
 * <p>Tasks are handed out one by one from a shared counter rather than split up front: on a machine shared
 * with other processes one of our threads may lose its core for milliseconds, and the others then simply take
 * its share. Idle workers spin briefly (a forward pass issues a parallel loop every few hundred microseconds)
 * and then park, so an idle pool costs no CPU.
 *
 * <p>The counter is a ticket {@code n << 32 | next task}, advanced only by compare-and-set while next &lt; n.
 * A task is claimed only from a ticket that still has tasks left, and the loop's body is read after the
 * claim: the caller cannot start another loop (and replace the body) before every claimed task has finished.
 * So a worker that wakes late, holding values read during an earlier loop, can neither claim a task of a
 * finished loop nor run a task of the current loop with an earlier loop's body or task count.
 *
 * <p>One loop at a time: the counters are shared, so a second caller of {@link #run} while a loop is running
 * (another thread, or a task calling run) is refused with an {@link IllegalStateException} rather than left to
 * wait for a count that can never be reached.
 */
final class WorkerPool implements AutoCloseable {

    /** One parallel loop's body; {@code worker} in [0, threads) indexes per-thread scratch memory. */
    interface Body {
        void run(int task, int worker);
    }

    /** Spin iterations (Thread.onSpinWait) before a waiting thread parks; ~50 µs. */
    private static final int SPINS = 20_000;

    private final int threads;
    private final Thread[] workers;
    private final AtomicLong ticket = new AtomicLong();
    private final AtomicInteger done = new AtomicInteger();
    private volatile int generation;
    private volatile Body body;
    private volatile Thread waiter;
    private volatile Throwable failure;
    private volatile boolean closed;
    private final java.util.concurrent.atomic.AtomicReference<Thread> running = new java.util.concurrent.atomic.AtomicReference<>();

    WorkerPool(int threads) {
        if (threads < 1) throw new IllegalArgumentException("a worker pool needs at least one thread");
        this.threads = threads;
        this.workers = new Thread[threads - 1];
        for (int w = 1; w < threads; w++) {
            int id = w;
            Thread t = new Thread(() -> loop(id), "bertj-cpu-" + w);
            t.setDaemon(true);
            workers[w - 1] = t;
            t.start();
        }
    }

    int threads() {
        return threads;
    }

    /** Runs body for tasks 0..n−1 on all threads; rethrows the first failure of any task. */
    void run(int n, Body b) {
        if (n <= 0) return;
        if (workers.length == 0 || n == 1) {
            for (int i = 0; i < n; i++) b.run(i, 0);
            return;
        }
        if (closed) throw new IllegalStateException("the cpu backend has been closed");
        Thread me = Thread.currentThread();
        if (!running.compareAndSet(null, me)) {
            Thread other = running.get();
            throw new IllegalStateException("the cpu backend's worker pool is already running a loop"
                    + (other == me ? " for this thread (run called from inside a task)" : " for thread '" + (other == null ? "?" : other.getName()) + "'")
                    + ": one parallel loop at a time");
        }
        try {
            runLoop(n, b);
        } finally {
            running.set(null);
        }
    }

    private void runLoop(int n, Body b) {
        body = b;
        failure = null;
        done.set(0);
        ticket.set((long) n << 32); // from here on, tasks can be claimed
        generation++; // wakes spinning workers; parked ones are unparked
        for (Thread t : workers) LockSupport.unpark(t);
        work(0);
        awaitDone(n);
        body = null;
        Throwable f = failure;
        if (f != null) {
            if (f instanceof RuntimeException r) throw r;
            if (f instanceof Error e) throw e;
            throw new IllegalStateException(f);
        }
    }

    /** Claims and runs tasks until the current ticket has none left. */
    private void work(int worker) {
        while (true) {
            long t = ticket.get();
            int index = (int) t, n = (int) (t >>> 32);
            if (index >= n) return;
            if (!ticket.compareAndSet(t, t + 1)) continue;
            Body b = body; // the body of the loop this task belongs to (see the class comment)
            try {
                b.run(index, worker);
            } catch (Throwable e) {
                if (failure == null) failure = e;
            }
            if (done.incrementAndGet() == n) {
                Thread w = waiter;
                if (w != null) LockSupport.unpark(w);
            }
        }
    }

    private void awaitDone(int n) {
        for (int i = 0; i < SPINS; i++) {
            if (done.get() == n) return;
            Thread.onSpinWait();
        }
        waiter = Thread.currentThread();
        while (done.get() != n) {
            LockSupport.parkNanos(this, 1_000_000L);
        }
        waiter = null;
    }

    private void loop(int id) {
        int seen = generation;
        while (!closed) {
            int gen = generation;
            if (gen == seen) {
                boolean woke = false;
                for (int i = 0; i < SPINS; i++) {
                    if (generation != seen || closed) {
                        woke = true;
                        break;
                    }
                    Thread.onSpinWait();
                }
                if (!woke) LockSupport.park(this);
                continue;
            }
            seen = gen;
            work(id);
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Thread t : workers) LockSupport.unpark(t);
    }
}
