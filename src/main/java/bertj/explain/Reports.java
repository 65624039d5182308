package bertj.explain;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** Writing report files. */
final class Reports {
    private Reports() {
    }

    /** An IllegalArgumentException (a one-line error for the user) when out's folder does not exist. */
    static void checkFolder(Path out) {
        Path dir = out.toAbsolutePath().getParent();
        if (dir != null && !Files.isDirectory(dir)) throw new IllegalArgumentException(out + ": the folder " + dir + " does not exist");
    }

    /** Writes bytes to a temporary file beside {@code out}, then moves it into place: never a half-written report. */
    static void writeAtomically(Path out, byte[] bytes) {
        Path abs = out.toAbsolutePath();
        checkFolder(out);
        try {
            // createFile, not createTempFile: the report gets the permissions of any new file (umask), not 0600
            Path tmp = abs.resolveSibling("." + abs.getFileName() + "." + ProcessHandle.current().pid() + "."
                    + Long.toHexString(System.nanoTime()) + ".part");
            Files.createFile(tmp);
            try {
                Files.write(tmp, bytes);
                try {
                    Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
                }
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
