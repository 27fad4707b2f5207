package io.github.agnosticsam.spi;

import java.util.List;

/**
 * One training step written over the abstract algebra: the core's optimizers are step programs,
 * and an engine runs any of them without knowing which. An eager engine calls {@link #define} at
 * every step with real tensors; a graph engine calls it once with symbolic ones and then runs
 * the graph once per step.
 *
 * <p>Per-step values (the learning rate of a schedule, a scheduled ρ) are the program's scalar
 * inputs: the engine feeds {@code scalars(step)} as tensors, so a graph is traced only once.
 *
 * <p>The summary of the core's programs is laid out as {@link SummaryLayout} says. The engine
 * stores the returned parameters and state as they are, and commits running statistics only where
 * {@link StepOutput#applied()} says the step was applied.
 */
public interface StepProgram {

    /** The gradient evaluations of one step, in order. Its size is the step's cost. */
    List<Pass> passes();

    /** The optimizer-state tensors, given the network's parameter shapes. */
    List<StateSlot> state(List<int[]> parameterShapes);

    /** The scalar inputs of step {@code step} (0 for the first step), as if every step were applied. */
    double[] scalars(long step);

    /**
     * The scalar inputs of step {@code step} when {@code appliedSteps} of the steps before it were
     * applied (Adam's bias corrections count only applied steps). The default ignores it.
     */
    default double[] scalars(long step, long appliedSteps) {
        return scalars(step);
    }

    /**
     * Whether {@link #scalars(long, long)} reads {@code appliedSteps}: the driver then learns
     * whether the previous step was applied before it runs the next one.
     */
    default boolean countsAppliedSteps() {
        return false;
    }

    /**
     * The step: reads {@code parameters}, {@code state} and {@code scalars} (each scalar a rank-0
     * tensor) and returns the new parameters and state plus the summary.
     */
    <T> StepOutput<T> define(Tensors<T> ops, GradientOracle<T> oracle, List<T> parameters, List<T> state,
            List<T> scalars);

    /**
     * Whether {@link #defineFlat} is implemented: the program treats parameters, gradients and state
     * element by element and through sums over all of them, never one tensor apart from the others.
     * The core's optimizers do.
     */
    default boolean supportsFlatStorage() {
        return false;
    }

    /**
     * The step on flat storage, for an engine that keeps all parameters of a network in one
     * vector so that a step costs a fixed number of operations, whatever the number of tensors.
     * {@code parameters} holds every parameter tensor, each flattened row-major, in the model's
     * order, and {@code segments} their sizes; the oracle takes a list of one such vector and
     * returns the gradient as one such vector. {@code state} holds one vector per kind of state: when
     * {@link #state} has K·P slots for P parameters — K kinds, kind-major, slot kP+i shaped like
     * parameter i, as the core's optimizers have — vector k is slots kP … kP+P−1 one after another.
     * The summary is {@link #define}'s, flags per parameter and per state slot included ({@link
     * Tensors#allFiniteSegments}); the output holds one parameter vector and K state vectors.
     *
     * @throws UnsupportedFeatureException unless {@link #supportsFlatStorage()}
     */
    default <T> StepOutput<T> defineFlat(Tensors<T> ops, GradientOracle<T> oracle, T parameters, int[] segments,
            List<T> state, List<T> scalars) {
        throw new UnsupportedFeatureException("this step program (" + getClass().getName()
                + ") does not run on flat storage");
    }

    /**
     * The program's configuration as JSON values (maps, lists, strings, numbers, booleans), which a
     * checkpoint records and compares on restore; empty when the program cannot describe itself
     * (checkpoints of it are then refused).
     */
    default java.util.Optional<java.util.Map<String, Object>> configuration() {
        return java.util.Optional.empty();
    }

    /** Whether any pass reads the validation batch. */
    default boolean usesValidationBatch() {
        return passes().stream().anyMatch(Pass::usesValidationBatch);
    }
}
