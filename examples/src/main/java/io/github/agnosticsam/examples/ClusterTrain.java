package io.github.agnosticsam.examples;

import io.github.agnosticsam.spi.Collective;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;

/**
 * {@code train} with its replicas in several processes or machines (agnostic-sam-spark runs it on a
 * Spark cluster): {@link #check} where the run is submitted, {@link #replica} in each replica's
 * process. Every replica reads the same data and draws the same batches; each steps its shard of
 * them and meets the others once per step in the group. The launcher owns where checkpoints and
 * the report go.
 */
public final class ClusterTrain {
    /** Options of train that the launcher replaces with its own (checkpoints and reports elsewhere than local files). */
    private static final List<String> LAUNCHERS = List.of("--checkpoint", "--checkpoint-every", "--keep", "--json",
            "--resume");

    private ClusterTrain() {
    }

    /** Replica 0's output lines and its JSON report (train --json's content). */
    public record Report(String output, String json) {
    }

    /**
     * Parses and checks {@code train}'s options as train does before it reads any data, file or
     * engine (options that contradict a checkpoint being continued are found by the replicas, which
     * read it), and returns --replicas.
     *
     * @throws IllegalArgumentException naming the bad option and value, in one line
     */
    public static int check(List<String> trainOptions) {
        TrainCommand command = parse(trainOptions);
        CommandLine.ParseResult parsed = command.spec.commandLine().getParseResult();
        for (String name : LAUNCHERS) {
            if (parsed.hasMatchedOption(name)) {
                throw new IllegalArgumentException(name + " is not one of train's options here: the launcher's own "
                        + "--checkpoint URI, --checkpoint-every, --keep and --json take its place, and a run resumes "
                        + "from its --checkpoint by itself");
            }
        }
        if (parsed.hasMatchedOption("--tensorboard")) {
            throw new IllegalArgumentException("--tensorboard is not supported on a cluster yet");
        }
        command.checkOptions(null);
        return command.run.replicas;
    }

    /**
     * Checks, before the run, that the launcher can write the report to {@code file} (as train's
     * --json is checked).
     *
     * @throws RuntimeException one line naming the file, when it cannot
     */
    public static void checkReport(Path file) {
        OutputFiles.checkWritable(file);
    }

    /** Writes replica 0's JSON report to {@code file}, atomically (as train's --json). */
    public static void writeReport(Path file, String json) {
        OutputFiles.write(file, out -> out.write(json.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    }

    /** train's usage, for a launcher's --help. */
    public static String usage() {
        return new CommandLine(new TrainCommand()).getUsageMessage();
    }

    /**
     * Runs replica {@code rank} of the run {@code trainOptions} describe, in {@code group} (of
     * --replicas members). {@code resumeFrom} is a local folder holding a copy of the run's newest
     * checkpoint, or null to start; {@code checkpoints} is where replica 0 writes them (null: none,
     * as for every other replica).
     */
    public static Report replica(List<String> trainOptions, int rank, Collective group, CheckpointSink checkpoints,
            Path resumeFrom) {
        List<String> args = new ArrayList<>(trainOptions);
        if (resumeFrom != null) {
            args.add("--resume");
            args.add(resumeFrom.toString());
        }
        TrainCommand command = parse(args);
        StringWriter out = new StringWriter();
        command.spec.commandLine().setOut(new PrintWriter(out, true));
        command.clusterMember = new TrainingRun.Member(rank, group);
        command.clusterSink = checkpoints;
        command.clusterReport = new StringBuilder();
        command.call();
        return new Report(out.toString(), command.clusterReport.toString());
    }

    private static TrainCommand parse(List<String> args) {
        TrainCommand command = new TrainCommand();
        CommandLine line = new CommandLine(command);
        try {
            line.parseArgs(args.toArray(String[]::new));
        } catch (CommandLine.ParameterException e) {
            throw new IllegalArgumentException(e.getMessage().lines().findFirst().orElse(""), e);
        }
        return command;
    }
}
