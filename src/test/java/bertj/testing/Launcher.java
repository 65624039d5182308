package bertj.testing;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

/**
 * The project's {@code bertj} launcher script, copied into a directory beside a {@code target/bertj.jar} whose
 * manifest points at the compiled classes, so that a test runs the real launcher without a packaging step.
 */
public final class Launcher {
    private Launcher() {
    }

    /** Copies the launcher into {@code dir} and returns its path. */
    public static Path copyInto(Path dir) throws IOException {
        Path launcher = dir.resolve("bertj");
        Files.copy(PyTorch.projectDir().resolve("bertj"), launcher, StandardCopyOption.COPY_ATTRIBUTES);
        if (!launcher.toFile().setExecutable(true)) throw new IOException("cannot make " + launcher + " executable");
        Files.createDirectories(dir.resolve("target"));
        Manifest mf = new Manifest();
        mf.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        mf.getMainAttributes().put(Attributes.Name.MAIN_CLASS, "bertj.cli.Main");
        StringBuilder cp = new StringBuilder();
        for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (!e.isEmpty()) cp.append(cp.isEmpty() ? "" : " ").append(Path.of(e).toAbsolutePath().toUri());
        }
        mf.getMainAttributes().put(Attributes.Name.CLASS_PATH, cp.toString());
        try (OutputStream out = Files.newOutputStream(dir.resolve("target/bertj.jar")); JarOutputStream jar = new JarOutputStream(out, mf)) {
            jar.flush();
        }
        return launcher;
    }
}
