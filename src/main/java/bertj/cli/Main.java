package bertj.cli;

import bertj.readers.ModelFileException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * The {@code bertj} command. Exit codes: 0 success, 1 any error (one line on stderr, a stack trace only with
 * {@code --verbose}), 2 a usage error.
 */
@Command(name = "bertj", mixinStandardHelpOptions = true, scope = CommandLine.ScopeType.INHERIT, versionProvider = Main.Version.class,
        description = "A pure-Java BERT encoder for NVIDIA's distilled BERT 4L-288D SQuAD checkpoint, with parity evidence against PyTorch.")
public final class Main implements Runnable {

    /** The commands, in the order {@code bertj --help} lists them. */
    static final List<Class<?>> COMMANDS = List.of(InfoCommand.class, ParityCommand.class, TraceCommand.class, ConvertCommand.class,
            EmbedCommand.class, SimilarityCommand.class, DevicesCommand.class,
            TokenizeCommand.class, QaCommand.class, SquadCommand.class, BenchCommand.class, ExplainCommand.class,
            ServeCommand.class);

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a command is required");
    }

    public static void main(String[] args) {
        PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true, StandardCharsets.UTF_8);
        PrintStream err = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.err), true, StandardCharsets.UTF_8);
        int code = run(args, out, err);
        out.flush();
        err.flush();
        System.exit(code);
    }

    /** The command line with every command, as {@code bertj --help} shows it. */
    static CommandLine commandLine() {
        return commandLine(null);
    }

    /**
     * The command line to parse {@code args} with. When the first argument names a command, only that command is
     * added: picocli reads a command's annotations by reflection as it is added, and in a new JVM (without the
     * start-up cache) that took 0.6 s for all thirteen against 0.25 s for one, most of what a short command spent
     * before its model loaded. The command is parsed, described and run the same either way (a test compares every
     * command's usage text); with any other first argument ({@code --help}, a mistyped command, none) every command
     * is added, so that the listing and the errors are as they were.
     */
    static CommandLine commandLine(String[] args) {
        CommandLine cmd = new CommandLine(new Main());
        Class<?> only = null;
        if (args != null && args.length > 0) {
            for (Class<?> c : COMMANDS) {
                Command a = c.getAnnotation(Command.class);
                if (a.name().equals(args[0]) || Arrays.asList(a.aliases()).contains(args[0])) only = c;
            }
        }
        for (Class<?> c : COMMANDS) {
            if (only == null || c == only) cmd.addSubcommand(c);
        }
        return cmd;
    }

    /** Runs the command line and returns its exit code; used by main and by tests. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        boolean verbose = Arrays.asList(args).contains("--verbose");
        CommandLine cmd = commandLine(args);
        cmd.setOut(new PrintWriter(out, true));
        cmd.setErr(new PrintWriter(err, true));
        cmd.setParameterExceptionHandler((ex, a) -> {
            CommandLine c = ex.getCommandLine();
            err.println("bertj: " + oneLine(ex.getMessage()) + " (see '" + c.getCommandSpec().qualifiedName() + " --help')");
            return 2;
        });
        cmd.setExecutionExceptionHandler((ex, c, parsed) -> {
            if (ex instanceof CommandLine.ParameterException pe) {
                err.println("bertj: " + oneLine(pe.getMessage()) + " (see '" + c.getCommandSpec().qualifiedName() + " --help')");
                return 2;
            }
            err.println("bertj: " + describe(ex));
            if (verbose) {
                ex.printStackTrace(err);
            }
            return 1;
        });
        try {
            return cmd.execute(args);
        } catch (OutOfMemoryError e) {
            err.println("bertj: out of memory (" + e.getMessage() + "); give the JVM more with JAVA_OPTS=-Xmx…");
            return 1;
        }
    }

    /** A user-facing sentence for an exception: its message for the errors we raise, its type for bugs. */
    static String describe(Throwable ex) {
        if (ex instanceof ModelFileException || ex instanceof IllegalArgumentException || ex instanceof UserError
                || ex instanceof bertj.backend.BackendException) {
            return oneLine(ex.getMessage());
        }
        if (ex instanceof UncheckedIOException u) {
            ex = u.getCause();
        }
        if (ex instanceof java.nio.file.NoSuchFileException) {
            return "no such file: " + ex.getMessage();
        }
        if (ex instanceof java.nio.file.AccessDeniedException) {
            return "permission denied: " + ex.getMessage();
        }
        if (ex instanceof IOException) {
            return "I/O error: " + oneLine(String.valueOf(ex.getMessage()));
        }
        if (ex instanceof OutOfMemoryError) {
            return "out of memory; give the JVM more with JAVA_OPTS=-Xmx…";
        }
        return "internal error: " + ex.getClass().getSimpleName() + ": " + oneLine(String.valueOf(ex.getMessage()))
                + " (run with --verbose for the stack trace)";
    }

    static String oneLine(String s) {
        if (s == null) return "error";
        return s.replace("\r", " ").replace("\n", " ").trim();
    }

    /** An error in what the user asked for that is not a usage error (exit 1). */
    public static final class UserError extends RuntimeException {
        public UserError(String message) {
            super(message);
        }
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"bertj " + (v == null ? "development build" : v)};
        }
    }
}
