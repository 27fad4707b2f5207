package io.github.agnosticsam.spi;

import java.util.List;

/**
 * Loss and gradients of the network at given parameter values, on the step's train or validation
 * batch as the pass says. The values may be the network's own parameters or perturbed copies;
 * the oracle must leave the network's parameters as they were (a perturbed evaluation leaves no
 * trace). It must honour {@link Pass#updatesRunningStatistics()}.
 */
@FunctionalInterface
public interface GradientOracle<T> {
    LossAndGradients<T> evaluate(List<T> parameters, Pass pass);
}
