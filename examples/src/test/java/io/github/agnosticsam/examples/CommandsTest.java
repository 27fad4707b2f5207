package io.github.agnosticsam.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.agnosticsam.io.Json;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** train, demo and bench end to end on the default engine, on small synthetic IDX files. */
class CommandsTest {
    @TempDir
    static Path data;

    @BeforeAll
    static void writeData() throws IOException {
        SyntheticIdx.write(data, 640, 200);
    }

    private static Cli run(String... args) {
        return Cli.run(args);
    }

    private static Map<?, ?> read(Path report) throws IOException {
        return (Map<?, ?>) Json.parse(Files.readString(report));
    }

    private static Map<?, ?> object(Map<?, ?> parent, String field) {
        return (Map<?, ?>) parent.get(field);
    }

    private static List<?> array(Map<?, ?> parent, String field) {
        return (List<?>) parent.get(field);
    }

    private static double number(Map<?, ?> parent, String field) {
        return ((BigDecimal) parent.get(field)).doubleValue();
    }

    @Test
    void trainWritesItsReportAndIsReproducible(@TempDir Path dir) throws IOException {
        Path a = dir.resolve("a.json");
        Path b = dir.resolve("b.json");
        String[] common = {"train", "--data", data.toString(), "--epochs", "3", "--batch", "32", "--val-batch", "8",
            "--optimizer", "agnostic-sam-fast", "--noise", "0.2", "--limit", "400", "--device", "cpu", "--threads", "1"};
        Cli r = run(concat(common, "--json", a.toString()));
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("test accuracy");
        run(concat(common, "--json", b.toString()));
        Map<?, ?> report = read(a);
        assertThat(object(report, "config").get("optimizer")).isEqualTo("agnostic-sam-fast");
        assertThat(number(object(report, "config"), "limit")).isEqualTo(400);
        assertThat(array(report, "history")).hasSize(3);
        Map<?, ?> last = (Map<?, ?>) array(report, "history").get(2);
        for (String field : new String[] {"epoch", "trainLoss", "trainAccuracy", "testAccuracy", "seconds"}) {
            assertThat(last.get(field)).as(field).isInstanceOf(BigDecimal.class);
        }
        assertThat(number(report, "testAccuracy")).isBetween(0.5, 1.0);
        Map<?, ?> again = read(b);
        assertThat(number(again, "testAccuracy")).isEqualTo(number(report, "testAccuracy"));
        assertThat(number((Map<?, ?>) array(again, "history").get(2), "trainLoss")).isEqualTo(number(last, "trainLoss"));
    }

    @Test
    void trainAndBenchTakeTheResidualCnn(@TempDir Path dir) throws IOException {
        Path train = dir.resolve("train.json");
        Cli r = run("train", "--data", data.toString(), "--model", "resnet-small", "--epochs", "1", "--batch", "16",
                "--val-batch", "8", "--limit", "48", "--optimizer", "agnostic-sam", "--device", "cpu", "--threads", "1",
                "--json", train.toString());
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("test accuracy");
        assertThat(object(read(train), "config").get("model")).isEqualTo("resnet-small");
        Path bench = dir.resolve("bench.json");
        Cli b = run("bench", "--data", data.toString(), "--model", "resnet-small", "--optimizers", "sam", "--batch", "16",
                "--val-batch", "8", "--warmup", "1", "--warmup-seconds", "0", "--steps", "2", "--threads", "1", "--json", bench.toString());
        assertThat(b.exit()).as(b.err()).isZero();
        Map<?, ?> report = read(bench);
        assertThat(report.get("models")).isEqualTo(List.of("resnet-small"));
        assertThat(array(report, "results")).hasSize(1);
        assertThat(((Map<?, ?>) array(report, "results").get(0)).get("model")).isEqualTo("resnet-small");
    }

