package io.github.agnosticsam.spi;

import java.util.List;

/**
 * Where each value lies in the summary vector of a step: the loss of each pass (in {@link
 * StepProgram#passes()} order); then, pass by pass, a flag per parameter: the number of replicas on
 * which its gradient was finite (1/0 for a step run alone); then a 1/0 flag per parameter and per
 * optimizer-state tensor (1: its new value was finite); then, for a data-parallel step of N > 1
 * replicas, each replica's verdict (1: its losses and gradients were all finite). The losses of
 * a data-parallel step are the means over the replicas. The core's programs {@link #write} it and a
 * step's result reads it, so the order has this one home; a program of your own follows it to have
 * its steps read by {@code Training}.
 */
public record SummaryLayout(int passes, int parameters, int stateTensors, int replicas) {
    public SummaryLayout {
        if (passes < 1 || parameters < 0 || stateTensors < 0 || replicas < 1) {
            throw new IllegalArgumentException("a summary needs at least one pass and one replica and no negative "
                    + "count, got " + passes + " passes, " + parameters + " parameters, " + stateTensors
                    + " state tensors, " + replicas + " replicas");
        }
    }

    /** The layout of a step run alone. */
    public SummaryLayout(int passes, int parameters, int stateTensors) {
        this(passes, parameters, stateTensors, 1);
    }

    /** The layout of a program's summary on a model with these parameter shapes, run alone. */
    public static SummaryLayout of(StepProgram program, List<int[]> parameterShapes) {
        return of(program, parameterShapes, 1);
    }

    /** The layout of a program's summary on a model with these parameter shapes, among {@code replicas}. */
    public static SummaryLayout of(StepProgram program, List<int[]> parameterShapes, int replicas) {
        return new SummaryLayout(program.passes().size(), parameterShapes.size(),
                program.state(parameterShapes).size(), replicas);
    }

    /** The summary: the losses, the gradient flags and the update flags, each a vector, one after another. */
    public static <T> T write(Tensors<T> ops, T losses, T gradientFlags, T updateFlags) {
        return ops.concat(List.of(losses, gradientFlags, updateFlags));
    }

    /** The summary of a data-parallel step: as {@link #write(Tensors, Object, Object, Object)}, then the verdicts. */
    public static <T> T write(Tensors<T> ops, T losses, T gradientFlags, T updateFlags, T verdicts) {
        return ops.concat(List.of(losses, gradientFlags, updateFlags, verdicts));
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

    /** Where replica {@code replica}'s verdict lies (a data-parallel step only). */
    public int verdict(int replica) {
        if (replicas == 1) {
            throw new IllegalStateException("a step run alone has no verdicts");
        }
        return updateFlag(updateFlags()) + replica;
    }

    /** The length of the whole summary. */
    public int size() {
        return updateFlag(updateFlags()) + (replicas == 1 ? 0 : replicas);
    }
}
