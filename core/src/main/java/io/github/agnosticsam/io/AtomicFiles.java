package io.github.agnosticsam.io;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Writes a file so that a crash, a full disk or a failed write at any point leaves either the old
 * file or the complete new one: a temporary file in the same folder, synced, renamed over the
 * target, then the folder synced (so the rename itself survives a power cut).
 */
public final class AtomicFiles {
    /** Writes the bytes of a file to a stream. */
    @FunctionalInterface
    public interface Writer {
        void write(OutputStream out) throws IOException;
    }

    private AtomicFiles() {
    }

    /** Writes {@code target}; on failure the old file (if any) is as it was and the temporary file is gone. */
    public static void write(Path target, Writer writer) throws IOException {
        Path parent = folder(target);
        Files.createDirectories(parent);
        Path temp = newFile(parent, target, ".tmp");
        try {
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                OutputStream out = Channels.newOutputStream(channel);
                writer.write(out);
                out.flush();
                channel.force(true);
            }
            try {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (Throwable e) {
            try {
                Files.deleteIfExists(temp);
            } catch (IOException again) {
                e.addSuppressed(again); // the first failure is the one to report
            }
            throw e;
        }
        syncFolder(parent);
    }

    /**
     * A new empty file beside the target, hidden, with a random name: created as the target would be
     * (the umask's permissions, unlike Files.createTempFile's owner-only ones).
     */
    public static Path newFile(Path parent, Path target, String suffix) throws IOException {
        for (int attempt = 0;; attempt++) {
            long random = java.util.concurrent.ThreadLocalRandom.current().nextLong();
            Path p = parent.resolve("." + target.getFileName() + "." + Long.toHexString(random) + suffix);
            try {
                return Files.createFile(p);
            } catch (FileAlreadyExistsException e) {
                if (attempt == 9) {
                    throw e;
                }
            }
        }
    }

    /**
     * The name of the file that {@link #write} left behind when it was killed while writing a target
     * of this name: the target's name of a temporary file ({@code .NAME.<random>.tmp}), else null. A
     * program that owns its folder removes such files.
     */
    public static String interruptedWriteOf(String fileName) {
        java.util.regex.Matcher m = TEMPORARY.matcher(fileName);
        return m.matches() ? m.group(1) : null;
    }

    private static final java.util.regex.Pattern TEMPORARY = java.util.regex.Pattern.compile("\\.(.+)\\.[0-9a-f]+\\.tmp");

    /** The folder a target is written in. */
    public static Path folder(Path target) {
        Path parent = target.toAbsolutePath().getParent();
        return parent != null ? parent : target.toAbsolutePath();
    }

    private static void syncFolder(Path folder) {
        try (FileChannel dir = FileChannel.open(folder, StandardOpenOption.READ)) {
            dir.force(true);
        } catch (IOException e) {
            // Some file systems cannot sync a folder; the file itself is complete either way.
        }
    }
}
