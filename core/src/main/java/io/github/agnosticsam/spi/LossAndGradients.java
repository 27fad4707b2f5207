package io.github.agnosticsam.spi;

import java.util.List;

/** What one gradient evaluation returns: the mean loss (a scalar) and ∂loss/∂θᵢ per parameter. */
public record LossAndGradients<T>(T loss, List<T> gradients) {
    public LossAndGradients {
        gradients = List.copyOf(gradients);
    }
}
