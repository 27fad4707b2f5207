package io.github.agnosticsam.optim;

/** An optimizer that turns one gradient into a parameter update, with torch.optim semantics. */
public sealed interface BaseOptimizer extends Optimizer permits Sgd, Adam {

    Schedule lr();

    @Override
    default int gradientEvaluations() {
        return 1;
    }
}
