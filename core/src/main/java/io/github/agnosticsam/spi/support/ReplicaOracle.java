package io.github.agnosticsam.spi.support;

import io.github.agnosticsam.spi.Collective;
import io.github.agnosticsam.spi.GradientOracle;
import java.util.List;

/**
 * The gradient oracle of a step that runs alone or as one replica of {@code group}: its replicas
 * and rank are the group's, and its reduce point is the engine's {@link #reduce} with the group
 * (alone, the tensors as they are). An engine supplies {@link #evaluate} and {@link #reduce}.
 */
public abstract class ReplicaOracle<T> implements GradientOracle<T> {
    private final Collective group;

    /** {@code group} null: the step runs alone. */
    protected ReplicaOracle(Collective group) {
        this.group = group;
    }

    /**
     * The reduce point with the group: {@code tensors} and the moved running statistics summed over
     * the replicas in one {@link Collective#allReduceSum}, the statistics then held as their means.
     */
    protected abstract List<T> reduce(List<T> tensors, Collective group);

    @Override
    public final int replicas() {
        return group == null ? 1 : group.size();
    }

    @Override
    public final int rank() {
        return group == null ? 0 : group.rank();
    }

    @Override
    public final List<T> allReduceSum(List<T> tensors) {
        return group == null ? tensors : reduce(tensors, group);
    }
}
