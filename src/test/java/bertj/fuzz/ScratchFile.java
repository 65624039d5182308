package bertj.fuzz;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * For the readers that only read files ({@link java.util.zip.ZipFile} needs a path): one scratch file per name and
 * JVM, rewritten for every input, on tmpfs (/dev/shm) where there is one, so that an input stays in memory.
 */
final class ScratchFile {
    private static final Map<String, Path> FILES = new HashMap<>();

    private ScratchFile() {
    }

    static synchronized Path write(String name, byte[] bytes) {
        try {
            Path p = FILES.get(name);
            if (p == null) {
                Path shm = Path.of("/dev/shm");
                Path dir = Files.createTempDirectory(Files.isDirectory(shm) && Files.isWritable(shm) ? shm
                        : Path.of(System.getProperty("java.io.tmpdir")), "bertj-fuzz-");
                dir.toFile().deleteOnExit();
                p = dir.resolve(name);
                p.toFile().deleteOnExit();
                FILES.put(name, p);
            }
            Files.write(p, bytes);
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
