package bertj.cli;

import bertj.readers.SafeTensors;
import bertj.testing.Cli;
import bertj.testing.RandomBert;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The options every model-running command shares: each does what its help says or is refused with one line,
 * usage errors exit 2 before any model is loaded, and a value that contradicts what the model file itself states
 * is an error, never a silent override.
 */
class OptionsTest {
    @TempDir
    static Path dir;
    static Path tiny, tinyDir;
    static final String NO_MODEL = "/nonexistent/model.pt";

    @BeforeAll
    static void setUp() throws Exception {
        tiny = dir.resolve("tiny.safetensors");
        SafeTensors.write(tiny, RandomBert.tensors(RandomBert.TINY, 11), Map.of());
        // the same weights as a Hugging Face directory whose config.json says 4 heads
        tinyDir = dir.resolve("tiny-hf");
        Cli.Result r = Cli.run("convert", "--model", tiny.toString(), "--heads", "4", "--out", tinyDir.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.readString(tinyDir.resolve("config.json")).contains("\"num_attention_heads\" : 4"),
                Files.readString(tinyDir.resolve("config.json")));
    }

    /** Exit code, exactly one line on stderr, containing each fragment. */
    static Cli.Result fails(int code, List<String> fragments, String... args) {
        Cli.Result r = Cli.run(args);
        assertEquals(code, r.code(), String.join(" ", args) + "\nstderr: " + r.err());
        assertEquals(1, r.errLines().length, String.join(" ", args) + ": " + r.err());
        for (String f : fragments) assertTrue(r.err().contains(f), String.join(" ", args) + ": stderr should mention '" + f + "': " + r.err());
        assertFalse(r.err().contains("<main class>"), r.err());
        return r;
    }

    /** Each command that runs a model, with everything it requires besides the options under test. */
    static List<String[]> modelCommands(String model) {
        String out = dir.resolve("never-written.json").toString();
        return List.of(
                new String[] {"parity", "--model", model, "--reference", dir.resolve("ref.safetensors").toString()},
                new String[] {"trace", "--model", model, "--input", dir.resolve("in.safetensors").toString(), "--out", out},
                new String[] {"bench", "--model", model},
                new String[] {"qa", "--model", model, "--question", "Who?", "--context", "Ann."},
                new String[] {"squad", "--model", model, "--data", dir.resolve("d.json").toString(), "--out", out},
                new String[] {"embed", "--model", model, "text"},
                new String[] {"similarity", "--model", model, "one", "two"});
    }

    static String[] with(String[] base, String... extra) {
        String[] all = Arrays.copyOf(base, base.length + extra.length);
        System.arraycopy(extra, 0, all, base.length, extra.length);
        return all;
    }

    // --- issue 9 item 5: usage errors exit 2, and come before the model is loaded -----------------------------

    @Test
    void badBackendThreadsDeviceGeluAndHeadsAreUsageErrorsBeforeTheModelLoads() {
        // The model does not exist: had it been loaded first, the error would be "no such file" with exit 1.
        for (String[] cmd : modelCommands(NO_MODEL)) {
            String name = cmd[0];
            fails(2, List.of("unknown backend 'bogus'", "see 'bertj " + name + " --help'"), with(cmd, "--backend", "bogus"));
            fails(2, List.of("--threads", "-3"), with(cmd, "--threads", "-3"));
            fails(2, List.of("--device", "-1"), with(cmd, "--backend", "opencl", "--device", "-1"));
            fails(2, List.of("--gelu", "'erf' or 'tanh'", "bogus"), with(cmd, "--gelu", "bogus"));
            fails(2, List.of("--heads", "positive"), with(cmd, "--heads", "0"));
            fails(2, List.of("--heads", "positive"), with(cmd, "--heads", "-2"));
            fails(2, List.of("--device", "no opencl backend"), with(cmd, "--device", "0"));
            fails(2, List.of("--threads", "no cpu backend"), with(cmd, "--backend", "reference", "--threads", "1"));
        }
        for (String[] cmd : List.of(new String[] {"info", "--model", NO_MODEL}, new String[] {"convert", "--model", NO_MODEL, "--out", "x"})) {
            fails(2, List.of("--gelu"), with(cmd, "--gelu", "bogus"));
            fails(2, List.of("--heads"), with(cmd, "--heads", "0"));
        }
    }

    @Test
    void errorsOfTheEmbeddingOptionsNameTheRealCommand() {
        fails(2, List.of("--batch-size", "see 'bertj similarity --help'"), "similarity", "--batch-size", "0", "a", "b");
        fails(2, List.of("unknown pooling", "see 'bertj embed --help'"), "embed", "--model", NO_MODEL, "--pooling", "max", "a");
        fails(2, List.of("--compare", "see 'bertj similarity --help'"), "similarity", "--compare", "tpu", "a", "b");
        fails(2, List.of("--max-length", "see 'bertj embed --help'"), "embed", "--model", tiny.toString(), "--heads", "4",
                "--max-length", "1", "a");
    }

