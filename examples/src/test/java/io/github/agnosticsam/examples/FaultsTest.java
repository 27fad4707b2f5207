package io.github.agnosticsam.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Outputs that survive faults and inputs that cannot hurt: each probe is a one-line error naming the
 * file or value, with a non-zero exit status, and never a stack trace or an OutOfMemoryError.
 */
class FaultsTest {
    @TempDir
    static Path data;

    @BeforeAll
    static void writeData() throws IOException {
        SyntheticIdx.write(data, 64, 32);
    }

    /** The command failed with exit status {@code exit} and one line on stderr holding every {@code parts}. */
    private static Cli fails(int exit, String[] args, String... parts) {
        Cli r = Cli.run(args);
        assertThat(r.exit()).as(r.err()).isEqualTo(exit);
        assertThat(r.err().strip()).as("one line").doesNotContain("\n").doesNotContain("\tat ");
        for (String p : parts) {
            assertThat(r.err()).contains(p);
        }
        return r;
    }

    private static String[] args(String... a) {
        return a;
    }

    // Outputs.

    @Test
    void aFailedWriteLeavesTheOldFileAndNoTemporaryFile(@TempDir Path dir) throws IOException {
        Path report = dir.resolve("out.json");
        Reports.write(report, java.util.Map.of("testAccuracy", 0.9));
        String old = Files.readString(report);
        assertThatThrownBy(() -> OutputFiles.write(report, out -> {
            out.write("{\"testAcc".getBytes(StandardCharsets.UTF_8));
            throw new IOException("No space left on device");
        })).isInstanceOf(OutputFiles.OutputException.class)
                .hasMessage("cannot write " + report + ": No space left on device (the old file is left as it was)");
        assertThat(Files.readString(report)).as("the old report").isEqualTo(old);
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString()).toList()).as("no temporary file left")
                    .containsExactly("out.json");
        }
        assertThatThrownBy(() -> Reports.write(report, java.util.Map.of("testAccuracy", Double.NaN)))
                .isInstanceOf(OutputFiles.OutputException.class)
                .hasMessage("cannot write " + report + ": at $.testAccuracy: NaN is not a JSON number (JSON has no NaN "
                        + "or Infinity) (the old file is left as it was)");
        assertThat(Files.readString(report)).as("the old report").isEqualTo(old);
        Reports.write(report, java.util.Map.of("testAccuracy", 0.5));
        assertThat(Files.readString(report)).as("a good write replaces it").isEqualTo("{\n  \"testAccuracy\": 0.5\n}");
    }

    @Test
    void anUnwritableOutputIsReportedBeforeTraining(@TempDir Path dir) throws IOException {
        Path file = Files.writeString(dir.resolve("a-file"), "x");
        Cli r = fails(1, args("train", "--data", data.toString(), "--epochs", "1", "--batch", "16", "--json",
                file.resolve("out.json").toString()), "cannot write " + file.resolve("out.json"), "a-file");
        assertThat(r.out()).as("nothing was trained").isEmpty();
        fails(1, args("train", "--data", data.toString(), "--json", dir.toString()), "cannot write " + dir,
                "it is a folder");
        fails(1, args("bench", "--data", data.toString(), "--json", file.resolve("b.json").toString()), "b.json");
        Cli demo = fails(1, args("demo", "--quick", "--data", data.toString(), "--out", file.resolve("report").toString()),
                "cannot write " + file.resolve("report").resolve("report.json"));
        assertThat(demo.out()).isEmpty();
    }

    @Test
    void outputFoldersAreCreatedAndNoProbeFileIsLeft(@TempDir Path dir) throws IOException {
        Path target = dir.resolve("new/folder/out.json");
        OutputFiles.checkWritable(target);
        assertThat(Files.isDirectory(target.getParent())).isTrue();
        try (Stream<Path> files = Files.list(target.getParent())) {
            assertThat(files).isEmpty();
        }
    }

    // Inputs.

    @Test
    void aFlippedBitInAGzipFileIsAnError(@TempDir Path dir) throws IOException {
        SyntheticIdx.write(dir, 20, 10);
        Path labels = dir.resolve("train-labels-idx1-ubyte.gz");
        byte[] gz = Files.readAllBytes(labels);
        byte[] crc = gz.clone();
        crc[crc.length - 8] ^= 1; // the trailer's CRC-32: only reading to the end sees it
        Files.write(labels, crc);
        fails(1, args("train", "--data", dir.toString()), labels.toString(), "not a valid gzip file");

        SyntheticIdx.write(dir, 20, 10);
        Path images = dir.resolve("train-images-idx3-ubyte.gz");
        byte[] body = Files.readAllBytes(images);
        body[body.length / 2] ^= 0x10; // inside the compressed data
        Files.write(images, body);
        fails(1, args("train", "--data", dir.toString()), images.toString());
    }

    @Test
    void trailingBytesAfterTheDeclaredItemsAreAnError(@TempDir Path dir) throws IOException {
        SyntheticIdx.write(dir, 20, 10);
        Path labels = dir.resolve("train-labels-idx1-ubyte.gz");
        SyntheticIdx.writeIdx(labels, 0x801, new int[] {20}, new byte[23]);
        fails(1, args("train", "--data", dir.toString()), labels.toString(), "3 bytes after the 20 labels it declares");
    }

    @Test
    void aHugeDeclaredCountIsAnErrorNotAnOutOfMemoryError(@TempDir Path dir) throws IOException {
        SyntheticIdx.write(dir, 20, 10);
        Path labels = dir.resolve("train-labels-idx1-ubyte.gz");
        SyntheticIdx.writeIdx(labels, 0x801, new int[] {Integer.MAX_VALUE}, new byte[10]);
        fails(1, args("train", "--data", dir.toString()), labels.toString(), "declares 2147483647 items");

        SyntheticIdx.writeIdx(labels, 0x801, new int[] {20_000_000}, new byte[10]);
        fails(1, args("train", "--data", dir.toString()), labels.toString(),
                "truncated: it declares 20000000 labels (20000000 bytes) but holds 10");

        SyntheticIdx.writeIdx(labels, 0x801, new int[] {-5}, new byte[10]);
        fails(1, args("train", "--data", dir.toString()), labels.toString(), "declares 4294967291 items");
    }

    @Test
    void labelsBeyondTheHeapAreAnErrorNotAnOutOfMemoryError(@TempDir Path dir) throws IOException {
        // 2,147,483,639 labels need 10 GiB (their bytes and ints); the header alone asks for them.
        assumeTrue(Runtime.getRuntime().maxMemory() < 10L << 30, "a heap this large would take them");
        SyntheticIdx.write(dir, 20, 10);
        Path labels = dir.resolve("train-labels-idx1-ubyte.gz");
        SyntheticIdx.writeIdx(labels, 0x801, new int[] {Integer.MAX_VALUE - 8}, new byte[10]);
        fails(1, args("train", "--data", dir.toString()), labels + ": 2147483639 labels needs about 10240 MiB of Java "
                + "heap", "AGNOSTIC_SAM_JAVA_OPTS=-Xmx");
    }

    @Test
    void countsFromOptionsAreCheckedAgainstTheHeapBeforeTheDataIsRead(@TempDir Path dir) {
        String absent = dir.resolve("no-data").toString(); // the data would be an error of its own
        for (String n : new String[] {"2147483647", "300000000", "100000000"}) {
            Cli r = fails(2, args("train", "--data", absent, "--val-batch", n), "--val-batch " + n + " needs ");
            assertThat(r.out()).isEmpty();
        }
        fails(2, args("train", "--data", absent, "--val-batch", "300000000"), "235200000000 elements");
        fails(2, args("bench", "--data", absent, "--batch", "2147483647"), "--batch 2147483647 needs ");
        String checkpoint = dir.resolve("absent.safetensors").toString(); // read after the options' checks
        fails(2, args("sharpness", checkpoint, "--data", absent, "--probes", "2147483647"),
                "--probes 2147483647 needs an array of 2147483647 elements");
        fails(2, args("sharpness", checkpoint, "--data", absent, "--probes", "300000000"),
                "--probes 300000000 needs about 18311 MiB of Java heap");
        fails(2, args("landscape", checkpoint, "--data", absent, "--points", "2147483647"),
                "--points 2147483647 (4611686014132420609 on the plane) needs");
        fails(2, args("landscape", checkpoint, "--data", absent, "--dims", "1", "--points", "2147483647"),
                "--points 2147483647 needs an array of 2147483647 elements; Java's arrays hold at most 2147483639");
        fails(2, args("landscape", checkpoint, "--data", absent, "--points", "50000"), "--points 50000 (2500000000 on "
                + "the plane) needs about 152588 MiB");
    }

    @Test
    void threeMillionImagesDoNotOverflow(@TempDir Path dir) throws IOException {
        SyntheticIdx.write(dir, 20, 10);
        int n = 3_000_000;
        SyntheticIdx.writeIdx(dir.resolve("train-labels-idx1-ubyte.gz"), 0x801, new int[] {n}, new byte[n]);
        Path images = dir.resolve("train-images-idx3-ubyte.gz");
        SyntheticIdx.writeIdx(images, 0x803, new int[] {n, 28, 28}, new byte[784]);
        fails(1, args("train", "--data", dir.toString()), images.toString(),
                "declares 3000000 images (2352000000 bytes); this reader takes at most 2739137 images");
    }

    @Test
    void threadsAreCappedAtFourTimesTheCores() {
        int max = 4 * Runtime.getRuntime().availableProcessors();
        for (String cmd : new String[] {"train", "demo", "bench"}) {
            fails(2, args(cmd, "--data", data.toString(), "--threads", "100000"),
                    "--threads must be in [0, " + max + "]", "got 100000");
        }
        fails(2, args("train", "--data", data.toString(), "--threads", "-1"), "--threads must be in [0, ");
    }

    // results.

    @Test
    void resultsValidatesEveryReportAndNamesTheBadOne(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("a.json"), report("sgd", 0.4, 0.80));
        Files.writeString(dir.resolve("b.json"), report("sam", 0.4, 0.82));
        Cli good = Cli.run("results", dir.toString(), "--chart", dir.resolve("chart.png").toString());
        assertThat(good.exit()).as(good.err()).isZero();
        assertThat(good.out()).contains("| 40 % | 80.00 ± 0.00 (n=1) | 82.00 ± 0.00 (n=1) |");
        assertThat(Files.size(dir.resolve("chart.png"))).isGreaterThan(1000);

        Path hello = Files.writeString(dir.resolve("c-hello.json"), "{\"hello\":1}");
        Cli r = fails(1, args("results", dir.toString()), hello + ": not a train --json report", "config");
        assertThat(r.out()).as("no table from a folder with a bad report").isEmpty();
        Files.delete(hello);

        Path array = Files.writeString(dir.resolve("d-array.json"), "[]");
        fails(1, args("results", dir.toString()), array.toString(), "expected a JSON object, got array");
        Files.delete(array);

        Path corrupt = Files.writeString(dir.resolve("e-corrupt.json"), report("sgd", 0.4, 0.8).substring(0, 30));
        fails(1, args("results", dir.toString()), corrupt.toString(), "cannot read it as JSON (at $.config (line 1, "
                + "column 31): expected ',' or '}', got the end of the text)");
        Files.delete(corrupt);

        Path latin1 = Files.write(dir.resolve("e-latin1.json"), report("sgd", 0.4, 0.8).replace("sgd\"", "sgd\u00e9\"")
                .getBytes(StandardCharsets.ISO_8859_1));
        fails(1, args("results", dir.toString()), latin1.toString(), "cannot read it as JSON (it is not UTF-8 text)");
        Files.delete(latin1);

        Path twice = Files.writeString(dir.resolve("e-twice.json"), report("sgd", 0.4, 0.8).replace("\"seconds\"",
                "\"testAccuracy\""));
        fails(1, args("results", dir.toString()), twice.toString(), "cannot read it as JSON (at $.testAccuracy",
                "duplicate key \"testAccuracy\"");
        Files.delete(twice);

        Path typed = Files.writeString(dir.resolve("f-typed.json"), report("sgd", 0.4, 0.8)
                .replace("\"testAccuracy\": 0.8", "\"testAccuracy\": \"high\""));
        fails(1, args("results", dir.toString()), typed.toString(), "\"testAccuracy\" must be a number in [0, 1]");
        Files.delete(typed);

        Path unknown = Files.writeString(dir.resolve("g-unknown.json"), report("adagrad", 0.4, 0.8));
        fails(1, args("results", dir.toString()), unknown.toString(), "\"config.optimizer\" must be one of",
                "got \"adagrad\"");
        Files.delete(unknown);

        Path noOptimizer = Files.writeString(dir.resolve("g-none.json"), report("sgd", 0.4, 0.8)
                .replace("\"optimizer\": \"sgd\", ", ""));
        fails(1, args("results", dir.toString()), noOptimizer.toString(), "\"config.optimizer\" must be one of",
                "got nothing");
        Files.delete(noOptimizer);

        Path empty = Files.writeString(dir.resolve("h-empty.json"), "");
        fails(1, args("results", dir.toString()), empty.toString(), "an empty file");
        Files.delete(empty);

        // A data-parallel run is a column of its own, after the same optimizer's run alone.
        Files.writeString(dir.resolve("i-replicas.json"), report("sgd", 0.4, 0.81)
                .replace("\"optimizer\": \"sgd\", ", "\"optimizer\": \"sgd\", \"replicas\": 2, "));
        Cli columns = Cli.run("results", dir.toString());
        assertThat(columns.out()).contains("| label noise | sgd | sgd ×2 | sam |")
                .contains("| 40 % | 80.00 ± 0.00 (n=1) | 81.00 ± 0.00 (n=1) | 82.00 ± 0.00 (n=1) |");
        Files.writeString(dir.resolve("i-replicas.json"), report("sgd", 0.4, 0.81)
                .replace("\"optimizer\": \"sgd\", ", "\"optimizer\": \"sgd\", \"replicas\": 1.5, "));
        fails(1, args("results", dir.toString()), dir.resolve("i-replicas.json").toString(),
                "\"config.replicas\" must be a whole number >= 1, got 1.5");
    }

    @Test
    void resultsRefusesAReportTooLargeToReadUnread(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("a.json"), report("sgd", 0.4, 0.80));
        Path huge = dir.resolve("b-huge.json");
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(huge.toFile(), "rw")) {
            f.setLength(3L << 30); // sparse: 3 GiB that take no disk
        }
        try {
            fails(1, args("results", dir.toString()), huge + ": not a train --json report: reading its 3221225472 bytes "
                    + "needs an array of 3221225472 elements");
        } finally {
            Files.delete(huge);
        }
    }

    @Test
    void aFileWhereAFolderBelongsIsNamedAsAFile(@TempDir Path dir) throws IOException {
        Path file = Files.writeString(dir.resolve("a.json"), report("sgd", 0.4, 0.80));
        fails(2, args("results", file.toString()), file + " is a file: results reads a folder of train --json reports");
        fails(1, args("train", "--resume", file.toString()), "--resume " + file + " is a file: give the folder of the "
                + "run's checkpoints");
    }

    @Test
    void anOutputThatIsAnInputOrAnotherOutputIsRefusedBeforeAnyWork(@TempDir Path dir) throws IOException {
        Path a = Files.writeString(dir.resolve("a.safetensors"), "checkpoint A");
        Path b = Files.writeString(dir.resolve("b.safetensors"), "checkpoint B");
        String absent = dir.resolve("no-data").toString();
        fails(2, args("landscape", a.toString(), b.toString(), "--data", absent, "--png", b.toString()),
                "--png " + b + " is the checkpoint the command reads: writing it would destroy it");
        // The same file by another path.
        fails(2, args("landscape", a.toString(), "--data", absent, "--json", dir.resolve("x/../a.safetensors").toString()),
                "is the checkpoint the command reads");
        fails(2, args("sharpness", a.toString(), "--data", absent, "--json", a.toString()),
                "--json " + a + " is the checkpoint the command reads");
        Path x = dir.resolve("x.out");
        fails(2, args("landscape", a.toString(), "--data", absent, "--png", x.toString(), "--json", x.toString()),
                "--png " + x + " is also --json: one output would replace the other");
        assertThat(Files.readString(a)).isEqualTo("checkpoint A");
        assertThat(Files.readString(b)).isEqualTo("checkpoint B");
        assertThat(x).doesNotExist();

        Path images = data.resolve("train-images-idx3-ubyte.gz");
        byte[] before = Files.readAllBytes(images);
        fails(2, args("train", "--data", data.toString(), "--json", images.toString()),
                "--json " + images + " is the data file the command reads");
        assertThat(Files.readAllBytes(images)).isEqualTo(before);

        Path reports = Files.createDirectories(dir.resolve("reports"));
        Files.writeString(reports.resolve("r.json"), report("sgd", 0.4, 0.80));
        fails(2, args("results", reports.toString(), "--chart", reports.resolve("r.json").toString()),
                "--chart " + reports.resolve("r.json") + " is a report in " + reports);
    }

    private static String report(String optimizer, double noise, double accuracy) {
        return "{\"config\": {\"optimizer\": \"" + optimizer + "\", \"noise\": " + noise + "}, \"history\": [], "
                + "\"testAccuracy\": " + accuracy + ", \"seconds\": 1.0}";
    }

    @Test
    void runningOutOfHeapAnywayIsOneLineAndExitOne() {
        // A command whose allocations together exhaust the heap (each alone passed its check).
        picocli.CommandLine cl = Main.commandLine();
        cl.addSubcommand("exhaust", new Exhaust());
        java.io.StringWriter err = new java.io.StringWriter();
        cl.setErr(new java.io.PrintWriter(err));
        assertThat(cl.execute("exhaust")).isEqualTo(1);
        assertThat(err.toString().strip()).doesNotContain("\n").doesNotContain("\tat ")
                .isEqualTo("agnostic-sam exhaust: out of Java heap (Java heap space): ask for less, or give the JVM more "
                        + "(AGNOSTIC_SAM_JAVA_OPTS=-Xmx...)");
    }

    @picocli.CommandLine.Command(name = "exhaust")
    static final class Exhaust implements java.util.concurrent.Callable<Integer> {
        @Override
        public Integer call() {
            throw new OutOfMemoryError("Java heap space");
        }
    }
}
