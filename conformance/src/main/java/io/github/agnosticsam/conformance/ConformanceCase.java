package io.github.agnosticsam.conformance;

import io.github.agnosticsam.Batch;
import io.github.agnosticsam.HostTensor;
import io.github.agnosticsam.ModelSpec;
import io.github.agnosticsam.Optimizer;
import java.util.List;

/**
 * One conformance case (spec/conformance-case.md): a model, its initial parameters, an optimizer,
 * batches, and the expected loss and parameters after every step.
 */
public record ConformanceCase(String name, ModelSpec.Mlp model, List<HostTensor> initialParams,
        Optimizer optimizer, List<Step> steps, List<Expected> expected, Tolerance tolerance) {

    public ConformanceCase {
        initialParams = List.copyOf(initialParams);
        steps = List.copyOf(steps);
        expected = List.copyOf(expected);
    }

    /** The batches of one step; {@code validation} is null unless the optimizer is Agnostic-SAM. */
    public record Step(Batch train, Batch validation) {
    }

    /** After a step: the train loss before it (pass 1) and the parameters after it. */
    public record Expected(double loss, List<HostTensor> params) {
        public Expected {
            params = List.copyOf(params);
        }
    }

    /** A value passes when |actual − expected| ≤ abs + rel·|expected|. */
    public record Tolerance(double abs, double rel) {
        public static final Tolerance DEFAULT = new Tolerance(2e-6, 2e-5);

        /** The error as a fraction of the allowance: ≤ 1 passes; NaN actual values give +Inf. */
        public double ratio(double actual, double expected) {
            double r = Math.abs(actual - expected) / (abs + rel * Math.abs(expected));
            return Double.isNaN(r) ? Double.POSITIVE_INFINITY : r;
        }
    }
}