    // --- issue 9 item 4: options that were silently ignored or overrode the model -------------------------------

    @Test
    void headsThatContradictTheModelAreRefused() {
        // all-MiniLM-L6-v2's ONNX graph splits the query into 12 heads (a --heads that agrees: OnnxImportTest)
        fails(1, List.of("--heads 6", "12", "ONNX graph"), "embed", "--model", "minilm", "--heads", "6", "text");
        // a config.json that says 4 heads
        fails(1, List.of("--heads 2", "config.json", "4"), "info", "--model", tinyDir.toString(), "--heads", "2");
        assertEquals(0, Cli.run("info", "--model", tinyDir.toString(), "--heads", "4").code());
        // where nothing else tells (a bare safetensors file), --heads is what decides
        Cli.Result r = Cli.run("info", "--model", tiny.toString(), "--heads", "2");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("2 heads of 16"), r.out());
    }

    @Test
    void deviceAndThreadsOnlyWhereABackendUsesThem() {
        String m = tiny.toString();
        fails(2, List.of("--device", "opencl"), "bench", "--model", m, "--heads", "4", "--seq", "4", "--device", "1");
        fails(2, List.of("--device", "opencl"), "bench", "--model", m, "--heads", "4", "--seq", "4", "--backend", "reference", "--device", "0");
        fails(2, List.of("--threads", "cpu"), "bench", "--model", m, "--heads", "4", "--seq", "4", "--backend", "reference", "--threads", "2");
        fails(2, List.of("--threads", "cpu"), "bench", "--model", m, "--heads", "4", "--seq", "4", "--backend", "opencl", "--threads", "2");
        fails(2, List.of("--device", "opencl"), "similarity", "--model", m, "--heads", "4", "--compare", "reference", "--device", "0", "a", "b");
        // --threads of the cpu backend that --compare runs is used, so it is accepted
        Cli.Result ok = Cli.run("similarity", "--model", m, "--heads", "4", "--vocab", vocab(), "--backend", "reference",
                "--compare", "cpu", "--threads", "1", "a", "b");
        assertEquals(0, ok.code(), ok.err());
    }

    @Test
    void threadsFarAboveTheCoreCountAreRefused() {
        int cores = Runtime.getRuntime().availableProcessors();
        int limit = bertj.backend.Backends.MAX_THREADS_PER_CORE * cores;
        fails(2, List.of("--threads", (limit + 1) + " threads", cores + " cores", "at most " + limit), "bench", "--model", tiny.toString(),
                "--heads", "4", "--seq", "4", "--threads", Integer.toString(limit + 1));
        fails(2, List.of("--threads", "1000 threads"), "bench", "--model", NO_MODEL, "--threads", "1000");
    }

    @Test
    void benchReportsTheThreadsTheBackendRunsOn() throws Exception {
        ObjectMapper json = new ObjectMapper();
        for (String[] c : new String[][] {{"reference", "1"}, {"cpu", "2"}}) {
            List<String> args = new ArrayList<>(List.of("bench", "--model", tiny.toString(), "--heads", "4", "--backend", c[0],
                    "--batch", "1", "--seq", "4", "--warmup", "0", "--runs", "1", "--json"));
            if (c[0].equals("cpu")) args.addAll(List.of("--threads", "2"));
            Cli.Result r = Cli.run(args.toArray(String[]::new));
            assertEquals(0, r.code(), r.err());
            JsonNode j = json.readTree(r.out());
            assertEquals(Integer.parseInt(c[1]), j.get("threads").asInt(), c[0] + ": " + j);
        }
        Cli.Result text = Cli.run("bench", "--model", tiny.toString(), "--heads", "4", "--backend", "reference", "--batch", "1", "--seq", "4",
                "--warmup", "0", "--runs", "1");
        assertTrue(text.out().contains(", 1 thread,"), text.out());
    }

    // --- issue 9 item 7: one declaration of each option ------------------------------------------------------------

    /** The options of a shared concern, by the command that declares them. */
    @Test
    void everyModelCommandHasTheSameModelAndBackendOptions() {
        CommandLine root = Main.commandLine();
        List<String> modelOptions = List.of("--model", "--gelu", "--heads", "--config", "--verbose");
        List<String> backendOptions = List.of("--backend", "--device", "--threads");
        OptionSpec geluOfInfo = root.getSubcommands().get("info").getCommandSpec().findOption("--gelu");
        for (String name : List.of("info", "convert", "parity", "trace", "bench", "qa", "squad", "embed", "similarity")) {
            CommandSpec spec = root.getSubcommands().get(name).getCommandSpec();
            for (String o : modelOptions) assertNotNull(spec.findOption(o), name + " lacks " + o);
            // the same declaration: same description everywhere
            assertEquals(List.of(geluOfInfo.description()), List.of(spec.findOption("--gelu").description()), name + " --gelu");
            if (!name.equals("info") && !name.equals("convert")) {
                for (String o : backendOptions) assertNotNull(spec.findOption(o), name + " lacks " + o);
            }
        }
        for (String name : List.of("qa", "squad")) {
            CommandSpec spec = root.getSubcommands().get(name).getCommandSpec();
            for (String o : List.of("--batch", "--max-seq-length", "--doc-stride", "--max-query-length", "--n-best-size",
                    "--max-answer-length", "--vocab", "--cased", "--uncased")) {
                assertNotNull(spec.findOption(o), name + " lacks " + o);
            }
        }
        // similarity's --model defaults to minilm; every other command requires one
        assertFalse(root.getSubcommands().get("similarity").getCommandSpec().findOption("--model").required());
        assertTrue(root.getSubcommands().get("embed").getCommandSpec().findOption("--model").required());
    }

    /**
     * A command line names its command first, and then only that command is built (Main.commandLine): each must
     * be the same command as in the whole command line — the same usage text, options and inherited --help and
     * --version — and any other first argument builds them all.
     */
    @Test
    void aCommandBuiltAloneIsTheSameAsInTheWholeCommandLine() {
        CommandLine all = Main.commandLine();
        assertEquals(Main.COMMANDS.size(), all.getSubcommands().size());
        for (String name : all.getSubcommands().keySet()) {
            CommandLine alone = Main.commandLine(new String[] {name, "--help"});
            assertEquals(List.of(name), List.copyOf(alone.getSubcommands().keySet()));
            CommandLine a = alone.getSubcommands().get(name), w = all.getSubcommands().get(name);
            assertEquals(w.getUsageMessage(CommandLine.Help.Ansi.OFF), a.getUsageMessage(CommandLine.Help.Ansi.OFF), name);
            assertEquals(w.getCommandSpec().qualifiedName(), a.getCommandSpec().qualifiedName(), name);
            assertNotNull(a.getCommandSpec().findOption("--version"), name);
        }
        for (String first : List.of("--help", "embd", "-V")) {
            assertEquals(Main.COMMANDS.size(), Main.commandLine(new String[] {first}).getSubcommands().size(), first);
        }
        assertEquals(Main.COMMANDS.size(), Main.commandLine(new String[0]).getSubcommands().size());
        // and through the command line itself: a mistyped command or none is a usage error, said once
        Cli.Result r = Cli.run("embd", "x");
        assertEquals(2, r.code());
        assertEquals("bertj: Unmatched arguments from index 0: 'embd', 'x' (see 'bertj --help')", r.err().strip());
        r = Cli.run();
        assertEquals(2, r.code());
        assertEquals("bertj: a command is required (see 'bertj --help')", r.err().strip());
    }

    @Test
    void similarityTakesTheGeluAndConfigOfEveryOtherCommand() throws Exception {
        ObjectMapper json = new ObjectMapper();
        String v = vocab();
        double erf = json.readTree(ok("similarity", "--model", tiny.toString(), "--heads", "4", "--vocab", v, "--json", "a b", "b a"))
                .get("similarities").get(0).get("cosine").asDouble();
        double tanh = json.readTree(ok("similarity", "--model", tiny.toString(), "--heads", "4", "--vocab", v, "--json", "--gelu", "tanh", "a b", "b a"))
                .get("similarities").get(0).get("cosine").asDouble();
        assertTrue(Math.abs(erf - tanh) > 1e-9, "--gelu tanh must change the model: " + erf + " vs " + tanh);
        double cfg = json.readTree(ok("similarity", "--model", tiny.toString(), "--config", tinyDir.resolve("config.json").toString(),
                "--vocab", v, "--json", "a b", "b a")).get("similarities").get(0).get("cosine").asDouble();
        assertEquals(erf, cfg, 0.0, "--config with the same shape: the same model");
    }

    static String ok(String... args) {
        Cli.Result r = Cli.run(args);
        assertEquals(0, r.code(), String.join(" ", args) + ": " + r.err());
        return r.out();
    }

    static String vocab() {
        Path p = dir.resolve("vocab.txt");
        if (!Files.exists(p)) {
            List<String> tokens = new ArrayList<>(List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "b"));
            while (tokens.size() < RandomBert.TINY.vocabSize()) tokens.add("tok" + tokens.size());
            try {
                Files.write(p, tokens);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
        return p.toString();
    }
}
