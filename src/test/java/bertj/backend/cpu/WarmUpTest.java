package bertj.backend.cpu;

import bertj.backend.Batch;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The JIT warm-up that command lines run in the background while a model loads ({@link CpuBackend#warmUpInBackground})
 * stops once real work has started on the vector kernels, and only then: its own passes do not stop it, nor do
 * passes on the cold start's twin, and a warm-up in the foreground runs all its rounds. A fresh JVM, because "real work has started" is a fact about the whole JVM (every other test
 * in this one has started some).
 */
class WarmUpTest {

    /**
     * Prints the rounds a background warm-up runs before any real pass, after a pass whose op ran on the cold
     * start's twin, after one on the vector kernels, and in the foreground.
     */
    public static void main(String[] args) {
        int before = CpuBackend.warmUp(7, true), cold, after;
        try (CpuBackend be = new CpuBackend(1)) {
            Batch batch = new Batch(1, 3, new int[3], new int[3], new int[] {1, 1, 1});
            CpuBackend.Mat x = CpuBackend.wrap(3, 8, new float[24]);
            CpuBackend.Linear l = be.pack(4, 8, new float[32], new float[4]);
            be.begin(batch);
            be.release(be.linear(x, l, bertj.backend.Backend.Epilogue.NONE)); // 192 flops: the twin's
            be.end();
            cold = CpuBackend.warmUp(7, true);
            CpuBackend.endColdStart();
            be.begin(batch);
            be.release(be.linear(x, l, bertj.backend.Backend.Epilogue.NONE));
            be.end();
        }
        after = CpuBackend.warmUp(7, true);
        System.out.println(before + " " + cold + " " + after + " " + CpuBackend.warmUp(7, false));
    }

    @Test
    void aBackgroundWarmUpRunsUntilTheFirstRealPassAndNoLonger() throws IOException, InterruptedException {
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), WarmUpTest.class.getName())
                .redirectErrorStream(true).start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the child JVM did not finish");
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        List<String> lines = out.lines().filter(l -> !l.startsWith("WARNING: Using incubator")).toList();
        assertEquals(0, p.exitValue(), out);
        // 7 rounds before any real pass (its own passes do not count) and after one on the twin (real work that
        // leaves the vector kernels to compile), none after one on the vector kernels, and 7 in the foreground
        assertEquals(List.of("7 7 0 7"), lines, out);
    }
}
