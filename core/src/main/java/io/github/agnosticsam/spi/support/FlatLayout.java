package io.github.agnosticsam.spi.support;

import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.spi.StateSlot;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Where each parameter tensor lies in flat storage: one segment per tensor, in the model's order,
 * each flattened row-major (see {@link io.github.agnosticsam.spi.StepProgram#defineFlat}). The one
 * home of that rule: the support layer and engines convert between the per-tensor API and a flat
 * vector with it, and group optimizer state into one vector per kind.
 *
 * <p>An engine may align the segments: each then ends in zeros up to a multiple of the alignment
 * (so that the vector viewed as rows of that width has no row shared by two tensors). The zeros
 * stay zero under the core's optimizers — their gradient is 0, as nothing reads them — and never
 * leave the engine: {@link #split} drops them, {@link #join} writes them.
 */
public final class FlatLayout {
    private final List<int[]> shapes;
    private final int[] sizes;
    private final int[] lengths;
    private final int[] offsets;
    private final int size;

    /** The layout of tensors of these shapes, one after another; their total size must fit an int. */
    public FlatLayout(List<int[]> shapes) {
        this(shapes, 1);
    }

    /** The same, each segment padded with zeros to a multiple of {@code alignment} elements. */
    public FlatLayout(List<int[]> shapes, int alignment) {
        if (alignment < 1) {
            throw new IllegalArgumentException("alignment must be >= 1, got " + alignment);
        }
        this.shapes = shapes.stream().map(int[]::clone).toList();
        this.sizes = new int[shapes.size()];
        this.lengths = new int[shapes.size()];
        this.offsets = new int[shapes.size()];
        long total = 0;
        for (int i = 0; i < lengths.length; i++) {
            offsets[i] = (int) total;
            sizes[i] = Math.toIntExact(HostTensor.size(shapes.get(i)));
            lengths[i] = Math.toIntExact((sizes[i] + (long) alignment - 1) / alignment * alignment);
            total += lengths[i];
            if (total > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException("flat storage holds at most " + (Integer.MAX_VALUE - 8)
                        + " elements; these tensors have more");
            }
        }
        this.size = (int) total;
    }

    /** The number of elements of each segment (its tensor's and any padding), in order. */
    public int[] lengths() {
        return lengths.clone();
    }

    /** The number of elements of tensor {@code i}, its segment's padding aside. */
    public int tensorSize(int i) {
        return sizes[i];
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
            System.arraycopy(tensors.get(i).values(), 0, out, offsets[i], sizes[i]);
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
                    offsets[i] + sizes[i])));
        }
        return out;
    }

    /**
     * State values as flat storage keeps them: K·P values, kind-major (see {@link #kinds}), as K
     * vectors, slots kP … kP+P−1 joined into vector k.
     */
    public List<HostTensor> joinKinds(List<HostTensor> values) {
        int p = lengths.length;
        List<HostTensor> out = new ArrayList<>(values.size() / p);
        for (int k = 0; k < values.size() / p; k++) {
            out.add(join(values.subList(k * p, (k + 1) * p)));
        }
        return out;
    }

    /** The other way: each kind's vector split into its P values, kind-major. */
    public List<HostTensor> splitKinds(List<HostTensor> kinds) {
        List<HostTensor> out = new ArrayList<>(kinds.size() * lengths.length);
        for (HostTensor kind : kinds) {
            out.addAll(split(kind));
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
