package io.github.agnosticsam.spi;

import io.github.agnosticsam.HostTensor;
import io.github.agnosticsam.internal.Require;
import java.util.Arrays;
import java.util.List;

/**
 * One optimizer-state tensor: its name (what a checkpoint calls it, e.g. {@code momentum.0} for
 * the momentum buffer of parameter 0), its shape and the value every element starts at.
 */
public record StateSlot(String name, int[] shape, double initialValue) {
    public StateSlot {
        shape = shape.clone();
    }

    /**
     * An unnamed slot (SPI 1.0): a checkpoint calls it {@code slot<i>} after its place in the list.
     */
    public StateSlot(int[] shape, double initialValue) {
        this(null, shape, initialValue);
    }

    /** The names of these slots in order, an unnamed one called {@code slot<i>}. */
    public static List<String> names(List<StateSlot> slots) {
        List<String> names = new java.util.ArrayList<>();
        for (int i = 0; i < slots.size(); i++) {
            names.add(slots.get(i).name() == null ? "slot" + i : slots.get(i).name());
        }
        return names;
    }

    /**
     * The check of {@link CompiledStep#setState}, for every engine: one finite tensor per slot, of its
     * shape; an IllegalArgumentException names the first slot (and element) that does not fit.
     */
    public static void checkValues(List<StateSlot> slots, List<HostTensor> values) {
        Require.finiteTensors("this step", "optimizer-state", names(slots),
                slots.stream().map(StateSlot::shape).toList(), values);
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
        return o instanceof StateSlot s && java.util.Objects.equals(name, s.name) && Arrays.equals(shape, s.shape)
                && Double.compare(initialValue, s.initialValue) == 0;
    }

    @Override
    public int hashCode() {
        return (java.util.Objects.hashCode(name) * 31 + Arrays.hashCode(shape)) * 31 + Double.hashCode(initialValue);
    }

    @Override
    public String toString() {
        return "StateSlot " + (name == null ? "" : name) + Arrays.toString(shape) + "=" + initialValue;
    }
}
