package io.github.agnosticsam.conformance;

import io.github.agnosticsam.model.Batch;
import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.model.ModelSpec;
import io.github.agnosticsam.optim.Optimizer;
import java.util.List;
import java.util.Optional;

/**
 * One conformance case (docs/conformance-case.md): a model, its initial parameters and running
 * statistics, an optimizer, batches, the expected loss, parameters and running statistics after
 * every step (of the data-parallel step of {@code replicas} when more than one), and optionally what {@link io.github.agnosticsam.spi.Network#evaluate} gives after the
 * last step.
 *
 * @param initialStatistics the running statistics the model starts with, in the order of
 *     {@link ModelSpec#statisticNames()}; empty for a model without them
 * @param evaluation the check after the last step, if the case has one
 * @param replicas the replicas of a data-parallel step, each taking its shard of every batch (1: alone)
 */
public record ConformanceCase(String name, ModelSpec model, List<HostTensor> initialParams,
        List<HostTensor> initialStatistics, Optimizer optimizer, List<Step> steps, List<Expected> expected,
        Optional<FinalEvaluation> evaluation, Tolerance tolerance, int replicas) {

    public ConformanceCase {
        if (replicas < 1) {
            throw new IllegalArgumentException("replicas must be >= 1, got " + replicas);
        }
        if (name == null || model == null || optimizer == null || evaluation == null || tolerance == null) {
            throw new IllegalArgumentException("name, model, optimizer, evaluation (Optional.empty() for none) and "
                    + "tolerance must not be null");
        }
        initialParams = List.copyOf(initialParams);
        initialStatistics = List.copyOf(initialStatistics);
        steps = List.copyOf(steps);
        expected = List.copyOf(expected);
        if (steps.size() != expected.size()) {
            throw new IllegalArgumentException(steps.size() + " steps but " + expected.size() + " expected results");
        }
    }

    /** A case of one replica (format version 2). */
    public ConformanceCase(String name, ModelSpec model, List<HostTensor> initialParams,
            List<HostTensor> initialStatistics, Optimizer optimizer, List<Step> steps, List<Expected> expected,
            Optional<FinalEvaluation> evaluation, Tolerance tolerance) {
        this(name, model, initialParams, initialStatistics, optimizer, steps, expected, evaluation, tolerance, 1);
    }

    /**
     * A case of format version 1: running statistics (if the model has any) start at
     * {@link ModelSpec#initialStatistics()}, and there is no evaluation.
     */
    public ConformanceCase(String name, ModelSpec model, List<HostTensor> initialParams, Optimizer optimizer,
            List<Step> steps, List<Expected> expected, Tolerance tolerance) {
        this(name, model, initialParams, model.initialStatistics(), optimizer, steps, expected, Optional.empty(),
                tolerance);
    }

    /** The batches of one step; {@code validation} is null unless the optimizer is Agnostic-SAM. */
    public record Step(Batch train, Batch validation) {
    }

    /**
     * After a step: the train loss before it (pass 1), the parameters after it, and the running
     * statistics after it (in the order of {@link ModelSpec#statisticNames()}; empty for a model
     * without them).
     */
    public record Expected(double loss, List<HostTensor> params, List<HostTensor> statistics) {
        public Expected {
            params = List.copyOf(params);
            statistics = List.copyOf(statistics);
        }

        /** For a model without running statistics. */
        public Expected(double loss, List<HostTensor> params) {
            this(loss, params, List.of());
        }
    }

    /**
     * After the last step, {@code Network.evaluate(batch)} gives {@code loss} (within the case's
     * tolerance) and exactly {@code correct} correct argmax predictions.
     */
    public record FinalEvaluation(Batch batch, double loss, int correct) {
        public FinalEvaluation {
            if (batch == null) {
                throw new IllegalArgumentException("the evaluation batch must not be null");
            }
            if (correct < 0 || correct > batch.size()) {
                throw new IllegalArgumentException("correct must be in [0, " + batch.size() + "], got " + correct);
            }
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
