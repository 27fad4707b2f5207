package io.github.agnosticsam.examples;

import io.github.agnosticsam.training.Checkpoint;

/**
 * Where a {@code train} run writes its checkpoints: a local folder ({@link RunCheckpoints}) or,
 * for a run on a cluster, a store every machine sees (agnostic-sam-spark's Hadoop file systems).
 * A checkpoint is taken after every epoch and, with {@link #every()} > 0, every that many steps.
 */
public interface CheckpointSink {
    /** Steps between checkpoints beside the epochs' (0: after each epoch only). */
    long every();

    /** Writes a checkpoint so that a crash at any moment leaves either it whole or nothing read as it. */
    void save(Checkpoint checkpoint);
}
