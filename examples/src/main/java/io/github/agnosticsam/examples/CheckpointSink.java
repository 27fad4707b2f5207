package io.github.agnosticsam.examples;

import io.github.agnosticsam.training.Checkpoint;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Where a {@code train} run writes its checkpoints: a local folder ({@link RunCheckpoints}) or,
 * for a run on a cluster, a store every machine sees (agnostic-sam-spark's Hadoop file systems).
 * A checkpoint is taken after every epoch and, with {@link #every()} > 0, every that many steps.
 */
public interface CheckpointSink {
    /** A checkpoint's file name, after the steps run: {@code step-0000001200.safetensors}. */
    Pattern FILE_NAME = Pattern.compile("step-(\\d{10})\\.safetensors");

    /** The file name of the checkpoint after {@code steps} steps. */
    static String fileName(long steps) {
        return String.format(Locale.ROOT, "step-%010d.safetensors", steps);
    }

    /** Steps between checkpoints beside the epochs' (0: after each epoch only). */
    long every();

    /** Writes a checkpoint so that a crash at any moment leaves either it whole or nothing read as it. */
    void save(Checkpoint checkpoint);
}
