package bertj.cli;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Peak memory of this JVM so far, for benchmark reports: the heap as the sum of each heap pool's peak (an upper
 * bound on the true peak, since the pools need not peak together) and the resident set's high-water mark
 * (VmHWM from /proc/self/status; −1 where there is no /proc).
 */
record Memory(double peakHeapMb, double peakRssMb) {
    static Memory now() {
        long heap = 0;
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
            if (p.getType() == MemoryType.HEAP && p.getPeakUsage() != null) heap += p.getPeakUsage().getUsed();
        }
        return new Memory(heap / 1048576.0, rssHighWaterKb() / 1024.0);
    }

    private static long rssHighWaterKb() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        } catch (IOException | RuntimeException e) {
            // no /proc (not Linux): reported as unknown
        }
        return -1024;
    }
}
