package io.github.agnosticsam.spark;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** SparkTrain's bad options: one line on the driver, exit status 2, before any Spark context starts. */
class SparkTrainOptionsTest {
    private record Ran(int status, String out, String err) {
    }

    private static Ran run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = SparkTrain.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Ran(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private static void refused(String expected, String... args) {
        Ran r = run(args);
        assertThat(r.status()).as(r.err()).isEqualTo(2);
        assertThat(r.err().lines()).as("one line").hasSize(1);
        assertThat(r.err()).startsWith("agnostic-sam-spark: ").contains(expected);
    }

    @Test
    void badOptionsAreOneLineNamingTheValueAndStatus2() {
        refused("--checkpoint URI is required", "--replicas", "2");
        refused("--keep must be in [1, ", "--checkpoint", "file:///tmp/x", "--keep", "0");
        refused("--ring-timeout must be a whole number >= 1, got 'soon'", "--checkpoint", "file:///tmp/x",
                "--ring-timeout", "soon");
        refused("--checkpoint-every needs a value", "--checkpoint", "file:///tmp/x", "--checkpoint-every");
        refused("--optimizer must be one of", "--checkpoint", "file:///tmp/x", "--optimizer", "adamw-sam");
        refused("--batch 100 is not a multiple of --replicas 3", "--checkpoint", "file:///tmp/x", "--replicas", "3",
                "--batch", "100");
        refused("--resume is not one of train's options here", "--checkpoint", "file:///tmp/x", "--resume", "/tmp/y");
        refused("Unknown options: '--epoch', '3'", "--checkpoint", "file:///tmp/x", "--epoch", "3");
        refused("--checkpoint nope://x/y: no file system for it", "--checkpoint", "nope://x/y");
        // What train checks only once it builds the optimizer or knows its passes, checked here too.
        refused("rho1", "--checkpoint", "file:///tmp/x", "--rho1", "-0.5");
        refused("--val-batch 33 is not a multiple of --replicas 2", "--checkpoint", "file:///tmp/x", "--replicas",
                "2", "--val-batch", "33");
        refused("--sharpness-images 64 needs --sharpness-every N", "--checkpoint", "file:///tmp/x",
                "--sharpness-images", "64");
    }

    @Test
    void aReportThatCannotBeWrittenIsOneLineBeforeTheRunWithStatus1(@org.junit.jupiter.api.io.TempDir
            java.nio.file.Path dir) throws Exception {
        java.nio.file.Path file = dir.resolve("a-file");
        java.nio.file.Files.writeString(file, "x");
        Ran r = run("--checkpoint", dir.resolve("c").toUri().toString(), "--json",
                file.resolve("report.json").toString());
        assertThat(r.status()).as(r.err()).isEqualTo(1);
        assertThat(r.err().lines()).hasSize(1);
        assertThat(r.err()).startsWith("agnostic-sam-spark: ").contains(file.resolve("report.json").toString());
    }

    @Test
    void helpShowsTheLaunchersOptionsAndTrains() {
        Ran r = run("--help");
        assertThat(r.status()).isZero();
        assertThat(r.out()).contains("--checkpoint URI").contains("--ring-timeout").contains("--optimizer")
                .contains("--replicas");
    }
}
