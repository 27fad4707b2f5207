package io.github.agnosticsam.spi;

/**
 * The summary vector of a step that has been run or queued. Reading it is the one host
 * synchronisation of a step; an engine may compute it lazily.
 */
@FunctionalInterface
public interface StepSummary {
    double[] read();
}
