package io.github.agnosticsam.examples;

import picocli.CommandLine.Command;
import picocli.CommandLine;

/** {@code agnostic-sam}: sharpness-aware training on any engine found on the class path. */
@Command(name = "agnostic-sam", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Sharpness-aware training (SAM, ASAM, Agnostic-SAM) on pluggable engines.",
        subcommands = {DemoCommand.class, TrainCommand.class, BenchCommand.class, ResultsCommand.class, SharpnessCommand.class, LandscapeCommand.class, ConformanceCommand.class,
                EnginesCommand.class, CommandLine.HelpCommand.class})
public final class Main {

    /** The version the core records (one home: the build's). */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"agnostic-sam " + io.github.agnosticsam.training.Checkpoint.LIBRARY_VERSION};
        }
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /**
     * The command line with its exit codes: 0 success, 1 a failed check (bad data, a bad report, an
     * output that cannot be written, the Java heap exhausted), 2 a usage error.
     */
    public static CommandLine commandLine() {
        return new CommandLine(new Main()).setExecutionStrategy(parsed -> {
            try {
                return new CommandLine.RunLast().execute(parsed);
            } catch (OutOfMemoryError e) {
                // What the sizes checked before allocating did not foresee (several allocations
                // together): one line, as for any other failed check, not the JVM's stack trace.
                CommandLine cl = parsed.commandSpec().commandLine();
                String command = parsed.hasSubcommand() ? " " + parsed.subcommand().commandSpec().name() : "";
                cl.getErr().println("agnostic-sam" + command + ": out of Java heap (" + e.getMessage() + "): ask for "
                        + "less, or give the JVM more (AGNOSTIC_SAM_JAVA_OPTS=-Xmx...)");
                cl.getErr().flush();
                return 1;
            }
        }).setParameterExceptionHandler((e, args) -> {
            // An unknown option, a value of the wrong type, a missing parameter: one line, not the usage.
            CommandLine cl = e.getCommandLine();
            String command = cl.getCommandSpec().qualifiedName();
            cl.getErr().println(command + ": " + e.getMessage().lines().findFirst().orElse("") + " (see " + command
                    + " --help)");
            cl.getErr().flush();
            return 2;
        }).setExecutionExceptionHandler((e, cl, parsed) -> {
            // Bad data, bad options, a missing engine: one line, no stack trace.
            String command = parsed.hasSubcommand() ? " " + parsed.subcommand().commandSpec().name() : "";
            cl.getErr().println("agnostic-sam" + command + ": " + e.getMessage());
            cl.getErr().flush();
            // Bad data, a bad report or checkpoint, an output that cannot be written: 1. Bad options: 2.
            return e instanceof ImageDataset.DataException || e instanceof OutputFiles.OutputException
                    || e instanceof ResultsCommand.ReportException || e instanceof io.github.agnosticsam.training.CheckpointException
                    ? 1 : 2;
        });
    }
}
