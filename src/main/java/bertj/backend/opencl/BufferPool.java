package bertj.backend.opencl;

import org.jocl.cl_mem;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Device buffers for activations, reused by liveness within a pass and from one pass to the next. An acquired
 * buffer stays taken until the encoder {@link #release}s it (it will not read that matrix again) or the pass
 * ends ({@link #endPass} hands every buffer back). A request takes the smallest free buffer large enough (and
 * at most about twice the size), so a pass with the same shapes as the last one reuses exactly its buffers and
 * allocates nothing. Free buffers that a whole pass did not use are released then, so the pool holds no more
 * than the most recent pass needed: the few activations alive at once, whatever the depth of the model.
 *
 * <p>A pass whose requests have the sizes of the last pass's gets the same buffer for the n-th request as that
 * pass did (when it is free and fits), so that every kernel launch sees the buffers it saw last time and
 * needs no argument set again (ClDevice's launch sites).
 */
final class BufferPool implements AutoCloseable {
    private record Buf(cl_mem mem, long bytes) {
    }

    private final ClDevice dev;
    private final List<Buf> free = new ArrayList<>();
    private final List<Buf> taken = new ArrayList<>();
    private final List<Buf> freedInPass = new ArrayList<>(); // taken in this pass, then released: still the pass's
    private long allocations; // buffers created so far (tests check reuse)
    private List<Buf> lastOrder = new ArrayList<>(), order = new ArrayList<>(); // buffers in request order

    BufferPool(ClDevice dev) {
        this.dev = dev;
    }

    private static boolean fits(Buf b, long bytes) {
        return b.bytes() >= bytes && b.bytes() <= 2 * bytes + 4096;
    }

    cl_mem acquire(long bytes, String what) {
        Buf best = null;
        int n = order.size();
        if (n < lastOrder.size() && fits(lastOrder.get(n), bytes) && free.contains(lastOrder.get(n))) {
            best = lastOrder.get(n); // what the same request got in the last pass
        } else {
            for (Buf b : free) {
                if (fits(b, bytes) && (best == null || b.bytes() < best.bytes())) best = b;
            }
        }
        if (best == null) {
            best = new Buf(dev.alloc(bytes, what), bytes);
            allocations++;
        } else {
            free.remove(best);
            freedInPass.remove(best); // taken again: it is counted once, in taken
        }
        taken.add(best);
        order.add(best);
        return best.mem();
    }

    /** A buffer taken in this pass that will not be read again: free for later requests of the pass. */
    void release(cl_mem mem) {
        for (int i = 0; i < taken.size(); i++) {
            if (taken.get(i).mem() == mem) {
                Buf b = taken.remove(i);
                freedInPass.add(b);
                free.add(b);
                return;
            }
        }
    }

    /**
     * Every buffer taken in this pass becomes free; free buffers this pass did not take are released, as are
     * buffers of earlier passes it did not reuse.
     */
    void endPass() {
        for (Buf b : free) {
            if (!freedInPass.contains(b)) dev.free(b.mem(), b.bytes());
        }
        free.clear();
        free.addAll(freedInPass);
        free.addAll(taken);
        free.sort(Comparator.comparingLong(Buf::bytes));
        taken.clear();
        freedInPass.clear();
        lastOrder = order;
        order = new ArrayList<>();
    }

    /** Bytes of device memory the pool holds now, free and taken. */
    long bytesHeld() {
        long n = 0;
        for (Buf b : free) n += b.bytes();
        for (Buf b : taken) n += b.bytes();
        return n;
    }

    long allocations() {
        return allocations;
    }

    @Override
    public void close() {
        lastOrder.clear();
        order.clear();
        for (Buf b : free) dev.free(b.mem(), b.bytes());
        for (Buf b : taken) dev.free(b.mem(), b.bytes());
        free.clear();
        taken.clear();
    }
}
