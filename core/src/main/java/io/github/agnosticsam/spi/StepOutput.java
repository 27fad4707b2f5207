package io.github.agnosticsam.spi;

import java.util.List;

/**
 * What a traced step produces: the parameters and optimizer state to store, the summary vector
 * that the caller may read back (see {@link StepProgram} for its layout), and {@code applied}: a
 * scalar tensor, 1 when the step is applied and 0 when it is not (a bad value). The engine
 * commits the running statistics of the clean train pass only where {@code applied} is 1; the
 * parameters and state the program returns are already guarded.
 */
public record StepOutput<T>(List<T> parameters, List<T> state, T summary, T applied) {
    public StepOutput {
        if (parameters == null || state == null || summary == null || applied == null) {
            throw new IllegalArgumentException("a step output needs parameters, state, a summary and the applied flag");
        }
        parameters = List.copyOf(parameters);
        state = List.copyOf(state);
    }
}
