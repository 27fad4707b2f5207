package io.github.agnosticsam.spi.support;

import io.github.agnosticsam.HostTensor;
import io.github.agnosticsam.spi.StateSlot;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Where each parameter tensor lies in flat storage: one segment per tensor, in the model's order,
 * each flattened row-major (see {@link io.github.agnosticsam.spi.StepProgram#defineFlat}). The one
 * home of that rule: the support layer and engines convert between the per-tensor API and a flat
 * vector with it, and group optimizer state into one vector per kind.
 */
public final class FlatLayout {
    private final List<int[]> shapes;
    private final int[] lengths;
    private final int[] offsets;
    private final int size;

    /** The layout of tensors of these shapes; their total size must fit an int. */
    public FlatLayout(List<int[]> shapes) {
        this.shapes = shapes.stream().map(int[]::clone).toList();
        this.lengths = new int[shapes.size()];
        this.offsets = new int[shapes.size()];
        long total = 0;
        for (int i = 0; i < lengths.length; i++) {
            offsets[i] = (int) total;
            lengths[i] = Math.toIntExact(HostTensor.size(shapes.get(i)));
            total += lengths[i];
            if (total > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException("flat storage holds at most " + (Integer.MAX_VALUE - 8)
                        + " elements; these tensors have more");
            }
        }
        this.size = (int) total;
    }

    /** The number of elements of each segment, in order. */
    public int[] lengths() {
        return lengths.clone();
    }

    /** Where segment {@code i} starts. */
    public int offset(int i) {
        return offsets[i];
    }

    /** The shape of segment {@code i}'s tensor. */
    public int[] shape(int i) {
        return shapes.get(i).clone();
    }

    /** The number of segments. */
    public int segments() {
        return lengths.length;
    }

    /** The number of elements of the flat vector. */
    public int size() {
        return size;
    }

    /** One vector of tensors shaped as this layout says (the caller has checked the shapes). */
    public HostTensor join(List<HostTensor> tensors) {
        double[] out = new double[size];
        for (int i = 0; i < lengths.length; i++) {
            System.arraycopy(tensors.get(i).values(), 0, out, offsets[i], lengths[i]);
        }
        return new HostTensor(new int[] {size}, out);
    }

    /** The tensors of a flat vector. */
    public List<HostTensor> split(HostTensor flat) {
        if (flat.size() != size) {
            throw new IllegalArgumentException("a flat vector of this layout has " + size + " elements, got "
                    + flat.size());
        }
        List<HostTensor> out = new ArrayList<>(lengths.length);
        for (int i = 0; i < lengths.length; i++) {
            out.add(new HostTensor(shapes.get(i), Arrays.copyOfRange(flat.values(), offsets[i],
                    offsets[i] + lengths[i])));
        }
        return out;
    }

    /**
     * How many vectors of state {@code slots} make on flat storage: K when they are K kinds of one slot
     * per segment, kind-major, each shaped like its segment's tensor; -1 when they are not, and the
     * state cannot be flat.
     */
    public int kinds(List<StateSlot> slots) {
        int p = lengths.length;
        if (p == 0 || slots.size() % p != 0) {
            return -1;
        }
        for (int j = 0; j < slots.size(); j++) {
            if (!Arrays.equals(slots.get(j).shape(), shapes.get(j % p))) {
                return -1;
            }
        }
        return slots.size() / p;
    }
}
