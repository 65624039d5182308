package bertj.fuzz;

import bertj.readers.ModelFileException;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.List;

/**
 * The property every fuzz target checks on every input: the code under test either returns, or throws one of the
 * project's documented exceptions with a one-line message a user can read (no line break, no control character
 * that a terminal would act on, no bidirectional-text control: {@link ModelFileException#mustEscape}); anything else — another exception, a {@link StackOverflowError}, an
 * {@link OutOfMemoryError} — propagates to Jazzer as a finding. An input may not take longer than
 * {@link #limitMillis()} of the thread's CPU time: one second while fuzzing (the first {@value #WARM_UP} inputs of a
 * run excepted, which pay for class loading and JIT compilation), ten seconds in the regression run of
 * {@code mvn test}. CPU time, not wall-clock time, because the machines these run on are shared: an input that
 * waited for a core has not been slow. An input slower than the limit by the clock is run a second time with the
 * thread's CPU clock read around it.
 */
final class Contract {
    /** Jazzer fuzzes when JAZZER_FUZZ is set to a non-empty value; otherwise @FuzzTest runs the kept inputs once. */
    static final boolean FUZZING = System.getenv("JAZZER_FUZZ") != null && !System.getenv("JAZZER_FUZZ").isEmpty();
    static final int WARM_UP = 20;
    private static final ThreadMXBean CPU = ManagementFactory.getThreadMXBean();
    private static long calls;

    private Contract() {
    }

    interface Body {
        void run() throws Exception;
    }

    static long limitMillis() {
        return FUZZING ? 1_000 : 10_000;
    }

    /** Runs {@code body}; exceptions of the {@code documented} types are allowed, others fail the input. */
    @SafeVarargs
    static void holds(Body body, Class<? extends RuntimeException>... documented) {
        List<Class<? extends RuntimeException>> allowed = Arrays.asList(documented);
        long wall = System.nanoTime();
        run(body, allowed);
        long wallMs = (System.nanoTime() - wall) / 1_000_000;
        if (wallMs <= limitMillis() || (FUZZING && calls <= WARM_UP)) return;
        // Slow by the clock: run it again and count the thread's CPU time, which a busy machine does not inflate.
        // (Reading the thread's CPU clock costs a system call, too much to pay on every input.)
        long cpu = CPU.getCurrentThreadCpuTime();
        run(body, allowed);
        long cpuMs = (CPU.getCurrentThreadCpuTime() - cpu) / 1_000_000;
        if (cpuMs > limitMillis()) {
            throw new AssertionError("one input took " + cpuMs + " ms of CPU time (" + wallMs + " ms wall-clock the first time), "
                    + "more than the " + limitMillis() + " ms allowed");
        }
    }

    private static void run(Body body, List<Class<? extends RuntimeException>> allowed) {
        try {
            body.run();
        } catch (RuntimeException e) {
            if (allowed.stream().noneMatch(c -> c.isInstance(e))) throw e;
            oneLine(e);
        } catch (Exception e) {
            // A checked exception can only come from the harness itself (e.g. writing a temporary file).
            throw new IllegalStateException("fuzz harness failed: " + e, e);
        } finally {
            calls++;
        }
    }

    /** A documented exception's message: present, and one line with no control characters. */
    static void oneLine(Throwable e) {
        String m = e.getMessage();
        if (m == null || m.isBlank()) {
            throw new AssertionError(e.getClass().getSimpleName() + " without a message", e);
        }
        for (int i = 0; i < m.length(); i++) {
            char c = m.charAt(i);
            if (ModelFileException.mustEscape(c)) {
                throw new AssertionError(String.format("%s message holds control character U+%04X at %d: %s",
                        e.getClass().getSimpleName(), (int) c, i, m), e);
            }
        }
    }
}
