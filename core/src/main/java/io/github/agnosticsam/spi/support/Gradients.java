package io.github.agnosticsam.spi.support;

import java.util.List;

/**
 * What one gradient evaluation of an {@link EagerNetwork} returns: the mean loss (a scalar), the
 * gradient of every parameter, and the running statistics the pass moved them to — empty unless
 * the pass {@link io.github.agnosticsam.spi.Pass#updatesRunningStatistics() updates running
 * statistics} and the model has them.
 */
public record Gradients<T>(T loss, List<T> gradients, List<T> statistics) {
    public Gradients {
        gradients = List.copyOf(gradients);
        statistics = List.copyOf(statistics);
    }

    /** For a model without running statistics. */
    public Gradients(T loss, List<T> gradients) {
        this(loss, gradients, List.of());
    }
}
