package io.github.agnosticsam.training;

import io.github.agnosticsam.spi.Pass;
import io.github.agnosticsam.spi.StepSummary;
import io.github.agnosticsam.spi.SummaryLayout;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The outcome of one step, read lazily: asking for a loss or whether the step was applied is
 * the host synchronisation of that step; the step count and its cost are known at once.
 */
public final class StepResult {
    private final long step;
    private final List<Pass> passes;
    private final List<String> parameterNames;
    private final List<String> stateNames;
    private final SummaryLayout layout;
    private StepSummary pending;
    private double[] summary;

    StepResult(long step, List<Pass> passes, List<String> parameterNames, List<String> stateNames,
            SummaryLayout layout, StepSummary pending) {
        this.step = step;
        this.passes = passes;
        this.parameterNames = parameterNames;
        this.stateNames = stateNames;
        this.layout = layout;
        this.pending = pending;
    }

    /** Index of this step in its training run, from 0. */
    public long step() {
        return step;
    }

    /** Gradient evaluations this step took. */
    public int gradientEvaluations() {
        return passes.size();
    }

    /** The train loss at the parameters before the step (pass 1); of a data-parallel step, the mean of its shards'. */
    public double loss() {
        return summary()[0];
    }

    /**
     * The loss of every pass in order: for Agnostic-SAM EXACT [train at θ, validation at θ,
     * validation at θᵥ, train at θ + e]. The last minus the first is the sharpness the step saw.
     */
    public double[] passLosses() {
        return Arrays.copyOf(summary(), layout.passes());
    }

    /** The passes of the step, in order. */
    public List<Pass> passes() {
        return passes;
    }

    public boolean applied() {
        return skipReason().isEmpty();
    }

    /**
     * Why the step was not applied: the first pass and parameter with a non-finite value, or the
     * first parameter or optimizer-state tensor that the update made non-finite.
     */
    public Optional<String> skipReason() {
        double[] s = summary();
        int n = parameterNames.size();
        String where = ""; // which replicas went bad; the pass and parameter below are the first among them all
        if (layout.replicas() > 1) {
            List<Integer> bad = new java.util.ArrayList<>();
            for (int r = 0; r < layout.replicas(); r++) {
                if (s[layout.verdict(r)] != 1) {
                    bad.add(r);
                }
            }
            if (!bad.isEmpty()) {
                where = (bad.size() == 1 ? "replica " : "replicas ")
                        + bad.stream().map(String::valueOf).collect(java.util.stream.Collectors.joining(", ")) + " of "
                        + layout.replicas() + " met a non-finite value; the first: ";
            }
        }
        for (int j = 0; j < layout.passes(); j++) {
            String pass = "pass " + (j + 1) + " (" + passes.get(j).describe() + ")";
            if (!Double.isFinite(s[layout.loss(j)])) {
                return Optional.of(where + pass + " loss is " + s[layout.loss(j)]);
            }
            for (int i = 0; i < n; i++) {
                if (s[layout.gradientFlag(j, i)] != layout.replicas()) {
                    return Optional.of(where + pass + " gradient of parameter " + parameterNames.get(i)
                            + " has a NaN or infinite value");
                }
            }
        }
        for (int i = 0; i < layout.updateFlags(); i++) {
            if (s[layout.updateFlag(i)] != 1) {
                return Optional.of(i < n ? "the update made parameter " + parameterNames.get(i) + " NaN or infinite"
                        : "the update made optimizer state " + stateNames.get(i - n) + " NaN or infinite");
            }
        }
        return Optional.empty();
    }

    private double[] summary() {
        if (summary == null) {
            double[] read = pending.read();
            if (read == null || read.length < layout.size()) {
                throw new IllegalStateException("step " + step + ": the program's summary has "
                        + (read == null ? "no values" : read.length + " values") + ", its layout needs at least "
                        + layout.size() + " (" + layout + ")");
            }
            summary = read;
            pending = null;
        }
        return summary;
    }

    @Override
    public String toString() {
        return "StepResult[step=" + step + ", gradientEvaluations=" + gradientEvaluations()
                + (summary == null ? ", pending]" : ", loss=" + loss() + ", applied=" + applied() + "]");
    }
}
