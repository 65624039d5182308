package bertj.backend.cpu;

import bertj.testing.PyTorch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.Random;
import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WorkerPoolTest {

    @Test
    @Timeout(120) // a lost task would leave run() waiting forever
    void everyTaskRunsExactlyOnceAcrossManyLoopsOfChangingSize() {
        long seed = PyTorch.seed("worker pool loop sizes");
        Random r = new Random(seed);
        // Loops of very different sizes back to back, as a forward pass issues them (8 linear tasks, then 144
        // attention tasks, ...): a worker waking late must never run a task of one loop with another's body.
        // More threads than cores, so that threads are preempted at arbitrary points, as on a busy machine.
        int threads = 2 * Runtime.getRuntime().availableProcessors() + 3;
        try (WorkerPool pool = new WorkerPool(threads)) {
            for (int loop = 0; loop < 50_000; loop++) {
                int n = r.nextBoolean() ? 1 + r.nextInt(4) : 1 + r.nextInt(200);
                AtomicIntegerArray runs = new AtomicIntegerArray(n);
                pool.run(n, (task, worker) -> {
                    assertTrue(worker >= 0 && worker < threads);
                    runs.incrementAndGet(task);
                });
                for (int i = 0; i < n; i++) {
                    if (runs.get(i) != 1) throw new AssertionError("loop " + loop + " of " + n + ": task " + i + " ran " + runs.get(i) + " times");
                }
            }
        }
    }

    @Test
    void aFailingTaskIsRethrownAndThePoolStaysUsable() {
        try (WorkerPool pool = new WorkerPool(2)) {
            IllegalStateException boom = new IllegalStateException("boom");
            IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> pool.run(50, (task, worker) -> {
                if (task == 17) throw boom;
            }));
            assertSame(boom, thrown);
            AtomicIntegerArray runs = new AtomicIntegerArray(50);
            pool.run(50, (task, worker) -> runs.incrementAndGet(task));
            for (int i = 0; i < 50; i++) assertEquals(1, runs.get(i));
        }
    }
}
