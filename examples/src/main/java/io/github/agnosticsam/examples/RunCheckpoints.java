package io.github.agnosticsam.examples;

import io.github.agnosticsam.io.AtomicFiles;
import io.github.agnosticsam.training.Checkpoint;
import io.github.agnosticsam.training.CheckpointException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The checkpoints of a {@code train} run: one file per checkpoint in a folder, named after the
 * steps run ({@code step-0000001200.safetensors}), written atomically, the newest {@code keep}
 * kept. A checkpoint is taken after every epoch and, with {@code every} > 0, every that many steps.
 */
record RunCheckpoints(Path dir, long every, int keep) implements CheckpointSink {
    private static final Pattern NAME = CheckpointSink.FILE_NAME;

    RunCheckpoints {
        if (every < 0) {
            throw new IllegalArgumentException("--checkpoint-every must be >= 0 (0: after each epoch only), got "
                    + every);
        }
        if (keep < 1) {
            throw new IllegalArgumentException("--keep must be >= 1, got " + keep);
        }
    }

    /**
     * Checks before any training that the folder takes new files (it is created if needed), and
     * removes the temporary files of checkpoint writes that a crash or kill interrupted: a run owns
     * its folder, so no other write can be under way in it.
     */
    void prepare() {
        OutputFiles.checkWritable(dir.resolve(fileName(0)));
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : files.filter(p -> isLeftover(p.getFileName().toString())).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new OutputFiles.OutputException("cannot remove an interrupted checkpoint's temporary file in " + dir
                    + ": " + e);
        }
    }

    /** Whether {@code file} is one this folder's checkpoints are written to (or through). */
    boolean owns(Path file) {
        String name = file.getFileName().toString();
        return OutputFiles.same(AtomicFiles.folder(file), dir.toAbsolutePath())
                && (NAME.matcher(name).matches() || isLeftover(name));
    }

    /** A temporary file that an interrupted checkpoint write left behind (AtomicFiles names them). */
    private static boolean isLeftover(String name) {
        String target = AtomicFiles.interruptedWriteOf(name);
        return target != null && NAME.matcher(target).matches();
    }

    /** Whether the folder holds no checkpoint (or does not exist). */
    boolean isEmpty() {
        return !Files.isDirectory(dir) || list(dir).isEmpty();
    }

    /** Removes the folder's checkpoints (only the files named as this class names them). */
    void clear() {
        if (Files.isDirectory(dir)) {
            for (Path p : list(dir)) {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    throw new OutputFiles.OutputException("cannot remove the old checkpoint " + p + ": " + e);
                }
            }
        }
    }

    /** Writes a checkpoint, then removes all but the newest {@code keep}. */
    @Override
    public void save(Checkpoint checkpoint) {
        checkpoint.write(dir.resolve(fileName(checkpoint.steps())));
        List<Path> all = list(dir);
        for (int i = 0; i < all.size() - keep; i++) {
            try {
                Files.deleteIfExists(all.get(i));
            } catch (IOException e) {
                throw new OutputFiles.OutputException("cannot remove the old checkpoint " + all.get(i) + ": " + e);
            }
        }
    }

    /** The newest checkpoint in a folder, read and checked. */
    static Checkpoint newest(Path dir) {
        return read(newestFile(dir));
    }

    /** The newest checkpoint file in a folder. */
    static Path newestFile(Path dir) {
        if (Files.isRegularFile(dir)) {
            throw new CheckpointException("--resume " + dir + " is a file: give the folder of the run's checkpoints "
                    + "(train --checkpoint DIR); the run goes on from the newest in it");
        }
        if (!Files.isDirectory(dir)) {
            throw new CheckpointException("--resume " + dir + ": no such folder");
        }
        List<Path> all = list(dir);
        if (all.isEmpty()) {
            throw new CheckpointException("--resume " + dir + ": no checkpoint (step-NNNNNNNNNN.safetensors) in it");
        }
        return all.get(all.size() - 1);
    }

    /** A checkpoint of a folder, read and checked; when it is bad, the message names the one before it. */
    static Checkpoint read(Path file) {
        try {
            return Checkpoint.read(file);
        } catch (CheckpointException e) {
            List<Path> older = list(file.getParent()).stream().filter(p -> p.compareTo(file) < 0).toList();
            throw new CheckpointException(e.getMessage() + (older.isEmpty() ? "" : " (move it away to resume from "
                    + older.get(older.size() - 1).getFileName() + ")"), e);
        }
    }

    private static String fileName(long steps) {
        return CheckpointSink.fileName(steps);
    }

    /** The checkpoint files of a folder, oldest first. */
    private static List<Path> list(Path dir) {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> NAME.matcher(p.getFileName().toString()).matches()).sorted().toList();
        } catch (IOException e) {
            throw new CheckpointException("cannot list " + dir + ": " + e);
        }
    }
}
