package bertj.cli;

import bertj.readers.SafeTensors;
import bertj.testing.Cli;
import bertj.testing.RandomBert;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CliTest {
    @TempDir
    Path dir;

    @Test
    void usageErrorsExitTwoWithOneLine() {
        for (String[] args : new String[][] {
                {},
                {"frobnicate"},
                {"info"},
                {"parity", "--model", "x.pt"},
                {"info", "--model", "x.pt", "--heads", "many"},
        }) {
            Cli.Result r = Cli.run(args);
            assertEquals(2, r.code(), String.join(" ", args) + ": " + r.err());
            assertEquals(1, r.errLines().length, r.err());
        }
    }

    @Test
    void unknownBackendIsAUsageError() throws Exception {
        Path model = tiny();
        Path ref = dir.resolve("missing.safetensors");
        Cli.Result r = Cli.run("parity", "--model", model.toString(), "--heads", "4", "--reference", ref.toString(), "--backend", "tpu");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("unknown backend 'tpu'"), r.err());
        // with a known backend, the missing reference file is the error: exit 1, the file named
        r = Cli.run("parity", "--model", model.toString(), "--heads", "4", "--reference", ref.toString(), "--backend", "cpu");
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains("missing.safetensors"), r.err());
    }

    @Test
    void errorsAreOneLineUnlessVerbose() {
        Path missing = dir.resolve("nope.pt");
        Cli.Result r = Cli.run("info", "--model", missing.toString());
        assertEquals(1, r.code());
        assertEquals(1, r.errLines().length, r.err());
        assertTrue(r.err().contains("no such file"), r.err());
        Cli.Result v = Cli.run("info", "--model", missing.toString(), "--verbose");
        assertEquals(1, v.code());
        assertTrue(v.errLines().length > 3 && v.err().contains("\tat "), "stack trace with --verbose: " + v.err());
    }

    @Test
    void badGeluValueIsOneLine() throws Exception {
        Cli.Result r = Cli.run("info", "--model", tiny().toString(), "--heads", "4", "--gelu", "relu");
        assertEquals(2, r.code(), "a usage error");
        assertEquals(1, r.errLines().length, r.err());
        assertTrue(r.err().contains("'erf' or 'tanh'"), r.err());
    }

    @Test
    void infoOnTinyModel() throws Exception {
        Cli.Result r = Cli.run("info", "--model", tiny().toString(), "--heads", "4");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("2 layers, hidden 32, 4 heads of 8"), r.out());
    }

    private Path tiny() throws Exception {
        Path p = dir.resolve("tiny.safetensors");
        if (!Files.exists(p)) SafeTensors.write(p, RandomBert.tensors(RandomBert.TINY, 9), Map.of());
        return p;
    }
}
