package io.github.agnosticsam.optim;

import io.github.agnosticsam.spi.Pass;
import java.util.List;

/** An optimizer that turns one gradient into a parameter update, with torch.optim semantics. */
public sealed interface BaseOptimizer extends Optimizer permits Sgd, Adam {

    Schedule lr();

    @Override
    default List<Pass> passes() {
        return List.of(Pass.TRAIN);
    }
}
