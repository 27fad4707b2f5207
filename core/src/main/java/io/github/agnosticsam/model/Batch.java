package io.github.agnosticsam.model;

import java.util.Arrays;

/**
 * Examples and their class labels. {@code features} has shape {@code [n, ...inputShape]} (the
 * model's {@link ModelSpec#inputShape()}), {@code labels} has n entries.
 */
public record Batch(HostTensor features, int[] labels) {

    public Batch {
        if (features == null || labels == null) {
            throw new IllegalArgumentException("features and labels must not be null");
        }
        if (features.shape().length < 2) {
            throw new IllegalArgumentException("features need shape [batch, ...], got "
                    + Arrays.toString(features.shape()));
        }
        if (features.shape()[0] != labels.length) {
            throw new IllegalArgumentException("batch has " + features.shape()[0] + " examples but "
                    + labels.length + " labels");
        }
        if (labels.length < 1) {
            throw new IllegalArgumentException("batch size must be >= 1, got 0");
        }
    }

    public int size() {
        return labels.length;
    }

    /** Examples {@code [start, end)} of this batch, in order; the batch itself when that is all of it. */
    public Batch rows(int start, int end) {
        if (start < 0 || end > size() || start >= end) {
            throw new IllegalArgumentException("rows [" + start + ", " + end + ") of a batch of " + size()
                    + " examples: expected 0 <= start < end <= " + size());
        }
        if (start == 0 && end == size()) {
            return this;
        }
        int width = features.size() / size();
        int[] shape = features.shape().clone();
        shape[0] = end - start;
        return new Batch(new HostTensor(shape, Arrays.copyOfRange(features.values(), start * width, end * width)),
                Arrays.copyOfRange(labels, start, end));
    }

    /**
     * Replica {@code replica}'s shard of this batch among {@code replicas}: the {@code replica}-th of
     * {@code replicas} equal contiguous parts (docs/algorithm.md, "Data-parallel steps").
     *
     * @throws IllegalArgumentException naming both numbers when the size is not a multiple of {@code replicas}
     */
    public Batch shard(int replica, int replicas, String role) {
        if (replicas < 1 || replica < 0 || replica >= replicas) {
            throw new IllegalArgumentException("replica " + replica + " of " + replicas
                    + ": expected replicas >= 1 and 0 <= replica < replicas");
        }
        if (size() % replicas != 0) {
            throw new IllegalArgumentException(role + " batch of " + size() + " examples cannot be split into "
                    + replicas + " equal shards: its size must be a multiple of the number of replicas");
        }
        int each = size() / replicas;
        return rows(replica * each, (replica + 1) * each);
    }

    /** Throws an IllegalArgumentException unless this batch fits the model. */
    public void checkFits(ModelSpec model, String role) {
        int[] shape = features.shape();
        int[] expected = model.inputShape();
        if (!Arrays.equals(Arrays.copyOfRange(shape, 1, shape.length), expected)) {
            throw new IllegalArgumentException(role + " batch has features of shape " + Arrays.toString(shape)
                    + ", expected [n, " + Arrays.toString(expected).replaceAll("[\\[\\]]", "") + "] for " + model);
        }
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= model.classes()) {
                throw new IllegalArgumentException(role + " batch label " + i + " is " + labels[i]
                        + ", expected a class in [0, " + model.classes() + ")");
            }
        }
    }
}
