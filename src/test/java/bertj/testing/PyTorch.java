package bertj.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the PyTorch side (scripts under weights/) from tests. Python is Debian's /usr/bin/python3 unless BERTJ_PYTHON says otherwise. */
public final class PyTorch {
    private PyTorch() {
    }

    public static Path projectDir() {
        String p = System.getProperty("bertj.projectDir");
        return p != null ? Path.of(p) : Path.of("").toAbsolutePath();
    }

    public static String python() {
        String env = System.getenv("BERTJ_PYTHON");
        if (env != null && !env.isBlank()) return env;
        return Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3";
    }

    /** Runs weights/{script} with args; returns its output, or throws with the output when it fails. */
    public static String run(String script, String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(python());
        cmd.add(projectDir().resolve("weights").resolve(script).toString());
        cmd.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(600, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("timed out: " + String.join(" ", cmd));
            }
            String text = new String(out, StandardCharsets.UTF_8);
            if (p.exitValue() != 0) {
                throw new AssertionError("failed (" + p.exitValue() + "): " + String.join(" ", cmd) + "\n" + text);
            }
            return text;
        } catch (IOException e) {
            throw new AssertionError("cannot run " + cmd.get(0) + " (is python3-torch installed?): " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /**
     * A fresh random seed, printed so that a failure can be replayed; -Dbertj.seed=N fixes it.
     */
    public static long seed(String what) {
        // -Dbertj.seed=N fixes every seed; -Dbertj.seed.<what>=N one of them (a run that drew several)
        String key = "bertj.seed." + what.replaceAll("[^A-Za-z0-9]+", "-");
        String fixed = System.getProperty(key, System.getProperty("bertj.seed"));
        long seed = fixed != null ? Long.parseLong(fixed) : new SecureRandom().nextInt(1 << 30);
        System.out.println("[seed] " + what + ": " + seed + " (replay with -Dbertj.seed=" + seed + " or -D" + key + "=" + seed + ")");
        return seed;
    }

    /** A random NVIDIA-format 4L-288D checkpoint written by weights/make_checkpoint.py. */
    public static Path checkpoint(Path dir, String name, long seed, String... extra) throws IOException {
        Files.createDirectories(dir);
        Path out = dir.resolve(name);
        List<String> args = new ArrayList<>(List.of("--out", out.toString(), "--seed", Long.toString(seed)));
        args.addAll(List.of(extra));
        run("make_checkpoint.py", args.toArray(String[]::new));
        return out;
    }

    /** PyTorch reference outputs for a checkpoint, written by weights/reference.py. */
    public static Path reference(Path model, Path out, String dtype, long seed, String... extra) {
        List<String> args = new ArrayList<>(List.of("--model", model.toString(), "--out", out.toString(),
                "--dtype", dtype, "--seed", Long.toString(seed)));
        args.addAll(List.of(extra));
        run("reference.py", args.toArray(String[]::new));
        return out;
    }
}
