package bertj.backend.opencl;

import bertj.testing.Launcher;
import org.jocl.CL;
import org.jocl.cl_platform_id;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * PoCL installs LLVM's crash handlers over the JVM's signal handlers (see {@code OpenCl.warnIfSignalsUnchained});
 * a CI run of the whole suite once ended in a bare "Segmentation fault" of the test JVM, no hs_err report, during
 * the OpenCL QA tests. {@code java -Xcheck:jni} reports each JVM handler found replaced ("SIGSEGV handler
 * modified!"): these tests list the OpenCL platforms (which loads every driver) in a child JVM under it, without
 * and with the JDK's signal-chaining library; bertj's own check (libjsig.so among the JVM's mapped libraries)
 * must warn in the first case only, and must find the library loaded in a JVM that {@code ./bertj} starts. CI
 * installs PoCL, so the first case is a real negative control there.
 */
class SignalChainingTest {
    @TempDir
    static Path dir;
    static Path jsig;

    @BeforeAll
    static void libjsig() {
        jsig = Path.of(System.getProperty("java.home"), "lib", "libjsig.so");
        assertTrue(Files.isRegularFile(jsig), "this JDK has no " + jsig);
    }

    private record Run(int code, String out, String err) {
        /** -Xcheck:jni's reports of replaced handlers (the JVM prints them on stdout). */
        long modified() {
            return (out + err).lines().filter(l -> l.matches("Warning: SIG[A-Z0-9]+ handler modified!")).count();
        }

        boolean warned() {
            return err.contains("bertj: warning: PoCL replaces the JVM's signal handlers");
        }
    }

    private static Run run(List<String> command, Map<String, String> env) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().remove("LD_PRELOAD");
        pb.environment().putAll(env);
        Path out = Files.createTempFile(dir, "out", ".txt"), err = Files.createTempFile(dir, "err", ".txt");
        pb.redirectOutput(out.toFile()).redirectError(err.toFile());
        Process p = pb.start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(command + " did not end within 120 s");
        }
        return new Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
    }

    /**
     * A child JVM's main: lists the OpenCL platforms and their devices (PoCL installs the handlers in
     * clGetDeviceIDs) and waits half a second, so that -Xcheck:jni's periodic check of the signal handlers runs.
     * (Under -Xcheck:jni JOCL's clGetPlatformInfo and clGetDeviceInfo leave their output arrays unwritten, so
     * bertj's own check, which reads the platform names, is tried in a second child without it: {@code bertj devices}.)
     */
    public static void main(String[] args) throws InterruptedException {
        int devices = 0;
        for (cl_platform_id p : OpenCl.platforms()) {
            int[] n = new int[1];
            CL.clGetDeviceIDs(p, CL.CL_DEVICE_TYPE_ALL, 0, null, n);
            devices += n[0];
        }
        System.out.println(devices + " OpenCL devices");
        Thread.sleep(500);
    }

    private static final String JAVA = Path.of(System.getProperty("java.home"), "bin", "java").toString();

    private static Run checkedByTheJvm(Map<String, String> env) throws IOException, InterruptedException {
        return run(List.of(JAVA, "-Xcheck:jni", "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                SignalChainingTest.class.getName()), env);
    }

    private static Run devices(Map<String, String> env) throws IOException, InterruptedException {
        return run(List.of(JAVA, "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                "bertj.cli.Main", "devices"), env);
    }

    @Test
    void theTestJvmItselfRunsWithSignalChaining() {
        assertTrue(OpenCl.signalsChained(), "libjsig.so is not loaded in the test JVM: the surefire configuration must preload it");
    }

    @Test
    void withoutLibjsigPoclReplacesTheJvmsHandlersAndBertjSaysSo() throws Exception {
        Run d = devices(Map.of());
        assertEquals(0, d.code(), d.err());
        assertTrue(d.out().contains("Portable Computing Language"), "no PoCL platform here (CI installs pocl-opencl-icd): nothing to check\n" + d.out());
        assertTrue(d.warned(), "bertj did not warn about the replaced handlers\n" + d.err());
        assertEquals(1, d.err().lines().filter(l -> l.startsWith("bertj: ")).count(), d.err());
        Run r = checkedByTheJvm(Map.of());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("Warning: SIGSEGV handler modified!"),
                "PoCL did not replace the JVM's SIGSEGV handler: the hazard this guards against was not seen\n" + r.out() + r.err());
        System.out.printf("without libjsig: %d JVM signal handlers replaced by PoCL's driver (java -Xcheck:jni)%n", r.modified());
    }

    @Test
    void withLibjsigPreloadedTheJvmKeepsItsHandlers() throws Exception {
        Map<String, String> env = Map.of("LD_PRELOAD", jsig.toString());
        Run r = checkedByTheJvm(env);
        assertEquals(0, r.code(), r.err());
        assertEquals(0, r.modified(), r.out() + r.err());
        Run d = devices(env);
        assertEquals(0, d.code(), d.err());
        assertTrue(d.out().contains("Portable Computing Language"), d.out());
        assertTrue(!d.warned(), d.err());
    }

    @Test
    void theLauncherPreloadsLibjsig() throws Exception {
        Path launcher = Launcher.copyInto(Files.createDirectories(dir.resolve("launcher")));
        Run r = run(List.of(launcher.toString(), "devices"), Map.of("BERTJ_AOT", "0", "JAVA_HOME", System.getProperty("java.home")));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("Portable Computing Language"), r.out());
        assertTrue(!r.warned(), "the JVM the launcher started has no libjsig.so loaded\n" + r.err());
    }
}
