package io.github.agnosticsam.engine.djl;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.training.dataset.Batch;
import ai.djl.training.dataset.RandomAccessDataset;
import ai.djl.training.dataset.Record;
import ai.djl.translate.Batchifier;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.SplittableRandom;

/** Where Agnostic-SAM's validation batch of each step comes from. */
@FunctionalInterface
public interface ValidationSampler {

    /** A validation batch for a train batch of {@code trainBatchSize} examples, made with {@code manager}. */
    Batch sample(NDManager manager, int trainBatchSize);

    /**
     * Uniformly at random, with replacement, from {@code dataset} (the paper draws it from the
     * training set), a quarter of the train batch (at least 1) per step.
     */
    static ValidationSampler uniform(RandomAccessDataset dataset, long seed) {
        return uniform(dataset, seed, 0);
    }

    /** As {@link #uniform(RandomAccessDataset, long)}, with a fixed batch size (0: a quarter of the train batch). */
    static ValidationSampler uniform(RandomAccessDataset dataset, long seed, int batchSize) {
        if (batchSize < 0) {
            throw new IllegalArgumentException("validation batch size must be >= 1 (or 0: a quarter of the train "
                    + "batch), got " + batchSize);
        }
        if (dataset.size() < 1) {
            throw new IllegalArgumentException("the validation dataset is empty");
        }
        SplittableRandom random = new SplittableRandom(seed);
        return (manager, trainBatchSize) -> {
            int n = batchSize > 0 ? batchSize : Math.max(1, trainBatchSize / 4);
            NDList[] data = new NDList[n];
            NDList[] labels = new NDList[n];
            try {
                for (int i = 0; i < n; i++) {
                    Record r = dataset.get(manager, random.nextLong(dataset.size()));
                    data[i] = r.getData();
                    labels[i] = r.getLabels();
                }
            } catch (IOException e) {
                throw new UncheckedIOException("could not read a validation example", e);
            }
            return new Batch(manager, Batchifier.STACK.batchify(data), Batchifier.STACK.batchify(labels), n,
                    Batchifier.STACK, Batchifier.STACK, 0, 0);
        };
    }
}