    @Test
    void demoQuickWritesTheReportAndCharts(@TempDir Path dir) throws IOException {
        Cli r = run("demo", "--quick", "--data", data.toString(), "--out", dir.toString());
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("sgd").contains("sam").contains("agnostic-sam").contains("final test acc");
        assertThat(r.out()).contains("lambda_max").contains("trace").contains("rho-sharp")
                .contains("loss from sgd (0) to agnostic-sam (1)");
        Map<?, ?> report = read(dir.resolve("report.json"));
        assertThat(array(report, "runs")).hasSize(3);
        for (Object run : array(report, "runs")) {
            Map<?, ?> sharpness = object((Map<?, ?>) run, "sharpness");
            assertThat(number(object(sharpness, "lambdaMax"), "value")).isPositive();
            assertThat(number(object(sharpness, "trace"), "probes")).isEqualTo(Diagnosis.PROBES);
            assertThat(number(object(sharpness, "sharpness"), "ascent"))
                    .isGreaterThanOrEqualTo(number(object(sharpness, "sharpness"), "oneStep"));
        }
        Map<?, ?> landscape = object(report, "landscape");
        assertThat(landscape.get("from")).isEqualTo("sgd");
        assertThat(array(landscape, "losses")).hasSize(41);
        // α = 0 and α = 1 are the two final models: their losses are those the diagnostics measured there.
        assertThat(((BigDecimal) array(landscape, "losses").get(10)).doubleValue()).isCloseTo(
                finalLoss(report, 0), org.assertj.core.data.Percentage.withPercentage(1e-9));
        assertThat(((BigDecimal) array(landscape, "losses").get(30)).doubleValue()).isCloseTo(
                finalLoss(report, 2), org.assertj.core.data.Percentage.withPercentage(1e-9));
        for (String png : new String[] {"test-accuracy.png", "final-accuracy.png", "landscape.png"}) {
            byte[] head = Files.readAllBytes(dir.resolve(png));
            assertThat(head.length).isGreaterThan(1000);
            assertThat(new String(head, 1, 3, java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("PNG");
        }
    }

    @Test
    void benchReportsEveryOptimizer(@TempDir Path dir) throws IOException {
        Path json = dir.resolve("bench.json");
        Cli r = run("bench", "--data", data.toString(), "--warmup", "2", "--warmup-seconds", "0", "--steps", "5", "--json", json.toString());
        assertThat(r.exit()).as(r.err()).isZero();
        Map<?, ?> report = read(json);
        assertThat(array(report, "results")).hasSize(4);
        assertThat(number(report, "peakRssBytes")).isPositive();
        Map<?, ?> exact = (Map<?, ?>) array(report, "results").get(3);
        assertThat(exact.get("optimizer")).isEqualTo("agnostic-sam");
        assertThat(number(exact, "gradientEvaluations")).isEqualTo(4);
        assertThat(number(exact, "overhead")).isPositive();
        assertThat(number(exact, "parameterTensors")).isEqualTo(4);
        Map<?, ?> sgd = (Map<?, ?>) array(report, "results").get(0);
        assertThat(number(exact, "operationsPerStep")).as("agnostic-sam's operations against sgd's")
                .isGreaterThan(number(sgd, "operationsPerStep"));
        Path counts = dir.resolve("ops.json");
        Cli ops = run("bench", "--data", data.toString(), "--ops-only", "--model", "all", "--optimizers", "sgd",
                "--json", counts.toString());
        assertThat(ops.exit()).as(ops.err()).isZero();
        assertThat(array(read(counts), "results")).extracting(m -> (Object) ((Map<?, ?>) m).get("model"))
                .containsExactlyElementsOf(io.github.agnosticsam.model.ModelSpec.STANDARD);
        Cli soak = run("bench", "--data", data.toString(), "--warmup", "2", "--soak", "20", "--optimizers", "sam");
        assertThat(soak.exit()).as(soak.err()).isZero();
        assertThat(soak.out()).contains("soak sam: RSS after 20 more steps").contains("soak sam: RSS after 5 steps")
                .contains("soak sam: RSS after 15 steps");
    }

    /**
     * sharpness on a train checkpoint: the three diagnostics with their costs, the same figures again
     * for the same seed, and on the float64 reference engine the same figures within float32's
     * rounding of this engine (the same checkpoint, batches, step and probes).
     */
    @Test
    void sharpnessMeasuresATrainCheckpoint(@TempDir Path dir) throws IOException {
        Path file = sgdCheckpoints(dir, 1).get(0);
        String[] common = {"sharpness", file.toString(), "--data", data.toString(), "--images", "96", "--batch", "32",
            "--probes", "4", "--ascent-steps", "3", "--device", "cpu", "--threads", "1"};
        Path a = dir.resolve("a.json");
        Cli s = run(concat(common, "--json", a.toString()));
        assertThat(s.exit()).as(s.err()).isZero();
        assertThat(s.out()).contains("lambda_max").contains("trace").contains("rho-sharpness");
        Map<?, ?> report = read(a);
        Map<?, ?> top = object(report, "lambdaMax");
        Map<?, ?> trace = object(report, "trace");
        Map<?, ?> sharp = object(report, "sharpness");
        assertThat(number(top, "value")).isPositive();
        assertThat(number(top, "gradientEvaluations")).as("the products and the residual's")
                .isEqualTo(2 * (number(top, "iterations") + 1));
        assertThat(number(trace, "gradientEvaluations")).isEqualTo(8);
        assertThat(number(sharp, "ascent")).isGreaterThanOrEqualTo(number(sharp, "oneStep"));
        assertThat(number(sharp, "gradientEvaluations")).isEqualTo(2 + 3);

        Path b = dir.resolve("b.json");
        run(concat(common, "--json", b.toString()));
        Map<?, ?> again = new java.util.HashMap<>(read(b));
        Map<?, ?> first = new java.util.HashMap<>(report);
        assertThat(again.remove("seconds")).isNotNull(); // the one field that may differ: the time taken
        first.remove("seconds");
        assertThat(again).isEqualTo(first);

        Path r = dir.resolve("reference.json");
        Cli ref = run(concat(common, "--engine", "reference", "--json", r.toString()));
        assertThat(ref.exit()).as(ref.err()).isZero();
        Map<?, ?> other = read(r);
        assertThat(number(object(other, "lambdaMax"), "value")).isCloseTo(number(top, "value"),
                org.assertj.core.data.Percentage.withPercentage(1));
        assertThat(number(object(other, "trace"), "value")).isCloseTo(number(trace, "value"),
                org.assertj.core.data.Percentage.withPercentage(1));
        assertThat(number(object(other, "sharpness"), "oneStep")).isCloseTo(number(sharp, "oneStep"),
                org.assertj.core.data.Percentage.withPercentage(1));

        Cli missing = run("sharpness", dir.resolve("none.safetensors").toString(), "--data", data.toString());
        assertThat(missing.exit()).isEqualTo(1);
        assertThat(missing.err().strip()).doesNotContain("\n").contains("none.safetensors");
        Cli option = run("sharpness", file.toString(), "--data", data.toString(), "--probes", "1");
        assertThat(option.exit()).isEqualTo(2);
        assertThat(option.err().strip()).doesNotContain("\n").contains("--probes").contains("got 1");
    }

    /** The training loss at a demo run's final model, as its sharpness diagnostics measured it. */
    private static double finalLoss(Map<?, ?> report, int run) {
        return number(object(object((Map<?, ?>) array(report, "runs").get(run), "sharpness"), "sharpness"), "loss");
    }

    /**
     * train --sharpness-every: a series point after each epoch, the run itself unchanged by it, and the
     * last point the same measurement as sharpness on that epoch's checkpoint.
     */
    @Test
    void trainMeasuresASharpnessSeriesWithoutChangingTheRun(@TempDir Path dir) throws IOException {
        Path checkpoints = dir.resolve("checkpoints");
        String[] common = {"train", "--data", data.toString(), "--epochs", "2", "--batch", "32", "--optimizer", "sam",
            "--limit", "320", "--device", "cpu", "--threads", "1"};
        Path measured = dir.resolve("measured.json");
        Cli t = run(concat(common, "--sharpness-every", "1", "--sharpness-images", "64", "--checkpoint",
                checkpoints.toString(), "--json", measured.toString()));
        assertThat(t.exit()).as(t.err()).isZero();
        assertThat(t.out()).contains("after epoch 2: lambda_max");
        Path plain = dir.resolve("plain.json");
        assertThat(run(concat(common, "--json", plain.toString())).exit()).isZero();
        Map<?, ?> a = read(measured);
        Map<?, ?> b = read(plain);
        assertThat(number(object(object(a, "config"), "sharpness"), "images")).isEqualTo(64);
        assertThat(number(a, "testAccuracy")).isEqualTo(number(b, "testAccuracy"));
        for (int e = 0; e < 2; e++) {
            Map<?, ?> epoch = (Map<?, ?>) array(a, "history").get(e);
            assertThat(number(epoch, "trainLoss")).isEqualTo(number((Map<?, ?>) array(b, "history").get(e), "trainLoss"));
            assertThat(number(object(object(epoch, "sharpness"), "lambdaMax"), "value")).isPositive();
            assertThat(((Map<?, ?>) array(b, "history").get(e)).containsKey("sharpness")).isFalse();
        }
        Path last;
        try (var files = Files.list(checkpoints)) {
            last = files.sorted().reduce((x, y) -> y).orElseThrow();
        }
        Path s = dir.resolve("s.json");
        Cli sharp = run("sharpness", last.toString(), "--data", data.toString(), "--images", "64", "--device", "cpu",
                "--threads", "1", "--json", s.toString());
        assertThat(sharp.exit()).as(sharp.err()).isZero();
        Map<?, ?> series = object((Map<?, ?>) array(a, "history").get(1), "sharpness");
        for (String d : new String[] {"lambdaMax", "trace", "sharpness"}) {
            assertThat(object(series, d)).as(d).isEqualTo(object(read(s), d));
        }
        // results tabulates the series: the final figures and λ_max per measured epoch.
        Path folder = Files.createDirectories(dir.resolve("reports"));
        Files.copy(measured, folder.resolve("measured.json"));
        Cli table = run("results", folder.toString());
        assertThat(table.exit()).as(table.err()).isZero();
        double lambda = number(object(object((Map<?, ?>) array(a, "history").get(1), "sharpness"), "lambdaMax"), "value");
        assertThat(table.out()).contains("Sharpness of the final models").contains("| epoch 1 | epoch 2 |")
                .contains(String.format(java.util.Locale.ROOT, "| 0 %% | sam | %.4g ± 0.0 (n=1)", lambda));
        Files.writeString(folder.resolve("measured.json"), Files.readString(measured).replace("\"lambdaMax\"",
                "\"lambdaMin\""));
        Cli broken = run("results", folder.toString());
        assertThat(broken.exit()).isEqualTo(1);
        assertThat(broken.err().strip()).doesNotContain("\n").contains("measured.json").contains("\"sharpness\"");

        // A break after epoch 1: --resume takes the series' options from the checkpoint and ends with the
        // same history, series included (its figures read back from the checkpoint and written again).
        Path resumed = dir.resolve("resumed");
        Path whole = dir.resolve("whole.json");
        Cli w = run(concat(common, "--sharpness-every", "1", "--sharpness-images", "64", "--checkpoint",
                resumed.toString(), "--json", whole.toString()));
        assertThat(w.exit()).as(w.err()).isZero();
        try (var files = Files.list(resumed)) {
            Files.delete(files.sorted().reduce((x, y) -> y).orElseThrow()); // the epoch-2 checkpoint
        }
        Cli contradicting = run("train", "--resume", resumed.toString(), "--sharpness-every", "2");
        assertThat(contradicting.exit()).isEqualTo(2);
        assertThat(contradicting.err()).contains("--sharpness-every 2 contradicts");
        Path after = dir.resolve("after.json");
        Cli r = run("train", "--resume", resumed.toString(), "--json", after.toString());
        assertThat(r.exit()).as(r.err()).isZero();
        List<?> expected = array(read(whole), "history");
        List<?> got = array(read(after), "history");
        assertThat(got).hasSize(2);
        for (int e = 0; e < 2; e++) {
            assertThat(object((Map<?, ?>) got.get(e), "sharpness").get("lambdaMax"))
                    .isEqualTo(object((Map<?, ?>) expected.get(e), "sharpness").get("lambdaMax"));
        }

        Cli bad = run(concat(common, "--sharpness-every", "0"));
        assertThat(bad.exit()).isEqualTo(2);
        assertThat(bad.err().strip()).doesNotContain("\n").contains("--sharpness-every").contains("got 0");
        Cli none = run(concat(common, "--sharpness-every", "1", "--sharpness-images", "0"));
        assertThat(none.exit()).isEqualTo(2);
        assertThat(none.err().strip()).doesNotContain("\n").contains("--sharpness-images must be in [1, 640]")
                .contains("got 0");
    }

    /**
     * landscape: between two checkpoints the ends are the checkpoints' own losses (as sharpness
     * measures them), around one the centre is; the float64 reference engine draws the same curve; the
     * PNGs are images; bad options are one-line errors.
     */
    @Test
    void landscapeDrawsTheLossAroundCheckpoints(@TempDir Path dir) throws IOException {
        List<Path> files = sgdCheckpoints(dir, 2);
        Path first = files.get(0);
        Path second = files.get(1);
        String[] small = {"--data", data.toString(), "--images", "64", "--batch", "32", "--device", "cpu", "--threads", "1"};
        Path line = dir.resolve("line.json");
        Cli l = run(concat(concat(new String[] {"landscape", first.toString(), second.toString()}, small), "--points", "5",
                "--png", dir.resolve("line.png").toString(), "--json", line.toString()));
        assertThat(l.exit()).as(l.err()).isZero();
        assertThat(l.out()).contains("highest in between");
        Map<?, ?> between = object(read(line), "interpolation");
        assertThat(array(between, "alphas")).hasSize(5);
        List<?> losses = array(between, "losses");
        assertThat(((BigDecimal) losses.get(1)).doubleValue()).isCloseTo(lossAt(first, small, dir),
                org.assertj.core.data.Percentage.withPercentage(1e-9));
        assertThat(((BigDecimal) losses.get(3)).doubleValue()).isCloseTo(lossAt(second, small, dir),
                org.assertj.core.data.Percentage.withPercentage(1e-9));

        Path ref = dir.resolve("ref.json");
        Cli r = run(concat(concat(new String[] {"landscape", first.toString(), second.toString()}, small), "--points", "5",
                "--engine", "reference", "--png", dir.resolve("ref.png").toString(), "--json", ref.toString()));
        assertThat(r.exit()).as(r.err()).isZero();
        List<?> refLosses = array(object(read(ref), "interpolation"), "losses");
        for (int i = 0; i < 5; i++) {
            assertThat(((BigDecimal) refLosses.get(i)).doubleValue()).isCloseTo(((BigDecimal) losses.get(i)).doubleValue(),
                    org.assertj.core.data.Percentage.withPercentage(0.01));
        }

        Path plane = dir.resolve("plane.json");
        Cli p = run(concat(concat(new String[] {"landscape", second.toString()}, small), "--points", "3",
                "--png", dir.resolve("plane.png").toString(), "--json", plane.toString()));
        assertThat(p.exit()).as(p.err()).isZero();
        Map<?, ?> surface = object(read(plane), "plane");
        assertThat(array(surface, "losses")).hasSize(3);
        assertThat(((BigDecimal) ((List<?>) array(surface, "losses").get(1)).get(1)).doubleValue())
                .as("the centre is the checkpoint").isCloseTo(lossAt(second, small, dir),
                        org.assertj.core.data.Percentage.withPercentage(1e-9));
        assertThat(number(surface, "lossEvaluations")).isEqualTo(9);
        Cli oneLine = run(concat(concat(new String[] {"landscape", second.toString()}, small), "--dims", "1", "--points",
                "4", "--png", dir.resolve("l1.png").toString(), "--json", dir.resolve("l1.json").toString()));
        assertThat(oneLine.exit()).as(oneLine.err()).isZero();
        assertThat(array(object(read(dir.resolve("l1.json")), "line"), "losses")).hasSize(4);
        for (String png : new String[] {"line.png", "plane.png", "l1.png"}) {
            java.awt.image.BufferedImage image = javax.imageio.ImageIO.read(dir.resolve(png).toFile());
            assertThat(image).as(png).isNotNull();
            assertThat(image.getWidth()).isEqualTo(900);
        }

        Cli dims = run(concat(new String[] {"landscape", second.toString()}, concat(small, "--dims", "3")));
        assertThat(dims.exit()).isEqualTo(2);
        assertThat(dims.err().strip()).doesNotContain("\n").contains("--dims").contains("got 3");
        Cli range = run(concat(new String[] {"landscape", second.toString()}, concat(small, "--range", "1")));
        assertThat(range.exit()).isEqualTo(2);
        assertThat(range.err().strip()).doesNotContain("\n").contains("--range");
        Cli few = run(concat(new String[] {"landscape", second.toString()}, concat(small, "--points", "1")));
        assertThat(few.exit()).isEqualTo(2);
        assertThat(few.err().strip()).doesNotContain("\n").contains("--points must be >= 2, got 1");
        Cli missing = run("landscape", dir.resolve("none.safetensors").toString(), "--data", data.toString());
        assertThat(missing.exit()).isEqualTo(1);
        assertThat(missing.err().strip()).doesNotContain("\n").contains("none.safetensors");
    }

    /** The checkpoints, one per epoch in order, of an SGD run of {@code epochs} on 320 images. */
    private static List<Path> sgdCheckpoints(Path dir, int epochs) throws IOException {
        Path checkpoints = dir.resolve("checkpoints");
        Cli t = run("train", "--data", data.toString(), "--epochs", "" + epochs, "--batch", "32", "--optimizer", "sgd",
                "--limit", "320", "--device", "cpu", "--threads", "1", "--checkpoint", checkpoints.toString());
        assertThat(t.exit()).as(t.err()).isZero();
        try (var list = Files.list(checkpoints)) {
            return list.sorted().toList();
        }
    }

    /** The loss sharpness measures at a checkpoint (its ρ-sharpness record's loss at θ). */
    private static double lossAt(Path checkpoint, String[] small, Path dir) throws IOException {
        Path json = dir.resolve("loss-" + checkpoint.getFileName() + ".json");
        Cli s = run(concat(concat(new String[] {"sharpness", checkpoint.toString()}, small), "--probes", "2",
                "--ascent-steps", "0", "--json", json.toString()));
        assertThat(s.exit()).as(s.err()).isZero();
        return number(object(read(json), "sharpness"), "loss");
    }

    @Test
    void badInputIsAOneLineErrorAndANonZeroExit(@TempDir Path dir) throws IOException {
        Cli missing = run("train", "--data", dir.resolve("absent").toString());
        assertThat(missing.exit()).isNotZero();
        assertThat(missing.err().strip()).doesNotContain("\n").contains("apt-get install dataset-fashion-mnist");

        Path corrupt = Files.createDirectories(dir.resolve("corrupt"));
        SyntheticIdx.write(corrupt, 20, 10);
        Files.write(corrupt.resolve("train-images-idx3-ubyte.gz"), new byte[] {31, -117, 8, 0});
        Cli bad = run("train", "--data", corrupt.toString());
        assertThat(bad.exit()).isNotZero();
        assertThat(bad.err().strip()).doesNotContain("\n").contains("train-images-idx3-ubyte.gz");

        Cli option = run("train", "--data", data.toString(), "--optimizer", "adagrad");
        assertThat(option.exit()).isEqualTo(2);
        assertThat(option.err().strip()).doesNotContain("\n").contains("'adagrad'");

        Cli radius = run("train", "--data", data.toString(), "--optimizer", "sam", "--rho1", "0.1");
        assertThat(radius.exit()).isEqualTo(2);
        assertThat(radius.err()).contains("rho1/rho2 applies to the agnostic-* optimizers");

        Cli zero = run("train", "--epochs", "zero");
        assertThat(zero.exit()).isEqualTo(2);
        assertThat(zero.err().strip()).doesNotContain("\n").contains("agnostic-sam train: ").contains("'zero'")
                .contains("--epochs").contains("(see agnostic-sam train --help)");
        Cli three = run("landscape", "a", "b", "c");
        assertThat(three.exit()).isEqualTo(2);
        assertThat(three.err().strip()).doesNotContain("\n").contains("one or two checkpoints, got 3");
        assertThat(run("bench", "--data", data.toString(), "--model", "resnet").err()).contains("'resnet'");
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
