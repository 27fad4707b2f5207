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
