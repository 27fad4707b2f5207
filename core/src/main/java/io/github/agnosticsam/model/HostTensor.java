package io.github.agnosticsam.model;

import java.util.Arrays;
import java.util.List;

/**
 * A dense row-major array of numbers in Java memory: how parameters, data and results cross the
 * boundary between the user and an engine. The arrays are not copied; do not change them after
 * handing them over.
 */
public record HostTensor(int[] shape, double[] values) {

    public HostTensor {
        if (shape == null || values == null) {
            throw new IllegalArgumentException("shape and values must not be null");
        }
        long size = 1;
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has a negative dimension");
            }
            size *= d;
        }
        if (size != values.length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " holds " + size
                    + " values, got " + values.length);
        }
    }

    public static HostTensor of(double[] values, int... shape) {
        return new HostTensor(shape, values);
    }

    public static HostTensor scalar(double value) {
        return new HostTensor(new int[0], new double[] {value});
    }

    public static HostTensor zeros(int... shape) {
        return new HostTensor(shape, new double[Math.toIntExact(size(shape))]);
    }

    /** Number of elements of an array of this shape. */
    public static long size(int[] shape) {
        long n = 1;
        for (int d : shape) {
            n *= d;
        }
        return n;
    }

    public int size() {
        return values.length;
    }

    public HostTensor copy() {
        return new HostTensor(shape.clone(), values.clone());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof HostTensor t && Arrays.equals(shape, t.shape) && Arrays.equals(values, t.values);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(shape) + Arrays.hashCode(values);
    }

    @Override
    public String toString() {
        String v = values.length <= 8 ? Arrays.toString(values) : "[" + values.length + " values]";
        return "HostTensor" + Arrays.toString(shape) + v;
    }

    /**
     * Throws an IllegalArgumentException unless {@code values} are one tensor per name, of the
     * given shapes, with only finite elements; the message names the first {@code kind} (and
     * element) that does not fit, e.g. "parameter W0 element 3 (row-major) is NaN".
     */
    public static void requireFinite(String owner, String kind, List<String> names, List<int[]> shapes,
            List<HostTensor> values) {
        requireFinite(owner, kind, names, shapes, values, Double.MAX_VALUE);
    }

    /**
     * As above, for an engine whose precision holds magnitudes up to {@code largest} ({@link
     * Float#MAX_VALUE} for float32): a larger element would become ±Inf there, so it is refused too.
     */
    public static void requireFinite(String owner, String kind, List<String> names, List<int[]> shapes,
            List<HostTensor> values, double largest) {
        if (values == null || values.size() != shapes.size()) {
            throw new IllegalArgumentException(owner + " has " + shapes.size() + " " + kind + " tensors, got "
                    + (values == null ? "null" : values.size()));
        }
        for (int i = 0; i < shapes.size(); i++) {
            if (values.get(i) == null || !Arrays.equals(shapes.get(i), values.get(i).shape())) {
                throw new IllegalArgumentException(kind + " " + names.get(i) + " must have shape "
                        + Arrays.toString(shapes.get(i)) + ", got "
                        + (values.get(i) == null ? "null" : Arrays.toString(values.get(i).shape())));
            }
        }
        for (int i = 0; i < shapes.size(); i++) {
            double[] v = values.get(i).values();
            for (int j = 0; j < v.length; j++) {
                if (!Double.isFinite(v[j])) {
                    throw new IllegalArgumentException(kind + " " + names.get(i) + " element " + j
                            + " (row-major) is " + v[j] + ": it must be a finite number");
                }
                if (Math.abs(v[j]) > largest) {
                    throw new IllegalArgumentException(kind + " " + names.get(i) + " element " + j + " (row-major) is "
                            + v[j] + ": the engine's precision holds magnitudes up to " + largest
                            + (largest == Float.MAX_VALUE ? " (float32)" : ""));
                }
            }
        }
    }
}
