package bertj.backend.opencl;

import org.jocl.cl_mem;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Device buffers for activations, reused from one forward pass to the next. Within a pass every acquired
 * buffer stays taken (the encoder may still read any matrix of the pass); {@link #endPass} hands them all back.
 * A pass takes the smallest free buffer large enough, so a pass with the same shapes as the last one reuses
 * exactly its buffers and allocates nothing. Free buffers that a whole pass did not use are released then,
 * so the pool holds no more than the largest recent pass needed.
 */
final class BufferPool implements AutoCloseable {
    private record Buf(cl_mem mem, long bytes) {
    }

    private final ClDevice dev;
    private final List<Buf> free = new ArrayList<>();
    private final List<Buf> taken = new ArrayList<>();
    private long allocations; // buffers created so far (tests check reuse)

    BufferPool(ClDevice dev) {
        this.dev = dev;
    }

    cl_mem acquire(long bytes, String what) {
        Buf best = null;
        for (Buf b : free) {
            if (b.bytes() >= bytes && b.bytes() <= 2 * bytes + 4096 && (best == null || b.bytes() < best.bytes())) best = b;
        }
        if (best == null) {
            best = new Buf(dev.alloc(bytes, what), bytes);
            allocations++;
        } else {
            free.remove(best);
        }
        taken.add(best);
        return best.mem();
    }

    /** Every buffer taken in this pass becomes free; free buffers this pass did not take are released. */
    void endPass() {
        for (Buf b : free) dev.free(b.mem(), b.bytes());
        free.clear();
        free.addAll(taken);
        free.sort(Comparator.comparingLong(Buf::bytes));
        taken.clear();
    }

    long allocations() {
        return allocations;
    }

    @Override
    public void close() {
        for (Buf b : free) dev.free(b.mem(), b.bytes());
        for (Buf b : taken) dev.free(b.mem(), b.bytes());
        free.clear();
        taken.clear();
    }
}
