package io.github.agnosticsam.spi;

import java.util.List;

/**
 * Loss and gradients of the network at given parameter values, on the step's train or validation
 * batch as the pass says. The values may be the network's own parameters or perturbed copies;
 * the oracle must leave the network's parameters as they were (a perturbed evaluation leaves no
 * trace). It must honour {@link Pass#updatesRunningStatistics()}.
 *
 * <p>In a data-parallel step (docs/algorithm.md, "Data-parallel steps") it is also the reduce
 * point: {@link #replicas()} replicas each run the program on their shard, and {@link
 * #allReduceSum} is where they meet, once per step.
 */
@FunctionalInterface
public interface GradientOracle<T> {
    LossAndGradients<T> evaluate(List<T> parameters, Pass pass);

    /** The number of replicas this step runs among: 1 when it runs alone (then nothing is reduced). Since SPI 1.1. */
    default int replicas() {
        return 1;
    }

    /** This replica's place among {@link #replicas()}, from 0. Since SPI 1.1. */
    default int rank() {
        return 0;
    }

    /**
     * The reduce point of a data-parallel step: {@code tensors} summed element by element over the
     * replicas, in rank order, same shapes — taken in one all-reduce together with the running
     * statistics this step's clean pass moved, which the engine then holds averaged over the
     * replicas and commits under the usual rule. A program run as a replica calls it exactly once per
     * step, after its last pass (an engine refuses one that does not, with an
     * UnsupportedFeatureException: its replicas would go their own ways); every replica calls it with
     * tensors of the same shapes. Alone it returns {@code tensors} as they are. Since SPI 1.1.
     *
     * @throws UnsupportedFeatureException when an engine that runs replicas does not implement it
     */
    default List<T> allReduceSum(List<T> tensors) {
        if (replicas() == 1) {
            return tensors;
        }
        throw new UnsupportedFeatureException("this engine's gradient oracle (" + getClass().getName()
                + ") runs " + replicas() + " replicas but has no reduce point");
    }
}
