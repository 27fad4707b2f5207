package io.github.agnosticsam.spi;

import java.util.List;

/**
 * What a traced step produces: the parameters and optimizer state to store, and the summary vector
 * that the caller may read back (see {@link StepProgram} for its layout).
 */
public record StepOutput<T>(List<T> parameters, List<T> state, T summary) {
    public StepOutput {
        parameters = List.copyOf(parameters);
        state = List.copyOf(state);
    }
}
