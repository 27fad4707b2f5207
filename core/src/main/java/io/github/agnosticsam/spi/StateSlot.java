package io.github.agnosticsam.spi;

import io.github.agnosticsam.model.HostTensor;
import java.util.Arrays;
import java.util.List;

/**
 * One optimizer-state tensor: its name (what a checkpoint calls it, e.g. {@code momentum.0} for
 * the momentum buffer of parameter 0), its shape and the value every element starts at.
 */
public record StateSlot(String name, int[] shape, double initialValue) {
    public StateSlot {
        if (name == null || name.isBlank() || shape == null) {
            throw new IllegalArgumentException("a state slot needs a name and a shape, got " + name + " "
                    + Arrays.toString(shape));
        }
        shape = shape.clone();
    }

    /** The names of these slots in order. */
    public static List<String> names(List<StateSlot> slots) {
        return slots.stream().map(StateSlot::name).toList();
    }

    /**
     * The check of {@link CompiledStep#setState}, for every engine: one finite tensor per slot, of its
     * shape, within the engine's precision ({@code largest}); an IllegalArgumentException names the
     * first slot (and element) that does not fit.
     */
    public static void checkValues(List<StateSlot> slots, List<HostTensor> values, double largest) {
        HostTensor.requireFinite("this step", "optimizer-state", names(slots),
                slots.stream().map(StateSlot::shape).toList(), values, largest);
    }

    /** The tensor this slot starts as: its shape, every element {@link #initialValue()}. */
    public HostTensor initial() {
        HostTensor value = HostTensor.zeros(shape);
        Arrays.fill(value.values(), initialValue);
        return value;
    }

    @Override
    public int[] shape() {
        return shape.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof StateSlot s && name.equals(s.name) && Arrays.equals(shape, s.shape)
                && Double.compare(initialValue, s.initialValue) == 0;
    }

    @Override
    public int hashCode() {
        return (name.hashCode() * 31 + Arrays.hashCode(shape)) * 31 + Double.hashCode(initialValue);
    }

    @Override
    public String toString() {
        return "StateSlot " + name + Arrays.toString(shape) + "=" + initialValue;
    }
}
