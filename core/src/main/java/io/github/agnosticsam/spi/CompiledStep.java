package io.github.agnosticsam.spi;

import io.github.agnosticsam.model.Batch;
import io.github.agnosticsam.model.HostTensor;
import java.util.List;

/**
 * A {@link StepProgram} prepared on one network, with its own optimizer state (initialised from
 * {@link StepProgram#state}). Not thread-safe.
 */
public interface CompiledStep extends AutoCloseable {

    /**
     * Runs one step: evaluates the program on the batches (validation is null when the program has
     * no validation pass) with the given scalar inputs and stores the parameters and state it
     * returns. Returns before the summary is read.
     */
    StepSummary run(Batch train, Batch validation, double[] scalars);

    /** Copies the optimizer state to Java memory. */
    List<HostTensor> state();

    /**
     * Overwrites the optimizer state (a checkpoint's), one tensor per {@link StepProgram#state}
     * slot with its shape, every element finite; anything else is an IllegalArgumentException and
     * nothing changes ({@link StateSlot#checkValues} is that check).
     */
    void setState(List<HostTensor> values);

    /**
     * The engine operations one run issues: the figure that predicts a step's launch overhead on a
     * GPU, where every operation costs a launch however small it is. What counts as one is the
     * engine's (its implementation says); -1 when it does not count them, or not yet.
     */
    default long operationsPerStep() {
        return -1;
    }

    @Override
    void close();
}
