package io.github.agnosticsam.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.agnosticsam.io.Json;
import io.github.agnosticsam.model.ModelSpec;
import io.github.agnosticsam.tensorboard.SummaryWriter;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.Event;
import org.tensorflow.proto.Summary;

/**
 * {@code train --tensorboard}, read back with TensorFlow's own {@code Event} protocol-buffer classes
 * (TensorFlow Java's, not this project's encoder): every record's framing and CRCs, and tags,
 * steps and values equal to report.json; a resumed run's stream has every step once; a writer
 * killed with SIGKILL leaves whole records only.
 */
class TensorBoardTest {
    @TempDir
    static Path data;

    @BeforeAll
    static void writeData() throws IOException {
        SyntheticIdx.write(data, 640, 200);
    }

    /** A value of a tag at a step. */
    record Point(String tag, long step, Summary.Value value) {
    }

    /**
     * The events of a run's folder, each record checked on the way: length, the CRC-32C of the
     * length and of the data, masked as TensorFlow's record writer masks them (lib/hash/crc32c.h).
     */
    static List<Event> events(Path run) throws IOException {
        return events(run, false);
    }

    /**
     * As {@link #events(Path)}; with {@code tornTail}, the last file may end in one incomplete record
     * (what a SIGKILL inside a write leaves), which is skipped as TensorBoard skips it.
     */
    static List<Event> events(Path run, boolean tornTail) throws IOException {
        List<Event> events = new ArrayList<>();
        List<Path> files;
        try (Stream<Path> s = Files.list(run)) {
            files = s.filter(p -> p.getFileName().toString().startsWith("events.out.tfevents.")).sorted().toList();
        }
        for (Path f : files) {
            ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(f)).order(ByteOrder.LITTLE_ENDIAN);
            while (b.hasRemaining()) {
                if (tornTail && f.equals(files.get(files.size() - 1)) && (b.remaining() < 12
                        || b.remaining() < 16 + b.duplicate().order(ByteOrder.LITTLE_ENDIAN).getLong())) {
                    break;
                }
                byte[] header = new byte[8];
                b.get(header);
                long length = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN).getLong();
                assertThat(b.getInt()).as("the length's CRC in " + f).isEqualTo(masked(header));
                byte[] data = new byte[(int) length];
                b.get(data);
                assertThat(b.getInt()).as("the data's CRC in " + f).isEqualTo(masked(data));
                events.add(Event.parseFrom(data));
            }
        }
        return events;
    }

    private static int masked(byte[] data) {
        CRC32C crc = new CRC32C();
        crc.update(data);
        int c = (int) crc.getValue();
        return Integer.rotateRight(c, 15) + 0xa282ead8;
    }

    static List<Point> points(List<Event> events) {
        List<Point> out = new ArrayList<>();
        for (Event e : events) {
            for (Summary.Value v : e.getSummary().getValueList()) {
                out.add(new Point(v.getTag(), e.getStep(), v));
            }
        }
        return out;
    }

    private static Path onlyRun(Path board) throws IOException {
        try (Stream<Path> s = Files.list(board)) {
            List<Path> runs = s.toList();
            assertThat(runs).as("one run folder").hasSize(1);
            return runs.get(0);
        }
    }

    private static String[] train(String... more) {
        List<String> args = new ArrayList<>(List.of("train", "--data", data.toString(), "--epochs", "2", "--batch",
                "32", "--val-batch", "8", "--optimizer", "agnostic-sam", "--noise", "0.2", "--limit", "320", "--device",
                "cpu", "--threads", "1", "--sharpness-every", "2", "--sharpness-images", "64", "--tensorboard-every",
                "3"));
        args.addAll(List.of(more));
        return args.toArray(String[]::new);
    }

    @Test
    void trainLogsWhatItReportsUnderTensorBoardsTags(@TempDir Path dir) throws IOException {
        Path report = dir.resolve("report.json");
        Cli r = Cli.run(train("--json", report.toString(), "--tensorboard", dir.resolve("tb").toString()));
        assertThat(r.exit()).as(r.err()).isZero();
        Path run = onlyRun(dir.resolve("tb"));
        assertThat(run.getFileName().toString()).startsWith("agnostic-sam-mlp-");
        List<Event> events = events(run);
        assertThat(events.get(0).getFileVersion()).isEqualTo("brain.Event:2");
        List<Point> points = points(events);

        Map<?, ?> json = (Map<?, ?>) Json.parse(Files.readString(report));
        List<?> history = (List<?>) json.get("history");
        int stepsPerEpoch = 320 / 32;
        for (Object o : history) {
            Map<?, ?> epoch = (Map<?, ?>) o;
            long step = ((BigDecimal) epoch.get("epoch")).longValue() * stepsPerEpoch;
            assertThat(scalar(points, "epoch/test_accuracy", step)).isEqualTo(number(epoch, "testAccuracy"));
            assertThat(scalar(points, "epoch/train_accuracy", step)).isEqualTo(number(epoch, "trainAccuracy"));
            assertThat(scalar(points, "epoch/train_loss", step)).isEqualTo(number(epoch, "trainLoss"));
            for (String name : ModelSpec.standard("mlp").parameterNames()) {
                Summary.Value h = only(points, "parameters/" + name, step).value();
                assertThat(h.hasHisto()).isTrue();
                assertThat(h.getHisto().getBucketList().stream().mapToDouble(Double::doubleValue).sum())
                        .isEqualTo(h.getHisto().getNum());
            }
        }
        Map<?, ?> sharpness = (Map<?, ?>) ((Map<?, ?>) history.get(1)).get("sharpness");
        assertThat(scalar(points, "sharpness/lambda_max", 2L * stepsPerEpoch))
                .isEqualTo((float) ((BigDecimal) ((Map<?, ?>) sharpness.get("lambdaMax")).get("value")).doubleValue());
        // Per step, every 3 steps: the loss, the schedules and whether the step was skipped.
        List<Long> lossSteps = points.stream().filter(p -> p.tag().equals("train/loss")).map(Point::step).toList();
        assertThat(lossSteps).containsExactly(3L, 6L, 9L, 12L, 15L, 18L);
        assertThat(scalar(points, "train/lr", 3)).isLessThan(0.05f).isGreaterThan(scalar(points, "train/lr", 18));
        assertThat(scalar(points, "train/rho1", 3)).isPositive();
        assertThat(scalar(points, "train/skipped", 3)).isZero();
        String hparams = only(points, "hparams", 0).value().getTensor().getStringVal(0).toStringUtf8();
        assertThat(hparams).contains("| --optimizer | agnostic-sam |").contains("| --epochs | 2 |");
    }

    @Test
    void aResumedRunContinuesItsStreamWithEveryStepOnce(@TempDir Path dir) throws IOException {
        Path whole = dir.resolve("whole.json");
        Path resumed = dir.resolve("resumed.json");
        Path checkpoints = dir.resolve("checkpoints");
        Cli r = Cli.run(train("--json", whole.toString(), "--checkpoint", checkpoints.toString(), "--checkpoint-every",
                "4", "--keep", "10", "--tensorboard", dir.resolve("tb").toString()));
        assertThat(r.exit()).as(r.err()).isZero();
        Path run = onlyRun(dir.resolve("tb"));
        List<Point> before = points(events(run));
        // The break: the run stopped after the checkpoint at step 12, having logged up to step 20.
        try (Stream<Path> s = Files.list(checkpoints)) {
            for (Path p : s.filter(p -> p.getFileName().toString().compareTo("step-0000000012.safetensors") > 0)
                    .toList()) {
                Files.delete(p);
            }
        }
        r = Cli.run("train", "--resume", checkpoints.toString(), "--json", resumed.toString(), "--tensorboard",
                dir.resolve("tb").toString());
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(onlyRun(dir.resolve("tb"))).as("the same run folder").isEqualTo(run);
        List<Point> after = points(events(run));
        Map<String, List<Long>> steps = new TreeMap<>();
        for (Point p : after) {
            steps.computeIfAbsent(p.tag(), t -> new ArrayList<>()).add(p.step());
        }
        steps.forEach((tag, s) -> assertThat(s).as(tag + ": every step once, in order").isSorted()
                .doesNotHaveDuplicates());
        assertThat(values(after)).as("the values of the uninterrupted run").isEqualTo(values(before));
    }

    @Test
    void aWriterKilledWithSigkillLeavesWholeRecords(@TempDir Path dir) throws Exception {
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), BoardWriterChild.class.getName(), dir.toString())
                .redirectErrorStream(true).start();
        Path started = dir.resolve("started");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!Files.exists(started) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        Thread.sleep(500);
        new ProcessBuilder("kill", "-KILL", Long.toString(p.pid())).start().waitFor(10, TimeUnit.SECONDS);
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        // Linux ends a write to a file between pages when the process gets SIGKILL, so the last record
        // may be torn; every record before it must be whole (CRCs checked) and in order.
        List<Point> points = points(events(dir.resolve("run"), true));
        assertThat(points).as("records written before the kill").hasSizeGreaterThan(100);
        for (int i = 0; i < points.size(); i++) {
            assertThat(points.get(i).step()).isEqualTo(i + 1);
            assertThat(points.get(i).value().getSimpleValue()).isEqualTo((float) Math.sqrt(i + 1));
        }
        // Whatever the kill left, a torn tail (made sure of here) is skipped and resume drops it.
        Path run = dir.resolve("run");
        Path last;
        try (Stream<Path> s = Files.list(run)) {
            last = s.filter(f -> f.getFileName().toString().startsWith("events.out.tfevents.")).sorted()
                    .reduce((a, b) -> b).orElseThrow();
        }
        Files.write(last, new byte[] {40, 0, 0, 0, 0, 0, 0}, java.nio.file.StandardOpenOption.APPEND);
        assertThat(points(events(run, true))).isEqualTo(points);
        SummaryWriter.resume(run, Long.MAX_VALUE).close();
        assertThat(points(events(run))).as("after resume, whole records only").isEqualTo(points);
    }

    @Test
    void imagesCarryTheirSizeAndBadInputIsRefusedNamingIt(@TempDir Path dir) throws IOException {
        java.awt.image.BufferedImage image = new java.awt.image.BufferedImage(7, 5,
                java.awt.image.BufferedImage.TYPE_INT_RGB);
        java.io.ByteArrayOutputStream png = new java.io.ByteArrayOutputStream();
        javax.imageio.ImageIO.write(image, "png", png);
        try (SummaryWriter w = SummaryWriter.open(dir.resolve("run"))) {
            w.addImage("picture", png.toByteArray(), 4);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> w.addImage("picture", new byte[40], 5))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("image picture: not a PNG file");
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> w.addScalar("x", 1, -1))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("step must be >= 0, got -1");
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> w.addScalar(" ", 1, 1))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("a tag must not be empty");
        }
        Summary.Image read = only(points(events(dir.resolve("run"))), "picture", 4).value().getImage();
        assertThat(read.getWidth()).isEqualTo(7);
        assertThat(read.getHeight()).isEqualTo(5);
        assertThat(read.getColorspace()).isEqualTo(3);
        assertThat(read.getEncodedImageString().toByteArray()).isEqualTo(png.toByteArray());
    }

    /** Writes scalars without end (flushing every 10) until killed. */
    public static final class BoardWriterChild {
        public static void main(String[] args) throws IOException {
            try (SummaryWriter w = SummaryWriter.open(Path.of(args[0], "run"))) {
                Files.createFile(Path.of(args[0], "started"));
                for (long step = 1; ; step++) {
                    w.addScalar("loss", Math.sqrt(step), step);
                    if (step % 10 == 0) {
                        w.flush();
                    }
                }
            }
        }
    }

    private static Map<String, Float> values(List<Point> points) {
        Map<String, Float> m = new LinkedHashMap<>();
        for (Point p : points) {
            if (p.value().getValueCase() == Summary.Value.ValueCase.SIMPLE_VALUE) {
                if (!p.tag().startsWith("epoch/seconds")) {
                    m.put(p.tag() + "@" + p.step(), p.value().getSimpleValue());
                }
            }
        }
        return new TreeMap<>(m);
    }

    private static Point only(List<Point> points, String tag, long step) {
        List<Point> found = points.stream().filter(p -> p.tag().equals(tag) && p.step() == step).toList();
        assertThat(found).as(tag + " at step " + step).hasSize(1);
        return found.get(0);
    }

    private static float scalar(List<Point> points, String tag, long step) {
        return only(points, tag, step).value().getSimpleValue();
    }

    private static float number(Map<?, ?> m, String key) {
        return (float) ((BigDecimal) m.get(key)).doubleValue();
    }
}
