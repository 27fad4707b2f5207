package io.github.agnosticsam.spi;

import java.util.List;

/**
 * Where each value lies in the summary vector of a step: the loss of each pass (in {@link
 * StepProgram#passes()} order); then, pass by pass, a 1/0 flag per parameter (1: its gradient was
 * finite); then a 1/0 flag per parameter and per optimizer-state tensor (1: its new value was
 * finite). The core's programs {@link #write} it and a step's result reads it, so the order has
 * this one home; a program of your own follows it to have its steps read by {@code Training}.
 */
public record SummaryLayout(int passes, int parameters, int stateTensors) {
    public SummaryLayout {
        if (passes < 1 || parameters < 0 || stateTensors < 0) {
            throw new IllegalArgumentException("a summary needs at least one pass and no negative count, got "
                    + passes + " passes, " + parameters + " parameters, " + stateTensors + " state tensors");
        }
    }

    /** The layout of a program's summary on a model with these parameter shapes. */
    public static SummaryLayout of(StepProgram program, List<int[]> parameterShapes) {
        return new SummaryLayout(program.passes().size(), parameterShapes.size(),
                program.state(parameterShapes).size());
    }

    /** The summary: the losses, the gradient flags and the update flags, each a vector, one after another. */
    public static <T> T write(Tensors<T> ops, T losses, T gradientFlags, T updateFlags) {
        return ops.concat(List.of(losses, gradientFlags, updateFlags));
    }

    /** Where the loss of pass {@code pass} (from 0) lies. */
    public int loss(int pass) {
        return pass;
    }

    /** Where the flag of parameter {@code parameter}'s gradient in pass {@code pass} lies. */
    public int gradientFlag(int pass, int parameter) {
        return passes + pass * parameters + parameter;
    }

    /** Where the flag of updated tensor {@code tensor} lies: the parameters first, then the state tensors. */
    public int updateFlag(int tensor) {
        return passes + passes * parameters + tensor;
    }

    /** The number of update flags: one per parameter and per state tensor. */
    public int updateFlags() {
        return parameters + stateTensors;
    }

    /** The length of the whole summary. */
    public int size() {
        return updateFlag(updateFlags());
    }
}
