package io.github.agnosticsam;

import java.util.Arrays;

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
}
