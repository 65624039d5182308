package bertj.cli;

import bertj.qa.Batches;

import java.io.PrintWriter;

/**
 * Progress of a long run on stderr. On a terminal: one line redrawn in place, with a bar, the count, the rate and
 * the time left. Elsewhere (a log file, a pipe): a plain line at every tenth of the work, and at least every
 * 30 seconds. The time left is extrapolated from tokens done, not windows: windows are run longest first, so
 * early ones take longer than late ones (from items done when the token total is not known). A total below 0 is
 * not known yet (a stream): then the count and rate are shown, without bar or time left. A run given a quiet time
 * shows nothing until that time has passed, so that short runs print nothing.
 */
final class Progress implements Batches.Progress {
    enum Mode { BAR, LINES, NONE }

    private final PrintWriter err;
    private final Mode mode;
    private final String unit;
    private final long startNanos = System.nanoTime();
    private final long quietNanos;
    private long lastDraw;
    private int lastTenth = -1;
    private int width;

    Progress(PrintWriter err, Mode mode, String unit) {
        this(err, mode, unit, 0);
    }

    /** @param quietSeconds nothing is shown before this much time has passed */
    Progress(PrintWriter err, Mode mode, String unit, double quietSeconds) {
        this.err = err;
        this.mode = mode;
        this.unit = unit;
        this.quietNanos = (long) (quietSeconds * 1e9);
    }

    /** BAR when the JVM has a terminal (System.console(), and on Java 22+ Console.isTerminal()), else LINES. */
    static Mode auto() {
        java.io.Console c = System.console();
        if (c == null) return Mode.LINES;
        try {
            Object terminal = java.io.Console.class.getMethod("isTerminal").invoke(c);
            return Boolean.TRUE.equals(terminal) ? Mode.BAR : Mode.LINES;
        } catch (ReflectiveOperationException e) {
            return Mode.BAR; // before Java 22, System.console() is non-null only on a terminal
        }
    }

    @Override
    public void update(int done, int total, long tokensDone, long tokensTotal) {
        if (mode == Mode.NONE) return;
        long now = System.nanoTime();
        if (now - startNanos < quietNanos) return;
        double secs = (now - startNanos) / 1e9;
        double rate = secs > 0 ? done / secs : 0;
        boolean known = total >= 0, last = known && done == total;
        double left = !known ? Double.NaN : tokensTotal > 0 && tokensDone > 0 ? secs * (tokensTotal - tokensDone) / tokensDone
                : done > 0 ? secs * (total - done) / done : Double.NaN;
        if (mode == Mode.BAR) {
            if (!last && now - lastDraw < 100_000_000L) return;
            lastDraw = now;
            String line;
            if (known) {
                int bar = 30, filled = total == 0 ? bar : (int) ((long) bar * done / total);
                line = String.format("[%s%s] %3d%% %,d/%,d %s, %.1f/s, %s %s", "#".repeat(filled), ".".repeat(bar - filled),
                        total == 0 ? 100 : 100L * done / total, done, total, unit, rate, last ? "took" : "ETA",
                        duration(last ? secs : left));
            } else {
                line = String.format("%,d %s, %.1f/s, %s", done, unit, rate, duration(secs));
            }
            width = Math.max(width, line.length());
            err.print("\r" + line + " ".repeat(width - line.length()));
            if (last) err.println();
            err.flush();
        } else {
            int tenth = !known ? lastTenth : total == 0 ? 10 : (int) (10L * done / total);
            if (tenth == lastTenth && !last && now - lastDraw < 30_000_000_000L) return;
            lastTenth = tenth;
            lastDraw = now;
            if (known) {
                err.printf("%,d/%,d %s (%d%%), %.1f/s, %s %s%n", done, total, unit, total == 0 ? 100 : 100L * done / total, rate,
                        last ? "took" : "ETA", duration(last ? secs : left));
            } else {
                err.printf("%,d %s, %.1f/s, %s%n", done, unit, rate, duration(secs));
            }
            err.flush();
        }
    }

    static String duration(double secs) {
        if (Double.isNaN(secs) || Double.isInfinite(secs)) return "?";
        long s = Math.round(secs);
        return s >= 3600 ? String.format("%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String.format("%d:%02d", s / 60, s % 60);
    }
}
