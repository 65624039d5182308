package bertj.testing;

import bertj.cli.Main;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/** Runs the bertj command line in-process and captures what it prints. */
public final class Cli {
    private Cli() {
    }

    public record Result(int code, String out, String err) {
        /** The lines of stderr, without a trailing empty one. */
        public String[] errLines() {
            return err.isEmpty() ? new String[0] : err.split("\n");
        }
    }

    public static Result run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int code;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
             PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            code = Main.run(args, o, e);
        }
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }
}
