package io.github.agnosticsam.examples;

import io.github.agnosticsam.io.AtomicFiles;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Every file the command line writes (JSON reports, PNG charts) goes through here: it is written to
 * a temporary file in the same folder, synced, and moved over the target in one atomic rename, so a
 * crash, a full disk or a failed write never leaves a truncated file and never replaces a good old
 * one. {@link #checkWritable} checks output paths before any training.
 */
final class OutputFiles {
    /** A file that cannot be written: the message names it and the reason, in one line. */
    static final class OutputException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        OutputException(String message) {
            super(message);
        }
    }

    /** Writes the bytes of a file to a stream. */
    @FunctionalInterface
    interface Writer {
        void write(OutputStream out) throws IOException;
    }

    private OutputFiles() {
    }

    /**
     * Writes {@code target} atomically: on failure the old file (if any) stays as it was and the
     * temporary file is removed.
     */
    static void write(Path target, Writer writer) {
        try {
            AtomicFiles.write(target, writer::write);
        } catch (IOException | RuntimeException e) {
            throw new OutputException("cannot write " + target + ": " + reason(e)
                    + (Files.isRegularFile(target) ? " (the old file is left as it was)" : ""));
        }
    }

    /**
     * Checks, before any work, that each file can be written: not a folder, its folder exists (it
     * is created if needed) and takes a new file.
     */
    static void checkWritable(Path... targets) {
        for (Path target : targets) {
            if (target == null) {
                continue;
            }
            if (Files.isDirectory(target)) {
                throw new OutputException("cannot write " + target + ": it is a folder");
            }
            if (Files.exists(target) && !Files.isWritable(target)) {
                throw new OutputException("cannot write " + target + ": the file is not writable");
            }
            Path parent = AtomicFiles.folder(target);
            try {
                Files.createDirectories(parent);
                Path probe = AtomicFiles.newFile(parent, target, ".probe");
                Files.delete(probe);
            } catch (IOException | RuntimeException e) {
                throw new OutputException("cannot write " + target + ": " + reason(e));
            }
        }
    }

    private static String reason(Exception e) {
        if (e instanceof FileAlreadyExistsException f) {
            return f.getFile() + " exists and is not a folder";
        }
        if (e instanceof NoSuchFileException n) {
            return "no such folder: " + n.getFile();
        }
        if (e instanceof java.nio.file.AccessDeniedException a) {
            return "permission denied: " + a.getFile();
        }
        String m = e.getMessage();
        return (m == null ? e.getClass().getSimpleName() : m).lines().findFirst().orElse("").strip();
    }
}
