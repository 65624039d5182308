package bertj.cli;

import picocli.CommandLine.Option;

/** --verbose: print stack traces with errors. Read by {@link Main} before parsing; declared so it parses. */
public class VerboseOption {
    @Option(names = "--verbose", description = "Print the stack trace of an error.")
    boolean verbose;
}
