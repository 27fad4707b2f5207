package io.github.agnosticsam.examples;

import io.github.agnosticsam.io.AtomicFiles;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Predicate;

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

    private OutputFiles() {
    }

    /**
     * Writes {@code target} atomically: on failure the old file (if any) stays as it was and the
     * temporary file is removed.
     */
    static void write(Path target, AtomicFiles.Writer writer) {
        try {
            AtomicFiles.write(target, writer);
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

    /**
     * Checks, before any work, that a folder an option names takes new files: created if needed,
     * refused naming the option when it is a file or cannot be written.
     */
    static void checkFolder(String option, Path folder) {
        if (Files.isRegularFile(folder)) {
            throw new OutputException(option + " " + folder + " is a file: give a folder");
        }
        try {
            Files.createDirectories(folder);
            Files.delete(Files.createTempFile(folder, ".probe", ".tmp"));
        } catch (IOException | RuntimeException e) {
            throw new OutputException(option + " " + folder + ": cannot write into it: " + reason(e));
        }
    }

    /**
     * A file a command reads or writes ({@code file}), or the files a folder it writes holds ({@code
     * file} null, {@code includes} says which), as the message names it: "--png", "the checkpoint A".
     */
    record Use(String what, Path file, Predicate<Path> includes) {
        static Use file(String what, Path file) {
            return new Use(what, file, p -> file != null && same(p, file));
        }
    }

    /**
     * Refuses, before any work, an output file that is also an input (writing it would destroy what
     * the command reads) or another output (one would replace the other).
     */
    static void checkDistinct(List<Use> inputs, List<Use> outputs) {
        for (Use out : outputs) {
            if (out.file() == null) {
                continue;
            }
            for (Use in : inputs) {
                if (in.includes().test(out.file())) {
                    throw new IllegalArgumentException(out.what() + " " + out.file() + " is " + in.what()
                            + " the command reads: writing it would destroy it; give another file");
                }
            }
            for (Use other : outputs) {
                if (other != out && other.includes().test(out.file())) {
                    throw new IllegalArgumentException(out.what() + " " + out.file() + " is also " + other.what()
                            + ": one output would replace the other; give each its own file");
                }
            }
        }
    }

    /** Whether two paths name the same file, through symbolic links too (the files need not exist). */
    static boolean same(Path a, Path b) {
        return real(a).equals(real(b));
    }

    /** The real path of a file, or of its folder and its name when the file does not exist yet. */
    private static Path real(Path p) {
        Path abs = p.toAbsolutePath().normalize();
        Path rest = abs.getFileSystem().getPath("");
        for (Path known = abs; known != null && known.getFileName() != null; known = known.getParent()) {
            try {
                return known.toRealPath().resolve(rest);
            } catch (IOException e) {
                rest = known.getFileName().resolve(rest); // not there yet: try its folder
            }
        }
        return abs;
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
