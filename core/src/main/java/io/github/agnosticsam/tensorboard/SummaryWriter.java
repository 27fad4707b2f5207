package io.github.agnosticsam.tensorboard;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * A TensorBoard run: event files ({@code events.out.tfevents.<seconds>.<host>.<pid>.<n>}) in one
 * folder, with scalars, histograms, PNG images and text, as PyTorch's {@code SummaryWriter} writes
 * them: each record is its length, the masked CRC-32C of the length, an {@code Event} protocol
 * buffer and the masked CRC-32C of that. Written JDK-only (the ten small messages it needs are
 * encoded here, docs/tensorboard.md says why).
 *
 * <p>Records are kept whole in memory and reach the file in one write each time the writer flushes
 * (every 2 s of adds, every 64 KiB, on {@link #flush} and on {@link #close}), so a reader sees whole
 * records only. A run killed with SIGKILL inside a write can leave one torn record at the end (Linux
 * stops a write between pages for a fatal signal): every record before it is whole, TensorBoard
 * stops at the torn one, and {@link #resume} drops it.
 * {@link #resume} continues a run's stream from a step: it drops what the run logged after that
 * step (a run killed after its last checkpoint logged steps it will log again), so TensorBoard never
 * shows a step twice.
 *
 * <p>Not thread-safe.
 */
public final class SummaryWriter implements AutoCloseable {
    private static final String PREFIX = "events.out.tfevents.";
    private static final String PARTIAL = ".resume-";
    private static final long FLUSH_NANOS = 2_000_000_000L;
    private static final int FLUSH_BYTES = 64 * 1024;
    private static final AtomicLong FILES = new AtomicLong();

    private final Path dir;
    private final Path file;
    private final FileChannel channel;
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream();
    private long lastFlush = System.nanoTime();
    private boolean closed;

    private SummaryWriter(Path dir, Path file, FileChannel channel) {
        this.dir = dir;
        this.file = file;
        this.channel = channel;
    }

    /**
     * A new run in {@code dir} (created if needed); the records of event files already there are kept,
     * copied into this writer's file (the old files are removed).
     */
    public static SummaryWriter open(Path dir) {
        return resume(dir, Long.MAX_VALUE);
    }

    /**
     * Continues the run in {@code dir} after step {@code step}: the records it holds for steps up to
     * {@code step} are kept (in one new file that replaces the old ones; a torn or corrupt tail of an
     * old file is dropped), those of later steps are dropped.
     */
    public static SummaryWriter resume(Path dir, long step) {
        if (dir == null) {
            throw new IllegalArgumentException("the run's folder must not be null");
        }
        try {
            Files.createDirectories(dir);
            List<Path> old;
            try (Stream<Path> files = Files.list(dir)) {
                List<Path> all = files.toList();
                for (Path p : all) { // what an interrupted resume left: never a record of the run
                    if (p.getFileName().toString().startsWith(PARTIAL)) {
                        Files.deleteIfExists(p);
                    }
                }
                old = all.stream().filter(p -> p.getFileName().toString().startsWith(PREFIX)).sorted().toList();
            }
            ByteArrayOutputStream kept = new ByteArrayOutputStream();
            kept.writeBytes(record(Proto.event(now(), 0, b -> b.string(3, "brain.Event:2"))));
            for (Path p : old) {
                for (byte[] event : EventFiles.read(p)) {
                    long at = Proto.step(event);
                    if (Proto.isFileVersion(event)) {
                        continue;
                    }
                    if (at <= step) {
                        kept.writeBytes(record(event));
                    }
                }
            }
            Path file = dir.resolve(PREFIX + (System.currentTimeMillis() / 1000) + "." + host() + "."
                    + ProcessHandle.current().pid() + "." + FILES.incrementAndGet());
            // Written whole under a name TensorBoard does not read (no "tfevents" in it), then renamed
            // into place; only then are the old files removed (a kill in between leaves records twice
            // until the next resume, which reads them all and keeps each record once per file set).
            Path partial = dir.resolve(PARTIAL + FILES.get() + ".tmp");
            Files.write(partial, kept.toByteArray());
            try (FileChannel c = FileChannel.open(partial, StandardOpenOption.WRITE)) {
                c.force(true);
            }
            Files.move(partial, file, StandardCopyOption.ATOMIC_MOVE);
            for (Path p : old) {
                Files.deleteIfExists(p);
            }
            return new SummaryWriter(dir, file, FileChannel.open(file, StandardOpenOption.WRITE,
                    StandardOpenOption.APPEND));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the TensorBoard run " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Removes the event files of the run in {@code dir}, to start it again from nothing (none there: nothing to do). */
    public static void clear(Path dir) {
        if (!Files.isDirectory(dir)) {
            return;
        }
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : files.filter(p -> p.getFileName().toString().startsWith(PREFIX)).toList()) {
                Files.delete(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot clear the TensorBoard run " + dir + ": " + e.getMessage(), e);
        }
    }

    /** The run's folder. */
    public Path dir() {
        return dir;
    }

    /** The event file this writer appends to. */
    public Path file() {
        return file;
    }

    /** A scalar (TensorBoard's Scalars tab): {@code value} at {@code step}, as a float. */
    public void addScalar(String tag, double value, long step) {
        add(step, Proto.value(tag(tag), v -> v.float32(2, (float) value)));
    }

    /**
     * A histogram of {@code values} (the Histograms and Distributions tabs): 30 buckets of equal
     * width between their least and greatest finite value.
     */
    public void addHistogram(String tag, double[] values, long step) {
        if (values == null || values.length == 0) {
            throw new IllegalArgumentException("histogram " + tag + ": no values");
        }
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        double sum = 0;
        double squares = 0;
        int finite = 0;
        for (double v : values) {
            if (Double.isFinite(v)) {
                min = Math.min(min, v);
                max = Math.max(max, v);
                sum += v;
                squares += v * v;
                finite++;
            }
        }
        if (finite == 0) {
            min = 0;
            max = 0;
        }
        int buckets = max > min ? 30 : 1;
        double[] limits = new double[buckets];
        double[] counts = new double[buckets];
        double width = (max - min) / buckets;
        for (int b = 0; b < buckets; b++) {
            limits[b] = b == buckets - 1 ? max : min + width * (b + 1);
        }
        for (double v : values) {
            if (Double.isFinite(v)) {
                // Each limit is its bucket's inclusive upper bound, as TensorBoard reads them.
                int b = buckets == 1 ? 0 : (int) Math.min(buckets - 1, Math.max(0, Math.ceil((v - min) / width) - 1));
                counts[b]++;
            }
        }
        double lo = min;
        double hi = max;
        double s = sum;
        double sq = squares;
        double n = finite;
        add(step, Proto.value(tag(tag), v -> v.message(5, h -> h.float64(1, lo).float64(2, hi).float64(3, n)
                .float64(4, s).float64(5, sq).packed(6, limits).packed(7, counts))));
    }

    /** A PNG image (the Images tab); its size and colour type are read from its header. */
    public void addImage(String tag, byte[] png, long step) {
        if (png == null || png.length < 26 || png[0] != (byte) 0x89 || png[1] != 'P' || png[2] != 'N' || png[3] != 'G') {
            throw new IllegalArgumentException("image " + tag + ": not a PNG file");
        }
        ByteBuffer header = ByteBuffer.wrap(png).order(ByteOrder.BIG_ENDIAN);
        int width = header.getInt(16);
        int height = header.getInt(20);
        int colorspace = switch (png[25]) {
            case 0 -> 1; // grey
            case 4 -> 2; // grey and alpha
            case 6 -> 4; // RGBA
            default -> 3; // RGB (a palette is shown as RGB)
        };
        add(step, Proto.value(tag(tag), v -> v.message(4, i -> i.int64(1, height).int64(2, width).int64(3, colorspace)
                .bytes(4, png))));
    }

    /** Markdown text (the Text tab). */
    public void addText(String tag, String text, long step) {
        byte[] utf8 = (text == null ? "" : text).getBytes(StandardCharsets.UTF_8);
        add(step, Proto.value(tag(tag), v -> v
                .message(9, m -> m.message(1, p -> p.string(1, "text")))
                .message(8, t -> t.int64(1, 7 /* DT_STRING */).message(2, shape -> shape.message(2, d -> d.int64(1, 1)))
                        .bytes(8, utf8))));
    }

    /** Writes the records added so far to the file. */
    public void flush() {
        checkOpen();
        if (pending.size() == 0) {
            return;
        }
        try {
            ByteBuffer all = ByteBuffer.wrap(pending.toByteArray());
            while (all.hasRemaining()) {
                channel.write(all);
            }
            pending.reset();
            lastFlush = System.nanoTime();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write to the TensorBoard event file " + file + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        try {
            flush();
        } finally {
            closed = true;
            try {
                channel.close();
            } catch (IOException ignored) {
                // every record was written (or flush threw, which the caller sees)
            }
        }
    }

    private void add(long step, byte[] value) {
        checkOpen();
        if (step < 0) {
            throw new IllegalArgumentException("step must be >= 0, got " + step);
        }
        pending.writeBytes(record(Proto.event(now(), step, e -> e.message(5, s -> s.bytes(1, value)))));
        if (pending.size() >= FLUSH_BYTES || System.nanoTime() - lastFlush >= FLUSH_NANOS) {
            flush();
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("this SummaryWriter is closed");
        }
    }

    private static String tag(String tag) {
        if (tag == null || tag.isBlank()) {
            throw new IllegalArgumentException("a tag must not be empty, got '" + tag + "'");
        }
        return tag;
    }

    private static double now() {
        return System.currentTimeMillis() / 1000.0;
    }

    private static String host() {
        try {
            return InetAddress.getLocalHost().getHostName().replaceAll("[^A-Za-z0-9_.-]", "_");
        } catch (IOException e) {
            return "localhost";
        }
    }

    /** A record of an event: length, its masked CRC, the event, its masked CRC (all little-endian). */
    static byte[] record(byte[] event) {
        ByteBuffer r = ByteBuffer.allocate(event.length + 16).order(ByteOrder.LITTLE_ENDIAN);
        r.putLong(event.length);
        r.putInt(maskedCrc(r.array(), 0, 8));
        r.put(event);
        r.putInt(maskedCrc(event, 0, event.length));
        return r.array();
    }

    /** TensorFlow's masked CRC-32C: rotated right by 15 bits, plus a constant. */
    static int maskedCrc(byte[] data, int offset, int length) {
        CRC32C crc = new CRC32C();
        crc.update(data, offset, length);
        int c = (int) crc.getValue();
        return ((c >>> 15) | (c << 17)) + 0xa282ead8;
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "SummaryWriter[%s]", file);
    }

    /** Reading event files back: the records of a file up to its last whole one. */
    static final class EventFiles {
        private EventFiles() {
        }

        /** The events of a file, in order; a torn or corrupt record ends the list (what follows is not trusted). */
        static List<byte[]> read(Path file) throws IOException {
            byte[] all = Files.readAllBytes(file);
            ByteBuffer b = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
            List<byte[]> events = new ArrayList<>();
            while (b.remaining() >= 12) {
                int start = b.position();
                long length = b.getLong();
                int lengthCrc = b.getInt();
                if (lengthCrc != maskedCrc(all, start, 8) || length < 0 || length > b.remaining() - 4) {
                    break;
                }
                byte[] event = new byte[(int) length];
                b.get(event);
                if (b.getInt() != maskedCrc(event, 0, event.length)) {
                    break;
                }
                events.add(event);
            }
            return events;
        }
    }
}
