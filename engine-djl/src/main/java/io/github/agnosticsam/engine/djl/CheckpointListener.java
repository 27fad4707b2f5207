package io.github.agnosticsam.engine.djl;

import ai.djl.training.Trainer;
import ai.djl.training.listener.TrainingListenerAdapter;
import io.github.agnosticsam.training.Checkpoint;
import io.github.agnosticsam.training.CheckpointException;
import java.nio.file.Path;
import java.util.Map;
import java.util.OptionalInt;

/**
 * DJL's {@code SaveModelTrainingListener} for sharpness-aware training: at the end of every epoch
 * (or every n-th) it writes a {@link Checkpoint} of the {@link SharpnessAwareTrainer} stepping the
 * trainer to {@code <folder>/epoch-<n>.safetensors}, atomically. DJL's own listener saves the
 * parameters only; this one saves them with the running statistics, the optimizer state (momentum,
 * Adam's moments) and the step counters, so that {@link SharpnessAwareTrainer#restore} continues
 * the run. The checkpoint's extra entry {@value #EPOCH} holds n.
 *
 * <pre>{@code
 * CheckpointListener checkpoints = new CheckpointListener(Path.of("checkpoints"));
 * try (Trainer trainer = model.newTrainer(config.addTrainingListeners(checkpoints))) {
 *     trainer.initialize(inputShape);
 *     try (SharpnessAwareTrainer sam = SharpnessAwareTrainer.of(trainer, optimizer)) {  // finds the listener
 *         sam.restore(Checkpoint.read(checkpoints.file(3)));  // to resume: the next file is epoch-4
 *         sam.fit(7, trainSet, testSet, 42);
 *     }
 * }
 * }</pre>
 *
 * <p>Epochs are numbered from 1, after the epoch of the checkpoint last restored into the
 * {@code SharpnessAwareTrainer} when it has an {@value #EPOCH} entry. An epoch that ends while no
 * open {@code SharpnessAwareTrainer} steps the trainer is an IllegalStateException: plain DJL steps
 * have no optimizer state of this library to save.
 */
public final class CheckpointListener extends TrainingListenerAdapter {
    /** The extra checkpoint entry holding the epoch it was written after. */
    public static final String EPOCH = "epoch";

    private final Path folder;
    private final int every;
    private SharpnessAwareTrainer stepping;
    private int epoch;

    /** A checkpoint after every epoch. */
    public CheckpointListener(Path folder) {
        this(folder, 1);
    }

    /** A checkpoint after every {@code everyEpochs}-th epoch. */
    public CheckpointListener(Path folder, int everyEpochs) {
        if (folder == null) {
            throw new IllegalArgumentException("the checkpoint folder must not be null");
        }
        if (everyEpochs < 1) {
            throw new IllegalArgumentException("everyEpochs must be >= 1, got " + everyEpochs);
        }
        this.folder = folder;
        this.every = everyEpochs;
    }

    /** The file written after epoch {@code n}. */
    public Path file(int n) {
        return folder.resolve("epoch-" + n + ".safetensors");
    }

    @Override
    public void onEpoch(Trainer trainer) {
        epoch++;
        if (epoch % every != 0) {
            return;
        }
        if (stepping == null) {
            throw new IllegalStateException("CheckpointListener: no open SharpnessAwareTrainer steps this trainer; "
                    + "create one with SharpnessAwareTrainer.of(trainer, optimizer) (plain DJL steps have no "
                    + "optimizer state of ours to save)");
        }
        stepping.checkpoint(Map.of(EPOCH, Integer.toString(epoch))).write(file(epoch));
    }

    void bind(SharpnessAwareTrainer sam) {
        stepping = sam;
    }

    void unbind(SharpnessAwareTrainer sam) {
        if (stepping == sam) {
            stepping = null;
        }
    }

    void restored(SharpnessAwareTrainer sam, int restoredEpoch) {
        if (stepping == sam) {
            epoch = restoredEpoch;
        }
    }

    /** The checkpoint's {@value #EPOCH} entry, checked before anything is restored. */
    static OptionalInt epochOf(Checkpoint checkpoint) {
        String value = checkpoint.extra().get(EPOCH);
        if (value == null) {
            return OptionalInt.empty();
        }
        try {
            int n = Integer.parseInt(value);
            if (n >= 0) {
                return OptionalInt.of(n);
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new CheckpointException("the checkpoint's '" + EPOCH + "' entry is '" + value
                + "', expected a whole number >= 0");
    }
}
