package io.github.agnosticsam.examples;

import io.github.agnosticsam.training.Checkpoint;
import io.github.agnosticsam.training.CheckpointException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The checkpoints of a {@code train} run: one file per checkpoint in a folder, named after the
 * steps run ({@code step-0000001200.safetensors}), written atomically, the newest {@code keep}
 * kept. A checkpoint is taken after every epoch and, with {@code every} > 0, every that many steps.
 */
record RunCheckpoints(Path dir, long every, int keep) {
    private static final Pattern NAME = Pattern.compile("step-(\\d{10})\\.safetensors");

    RunCheckpoints {
        if (every < 0) {
            throw new IllegalArgumentException("--checkpoint-every must be >= 0 (0: after each epoch only), got "
                    + every);
        }
        if (keep < 1) {
            throw new IllegalArgumentException("--keep must be >= 1, got " + keep);
        }
    }

    /** Checks before any training that the folder takes new files (it is created if needed). */
    void checkWritable() {
        OutputFiles.checkWritable(dir.resolve(fileName(0)));
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
    void save(Checkpoint checkpoint) {
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
        if (!Files.isDirectory(dir)) {
            throw new CheckpointException("--resume " + dir + ": no such folder");
        }
        List<Path> all = list(dir);
        if (all.isEmpty()) {
            throw new CheckpointException("--resume " + dir + ": no checkpoint (step-NNNNNNNNNN.safetensors) in it");
        }
        Path newest = all.get(all.size() - 1);
        try {
            return Checkpoint.read(newest);
        } catch (CheckpointException e) {
            throw new CheckpointException(e.getMessage() + (all.size() > 1 ? " (move it away to resume from "
                    + all.get(all.size() - 2).getFileName() + ")" : ""), e);
        }
    }

    private static String fileName(long steps) {
        return String.format(Locale.ROOT, "step-%010d.safetensors", steps);
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
