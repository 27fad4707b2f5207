package io.github.agnosticsam.spi;

import java.util.Arrays;

/** One optimizer-state tensor: its shape and the value every element starts at. */
public record StateSlot(int[] shape, double initialValue) {
    public StateSlot {
        shape = shape.clone();
    }

    @Override
    public int[] shape() {
        return shape.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof StateSlot s && Arrays.equals(shape, s.shape)
                && Double.compare(initialValue, s.initialValue) == 0;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(shape) * 31 + Double.hashCode(initialValue);
    }

    @Override
    public String toString() {
        return "StateSlot" + Arrays.toString(shape) + "=" + initialValue;
    }
}
