package io.github.agnosticsam.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.agnosticsam.io.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code train --checkpoint} and {@code --resume}: a run killed with SIGKILL after a checkpoint and
 * resumed in another JVM ends with the report of the run that was never interrupted (timings aside).
 */
class ResumeTest {
    @TempDir
    static Path data;

    @BeforeAll
    static void writeData() throws IOException {
        SyntheticIdx.write(data, 640, 200);
    }

    /** Agnostic-SAM (validation draws), label noise, BatchNorm, a cosine schedule over every step. */
    private static List<String> run(String engine, int epochs) {
        return List.of("train", "--data", data.toString(), "--engine", engine, "--device", "cpu", "--threads", "1",
                "--model", "mlp-bn", "--optimizer", "agnostic-sam", "--noise", "0.2", "--epochs", Integer.toString(epochs),
                "--batch", "16", "--val-batch", "8");
    }

    private static List<String> plus(List<String> a, String... more) {
        List<String> out = new ArrayList<>(a);
        out.addAll(List.of(more));
        return out;
    }

    /** A data-parallel run of 2 replicas too: each a thread with its network, meeting at the reduce point. */
    @ParameterizedTest(name = "{0}, {1} replicas")
    @CsvSource({"djl, 1", "tensorflow, 1", "djl, 2", "tensorflow, 2"})
    void aRunKilledAfterACheckpointResumesToTheUninterruptedResult(String engine, int replicas, @TempDir Path dir)
            throws Exception {
        int epochs = 30; // 1200 steps: long enough that the kill lands well before the end
        Path checkpoints = dir.resolve("checkpoints");
        Path log = dir.resolve("child.log");
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(), "-cp",
                System.getProperty("java.class.path"), Main.class.getName()));
        List<String> run = plus(run(engine, epochs), "--replicas", Integer.toString(replicas));
        command.addAll(plus(run, "--checkpoint", checkpoints.toString(), "--checkpoint-every", "7",
                "--json", dir.resolve("killed.json").toString()));
        Process child = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (checkpointFiles(checkpoints).isEmpty() && child.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
        } finally {
            child.destroyForcibly(); // SIGKILL: no shutdown hook, no finally block runs in the child
        }
        assertThat(child.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(child.exitValue()).as("killed, not finished: %s", Files.readString(log)).isEqualTo(137);
        assertThat(checkpointFiles(checkpoints)).as("a checkpoint was written before the kill").isNotEmpty();
        assertThat(Files.exists(dir.resolve("killed.json"))).as("the killed run wrote no report").isFalse();

        // Each run in a fresh JVM, as a user runs them: TensorFlow sizes its intra-op thread pool by the
        // first session of a process, so in this test's JVM "--threads 1" would not be one thread, and
        // a reduction split over other threads rounds otherwise.
        String resumedOut = child(dir.resolve("resumed.log"), List.of("train", "--resume", checkpoints.toString(),
                "--engine", engine, "--device", "cpu", "--threads", "1", "--json", dir.resolve("resumed.json").toString()));
        assertThat(resumedOut).contains("resuming from step");
        child(dir.resolve("whole.log"), plus(run, "--json", dir.resolve("whole.json").toString()));

        Map<?, ?> a = withoutTimings(dir.resolve("whole.json"));
        Map<?, ?> b = withoutTimings(dir.resolve("resumed.json"));
        long from = ((Number) ((Map<?, ?>) b.get("config")).get("resumedFrom")).longValue();
        assertThat(from).as("resumed mid-run").isBetween(1L, 40L * epochs - 1);
        ((Map<?, ?>) a.get("config")).remove("resumedFrom");
        ((Map<?, ?>) b.get("config")).remove("resumedFrom");
        assertThat(Json.write(b, true)).isEqualTo(Json.write(a, true));
        assertThat(((Map<?, ?>) b.get("config")).get("replicas")).as("the resumed run's replicas, from the checkpoint")
                .isEqualTo(new java.math.BigDecimal(replicas));
    }

    /** Runs the command line in a child JVM to the end; its output, or a failed assertion with it. */
    private static String child(Path log, List<String> args) throws Exception {
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(), "-cp",
                System.getProperty("java.class.path"), Main.class.getName()));
        command.addAll(args);
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        assertThat(p.waitFor(300, TimeUnit.SECONDS)).as("%s finished", args).isTrue();
        String out = Files.readString(log);
        assertThat(p.exitValue()).as(out).isZero();
        return out;
    }

    @Test
    void resumeTakesTheRunsOptionsAndRefusesContradictions(@TempDir Path dir) throws IOException {
        Path checkpoints = dir.resolve("c");
        Cli first = Cli.run(plus(run("reference", 2), "--limit", "64", "--checkpoint", checkpoints.toString(),
                "--checkpoint-every", "1", "--keep", "2").toArray(String[]::new));
        assertThat(first.exit()).as(first.err()).isZero();
        assertThat(checkpointFiles(checkpoints)).as("--keep 2: the newest two of 8 steps")
                .containsExactly("step-0000000007.safetensors", "step-0000000008.safetensors");

        Cli contradiction = Cli.run("train", "--resume", checkpoints.toString(), "--epochs", "5");
        assertThat(contradiction.exit()).isEqualTo(2);
        assertThat(contradiction.err().strip()).doesNotContain("\n")
                .contains("--epochs 5 contradicts the run being resumed, which has --epochs 2");
        Cli replicas = Cli.run("train", "--resume", checkpoints.toString(), "--replicas", "2");
        assertThat(replicas.exit()).isEqualTo(2);
        assertThat(replicas.err().strip()).doesNotContain("\n")
                .contains("--replicas 2 contradicts the run being resumed, which has --replicas 1");
        Cli uneven = Cli.run(plus(run("reference", 1), "--replicas", "3").toArray(String[]::new));
        assertThat(uneven.exit()).isEqualTo(2);
        assertThat(uneven.err().strip()).doesNotContain("\n")
                .contains("--batch 16 is not a multiple of --replicas 3");
        Cli same = Cli.run("train", "--resume", checkpoints.toString(), "--epochs", "2", "--limit", "64");
        assertThat(same.exit()).as(same.err()).isZero();

        Path newest = checkpoints.resolve("step-0000000008.safetensors");
        byte[] bytes = Files.readAllBytes(newest);
        bytes[bytes.length - 3] ^= 0x10; // one flipped bit in the tensors
        Files.write(newest, bytes);
        Cli corrupt = Cli.run("train", "--resume", checkpoints.toString());
        assertThat(corrupt.exit()).isEqualTo(1);
        assertThat(corrupt.err().strip()).doesNotContain("\n").doesNotContain("\tat ").contains(newest.toString())
                .contains("CRC").contains("move it away to resume from step-0000000007.safetensors");

        Cli none = Cli.run("train", "--resume", dir.resolve("absent").toString());
        assertThat(none.exit()).isEqualTo(1);
        assertThat(none.err()).contains("no such folder");
        Cli every = Cli.run("train", "--data", data.toString(), "--checkpoint-every", "5");
        assertThat(every.exit()).isEqualTo(2);
        assertThat(every.err()).contains("--checkpoint-every and --keep need --checkpoint DIR");
    }

    /** A finished reference run of 2 epochs of 4 steps, checkpointed after each step; its newest checkpoint. */
    private static Path finishedRun(Path checkpoints) {
        Cli first = Cli.run(plus(run("reference", 2), "--limit", "64", "--checkpoint", checkpoints.toString(),
                "--checkpoint-every", "1").toArray(String[]::new));
        assertThat(first.exit()).as(first.err()).isZero();
        return checkpoints.resolve("step-0000000008.safetensors");
    }

    /** Resuming fails with exit 1 and one line naming the file and every part. */
    private static void resumeFails(Path checkpoints, Path file, String... parts) {
        Cli r = Cli.run("train", "--resume", checkpoints.toString());
        assertThat(r.exit()).as(r.err()).isEqualTo(1);
        assertThat(r.err().strip()).doesNotContain("\n").doesNotContain("\tat ").contains(file.toString())
                .contains(parts);
        assertThat(r.out()).as("nothing was trained").doesNotContain("test accuracy");
    }

    @Test
    void everyValueACheckpointRecordsIsCheckedOnRead(@TempDir Path dir) throws IOException {
        Path checkpoints = dir.resolve("c");
        Path newest = finishedRun(checkpoints);
        byte[] good = Files.readAllBytes(newest);

        CraftedCheckpoint.setOption(newest, "--epochs", "abc");
        resumeFails(checkpoints, newest, "cli.options \"--epochs\" is \"abc\", which --epochs does not take (int)");
        Files.write(newest, good);
        CraftedCheckpoint.setOption(newest, "--epochs", 5);
        resumeFails(checkpoints, newest, "cli.options \"--epochs\" must be text or null, got 5");
        Files.write(newest, good);
        CraftedCheckpoint.setOption(newest, "--optimizer", List.of("sgd"));
        resumeFails(checkpoints, newest, "cli.options \"--optimizer\" must be text or null, got [\"sgd\"]");
        Files.write(newest, good);
        CraftedCheckpoint.setOption(newest, "--val-batch", "300000000");
        resumeFails(checkpoints, newest, "its cli.options make no valid run: --val-batch 300000000 needs");
        Files.write(newest, good);
        CraftedCheckpoint.setOption(newest, "--epochs", "-3");
        resumeFails(checkpoints, newest, "its cli.options make no valid run: --epochs must be >= 1, got -3");

        Files.write(newest, good);
        CraftedCheckpoint.editMetadata(newest, meta -> meta.put("steps", "100000"));
        resumeFails(checkpoints, newest, "it is at step 100000, beyond the run's last (8: 2 epochs of 4 steps)");

        Files.write(newest, good);
        CraftedCheckpoint.editMetadata(newest, meta -> meta.put("cli.epochLossSum", "NaN"));
        resumeFails(checkpoints, newest, "cli.epochLossSum (the loss sum of the epoch under way) must be a finite "
                + "number >= 0, got \"NaN\"");
        Files.write(newest, good);
        CraftedCheckpoint.editMetadata(newest, meta -> meta.put("cli.seconds", "-1"));
        resumeFails(checkpoints, newest, "cli.seconds (the seconds the run took) must be a finite number >= 0");
        Files.write(newest, good);
        CraftedCheckpoint.editMetadata(newest, meta -> meta.put("cli.history", ((String) meta.get("cli.history"))
                .replaceFirst("\"testAccuracy\": ?[0-9.E-]+", "\"testAccuracy\":7")));
        resumeFails(checkpoints, newest, "cli.history epoch 1: \"testAccuracy\" must be a finite number in [0, 1], got 7");
        Files.write(newest, good);
        CraftedCheckpoint.editMetadata(newest, meta -> meta.put("cli.history", "[]"));
        resumeFails(checkpoints, newest, "cli.history holds 0 epochs, but step 8 is after 2 of 4 steps");

        Files.write(newest, good);
        Cli again = Cli.run("train", "--resume", checkpoints.toString());
        assertThat(again.exit()).as("the checkpoint as written resumes: %s", again.err()).isZero();
    }

    @Test
    void aResumedRunStaysOnItsEngineAndRemovesItsInterruptedWrites(@TempDir Path dir) throws IOException {
        Path checkpoints = dir.resolve("c");
        finishedRun(checkpoints);
        // What a kill during a checkpoint write leaves: AtomicFiles' temporary file.
        Path leftover = Files.writeString(checkpoints.resolve(".step-0000000009.safetensors.3f2a9c.tmp"), "half");
        Path mine = Files.writeString(checkpoints.resolve("notes.txt"), "the user's");
        Cli resumed = Cli.run("train", "--resume", checkpoints.toString(), "--json", dir.resolve("r.json").toString());
        assertThat(resumed.exit()).as(resumed.err()).isZero();
        assertThat(resumed.out()).contains("engine reference on cpu").contains("(the checkpoint's; --engine NAME for another)");
        assertThat(leftover).doesNotExist();
        assertThat(mine).hasContent("the user's");
        Cli other = Cli.run("train", "--resume", checkpoints.toString(), "--engine", "djl");
        assertThat(other.exit()).as(other.err()).isZero();
        assertThat(other.out()).contains("engine djl on").doesNotContain("the checkpoint's");
    }

    @Test
    void aReportInTheCheckpointFolderMayNotTakeACheckpointsName(@TempDir Path dir) throws IOException {
        Path checkpoints = dir.resolve("c");
        Path newest = finishedRun(checkpoints);
        byte[] before = Files.readAllBytes(newest);
        Cli r = Cli.run("train", "--resume", checkpoints.toString(), "--json", newest.toString());
        assertThat(r.exit()).as(r.err()).isEqualTo(2);
        assertThat(r.err().strip()).doesNotContain("\n").contains("--json " + newest + " is a checkpoint of the run "
                + "resumed from " + checkpoints + " the command reads");
        assertThat(Files.readAllBytes(newest)).isEqualTo(before);
        Cli fresh = Cli.run(plus(run("reference", 1), "--limit", "64", "--checkpoint", dir.resolve("d").toString(),
                "--json", dir.resolve("d/step-0000000004.safetensors").toString()).toArray(String[]::new));
        assertThat(fresh.exit()).as(fresh.err()).isEqualTo(2);
        assertThat(fresh.err().strip()).contains("is also a checkpoint of " + dir.resolve("d")
                + ": one output would replace the other");
        assertThat(fresh.out()).isEmpty();
        Cli report = Cli.run(plus(run("reference", 1), "--limit", "64", "--checkpoint", dir.resolve("e").toString(),
                "--json", dir.resolve("e/report.json").toString()).toArray(String[]::new));
        assertThat(report.exit()).as("another name in the folder is fine: %s", report.err()).isZero();
        // Resumed into another folder: the run resumed from is still read, its checkpoints are inputs.
        Cli elsewhere = Cli.run("train", "--resume", checkpoints.toString(), "--checkpoint",
                dir.resolve("f").toString(), "--json", newest.toString());
        assertThat(elsewhere.exit()).as(elsewhere.err()).isEqualTo(2);
        assertThat(elsewhere.err().strip()).doesNotContain("\n").contains("--json " + newest + " is a checkpoint of "
                + "the run resumed from " + checkpoints);
        assertThat(Files.readAllBytes(newest)).isEqualTo(before);
        // The same folder by another spelling is the run's own folder, not another run's.
        Cli spelled = Cli.run("train", "--resume", checkpoints.toString(), "--checkpoint",
                checkpoints.resolve(".").toString());
        assertThat(spelled.err()).doesNotContain("already holds checkpoints");
    }

    @Test
    void anInterruptedDemoResumesEachRunFromItsCheckpoint(@TempDir Path dir) throws IOException {
        String[] demo = {"demo", "--quick", "--data", data.toString(), "--threads", "1", "--out", dir.toString()};
        Cli whole = Cli.run(demo);
        assertThat(whole.exit()).as(whole.err()).isZero();
        Map<?, ?> expected = withoutTimings(dir.resolve("report.json"));
        // As if killed during the last run: its checkpoints are gone; the first two ended at step 15 (640 / 128 · 3).
        for (String f : checkpointFiles(dir.resolve("checkpoints/agnostic-sam"))) {
            Files.delete(dir.resolve("checkpoints/agnostic-sam").resolve(f));
        }
        Cli resumed = Cli.run(concat(demo, "--resume"));
        assertThat(resumed.exit()).as(resumed.err()).isZero();
        assertThat(resumed.out()).contains("sgd: resuming from step 15").contains("sam: resuming from step 15")
                .doesNotContain("agnostic-sam: resuming");
        assertThat(Json.write(withoutTimings(dir.resolve("report.json")), true)).isEqualTo(Json.write(expected, true));
        Cli other = Cli.run(concat(demo, "--resume", "--seed", "1"));
        assertThat(other.exit()).isEqualTo(1);
        assertThat(other.err()).contains("are of another demo");
    }

    private static String[] concat(String[] a, String... more) {
        return plus(List.of(a), more).toArray(String[]::new);
    }

    private static List<String> checkpointFiles(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".safetensors")).sorted().toList();
        }
    }

    /** A report without its wall-clock figures, which differ between any two runs. */
    private static Map<?, ?> withoutTimings(Path report) throws IOException {
        Map<?, ?> m = (Map<?, ?>) Json.parse(Files.readString(report));
        removeTimings(m);
        if (m.get("runs") instanceof List<?> runs) { // a demo report
            runs.forEach(r -> removeTimings((Map<?, ?>) r));
        }
        return m;
    }

    /** The seconds of a run, of its epochs and of their sharpness measurements. */
    private static void removeTimings(Map<?, ?> run) {
        run.remove("seconds");
        if (run.get("sharpness") instanceof Map<?, ?> s) {
            s.remove("seconds");
        }
        if (run.get("history") instanceof List<?> history) {
            history.forEach(e -> removeTimings((Map<?, ?>) e));
        }
    }
}
