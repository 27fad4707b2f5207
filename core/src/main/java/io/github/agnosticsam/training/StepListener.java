package io.github.agnosticsam.training;

/**
 * Told of every step of a {@link Training} (or a {@link DataParallelTraining}: its replica 0's
 * result) once the step has run, on the thread that called {@code step}. Reading the result's loss
 * is the step's host synchronisation: a listener that logs every N steps reads only those.
 * An exception from a listener reaches the caller of {@code step}; the step itself has happened.
 */
@FunctionalInterface
public interface StepListener {
    void afterStep(StepResult result);
}
