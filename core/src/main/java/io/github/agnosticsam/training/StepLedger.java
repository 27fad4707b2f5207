package io.github.agnosticsam.training;

import io.github.agnosticsam.optim.Adam;
import io.github.agnosticsam.spi.StateSlot;
import io.github.agnosticsam.spi.StepProgram;
import io.github.agnosticsam.spi.StepSummary;
import io.github.agnosticsam.spi.SummaryLayout;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;

/**
 * The bookkeeping of a run of steps that every driver shares ({@link Training}, and engine
 * integrations that bring their own batches, such as DJL's Trainer): the schedule values of the
 * next step, the lazy {@link StepResult}s, the bad-value policy and the count of skipped steps.
 */
public final class StepLedger {
    /** Results not read yet; resolved now and then so the skip counter stays current. */
    private static final int MAX_PENDING = 32;

    private final StepProgram program;
    private final List<String> parameterNames;
    private final BadValuePolicy policy;
    private final List<String> stateNames;
    private final SummaryLayout layout;
    private final int replicas;
    private final OneCaller caller = new OneCaller();
    private final Deque<StepResult> pending = new ArrayDeque<>();
    private long steps;
    private long skipped;

    /**
     * For a program whose summary is laid out as {@link SummaryLayout} says, on a model with these
     * parameter names and shapes; anything the program appends after the update flags is not read.
     */
    public StepLedger(StepProgram program, List<String> parameterNames, List<int[]> parameterShapes,
            BadValuePolicy policy) {
        this(program, parameterNames, parameterShapes, policy, 1);
    }

    /** For one replica of a data-parallel run of {@code replicas} (its summary has their verdicts). */
    public StepLedger(StepProgram program, List<String> parameterNames, List<int[]> parameterShapes,
            BadValuePolicy policy, int replicas) {
        if (program == null || parameterNames == null || parameterShapes == null || policy == null) {
            throw new IllegalArgumentException("program, parameter names and shapes and policy must not be null");
        }
        this.program = program;
        this.parameterNames = List.copyOf(parameterNames);
        this.policy = policy;
        this.stateNames = StateSlot.names(program.state(parameterShapes));
        this.layout = SummaryLayout.of(program, parameterShapes, replicas);
        this.replicas = replicas;
    }

    /**
     * The scalar inputs of the next step, checked (IllegalArgumentException before anything runs).
     * A program that counts applied steps (Adam) first learns the outcome of the pending steps.
     */
    public double[] nextScalars() {
        if (!program.countsAppliedSteps()) {
            return program.scalars(steps);
        }
        return program.scalars(steps, appliedSteps());
    }

    /**
     * Records a step that has been run.
     *
     * @throws NonFiniteStepException with policy THROW, when the step met a non-finite value
     */
    public StepResult record(StepSummary summary) {
        StepResult result = new StepResult(steps, program.passes(), parameterNames, stateNames, layout, summary);
        steps++;
        if (policy == BadValuePolicy.THROW) {
            countIfSkipped(result);
            if (!result.applied()) {
                throw new NonFiniteStepException(result);
            }
        } else {
            pending.addLast(result);
            if (pending.size() > MAX_PENDING) {
                countIfSkipped(pending.removeFirst());
            }
        }
        return result;
    }

    /**
     * Runs one step of a driver alone: a second thread entering while a step runs gets an
     * IllegalStateException at once, naming {@code what} (the step that runs is not disturbed).
     */
    public <R> R alone(String what, java.util.function.Supplier<R> step) {
        return caller.alone(what, step);
    }

    /**
     * Steps recorded so far, applied or not: the next step's schedule index. A schedule counts
     * every step so that its values never depend on data (a skipped step does not stretch it).
     */
    public long steps() {
        return steps;
    }

    /** Steps applied so far (Adam's t). Reads every pending result. */
    public long appliedSteps() {
        return steps - skippedSteps();
    }

    /** Steps not applied because of a non-finite value. Reads every pending result. */
    public long skippedSteps() {
        while (!pending.isEmpty()) {
            countIfSkipped(pending.removeFirst());
        }
        return skipped;
    }

    public StepProgram program() {
        return program;
    }

    /** The replicas of the run: 1 alone. */
    public int replicas() {
        return replicas;
    }

    /**
     * Sets the counters to a checkpoint's: {@code steps} run, {@code skipped} of them not applied.
     * Pending results are dropped (they belong to the run being replaced).
     */
    public void restore(long steps, long skipped) {
        if (steps < 0 || skipped < 0 || skipped > steps) {
            throw new IllegalArgumentException("step counters must satisfy 0 <= skipped <= steps, got steps " + steps
                    + ", skipped " + skipped);
        }
        pending.clear();
        this.steps = steps;
        this.skipped = skipped;
    }

    private void countIfSkipped(StepResult result) {
        if (!result.applied()) {
            skipped++;
        }
    }
}
