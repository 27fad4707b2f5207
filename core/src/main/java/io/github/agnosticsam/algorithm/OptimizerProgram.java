package io.github.agnosticsam.algorithm;

import io.github.agnosticsam.optim.Adam;
import io.github.agnosticsam.optim.AgnosticSam;
import io.github.agnosticsam.optim.BaseOptimizer;
import io.github.agnosticsam.optim.Optimizer;
import io.github.agnosticsam.optim.Sam;
import io.github.agnosticsam.optim.Schedule;
import io.github.agnosticsam.optim.Sgd;
import io.github.agnosticsam.spi.GradientOracle;
import io.github.agnosticsam.spi.LossAndGradients;
import io.github.agnosticsam.spi.Pass;
import io.github.agnosticsam.spi.StateSlot;
import io.github.agnosticsam.spi.StepOutput;
import io.github.agnosticsam.spi.StepProgram;
import io.github.agnosticsam.spi.SummaryLayout;
import io.github.agnosticsam.spi.Tensors;
import java.util.ArrayList;
import java.util.List;

/**
 * Every optimizer of the library as one step program: the base update alone, SAM/ASAM, or
 * Agnostic-SAM EXACT/FAST. The parameters are never changed in place: perturbed points are new
 * tensors, so θ is "restored" exactly by construction. Scalar inputs: the base rule's (the
 * learning rate first; Adam adds its bias corrections), then ρ (SAM) or ρ₁, ρ₂ (Agnostic-SAM).
 */
public final class OptimizerProgram implements StepProgram {

    private enum Kind { BASE, SAM, AGNOSTIC_EXACT, AGNOSTIC_FAST }

    private final Kind kind;
    private final BaseRule base;
    private final List<Schedule> radii;
    private final boolean adaptive;
    private final double eta;
    private final Optimizer optimizer;

    private OptimizerProgram(Optimizer optimizer, Kind kind, BaseOptimizer base, List<Schedule> radii,
            boolean adaptive, double eta) {
        this.optimizer = optimizer;
        this.kind = kind;
        this.base = base instanceof Sgd s ? new SgdRule(s) : new AdamRule((Adam) base);
        this.radii = radii;
        this.adaptive = adaptive;
        this.eta = eta;
    }

    public static OptimizerProgram of(Optimizer optimizer) {
        if (optimizer instanceof BaseOptimizer b) {
            return new OptimizerProgram(optimizer, Kind.BASE, b, List.of(), false, 0);
        }
        if (optimizer instanceof Sam s) {
            return new OptimizerProgram(optimizer, Kind.SAM, s.base(), List.of(s.rho()), s.adaptive(), s.eta());
        }
        AgnosticSam a = (AgnosticSam) optimizer;
        if (a.isPlainSam()) {
            return new OptimizerProgram(optimizer, Kind.SAM, a.base(), List.of(a.rho1()), a.adaptive(), a.eta());
        }
        Kind kind = a.variant() == AgnosticSam.Variant.EXACT ? Kind.AGNOSTIC_EXACT : Kind.AGNOSTIC_FAST;
        return new OptimizerProgram(optimizer, kind, a.base(), List.of(a.rho1(), a.rho2()), a.adaptive(), a.eta());
    }

    /** The optimizer's description; a lambda schedule makes it an IllegalArgumentException naming it. */
    @Override
    public java.util.Optional<java.util.Map<String, Object>> configuration() {
        return java.util.Optional.of(Configurations.of(optimizer));
    }

    @Override
    public List<Pass> passes() {
        return optimizer.passes();
    }

    @Override
    public List<StateSlot> state(List<int[]> parameterShapes) {
        return base.state(parameterShapes);
    }

    /** The scalars of a step when every step before it was applied. */
    @Override
    public double[] scalars(long step) {
        return scalars(step, step);
    }

    @Override
    public double[] scalars(long step, long appliedSteps) {
        double[] baseScalars = base.scalars(step, appliedSteps);
        double[] values = java.util.Arrays.copyOf(baseScalars, baseScalars.length + radii.size());
        String[] names = radii.size() == 1 ? new String[] {"rho"} : new String[] {"rho1", "rho2"};
        for (int i = 0; i < radii.size(); i++) {
            values[baseScalars.length + i] = radii.get(i).checkedAt(names[i], step);
        }
        return values;
    }

    @Override
    public boolean countsAppliedSteps() {
        return base.countsAppliedSteps();
    }

    @Override
    public <T> StepOutput<T> define(Tensors<T> ops, GradientOracle<T> oracle, List<T> params, List<T> state,
            List<T> scalars) {
        return step(ops, oracle, params, state, scalars, ops::allFinite);
    }

    /**
     * The same math on one vector of all parameters: every rule here is element-wise or sums over all
     * tensors, so only the flags change — one per segment instead of one per tensor.
     */
    @Override
    public boolean supportsFlatStorage() {
        return true;
    }

    @Override
    public <T> StepOutput<T> defineFlat(Tensors<T> ops, GradientOracle<T> oracle, T params, int[] segments,
            List<T> state, List<T> scalars) {
        int[] lengths = segments.clone();
        return step(ops, oracle, List.of(params), state, scalars, t -> ops.allFiniteSegments(t, lengths));
    }

    /** {@code flags} gives the 1/0 flags of one tensor of the lists: one, or one per segment of a flat one. */
    private <T> StepOutput<T> step(Tensors<T> ops, GradientOracle<T> oracle, List<T> params, List<T> state,
            List<T> scalars, java.util.function.UnaryOperator<T> flags) {
        Guard<T> guard = new Guard<>(ops, oracle, flags);
        int radiiAt = scalars.size() - radii.size();
        List<T> baseScalars = scalars.subList(0, radiiAt);
        List<T> trainGrads = guard.evaluate(params, Pass.TRAIN);
        List<T> grads = switch (kind) {
            case BASE -> trainGrads;
            case SAM -> guard.evaluate(Ascent.addScaledDirection(ops, params, trainGrads, scalars.get(radiiAt),
                    adaptive, eta, params), Pass.TRAIN_PERTURBED);
            case AGNOSTIC_EXACT, AGNOSTIC_FAST -> {
                T rho1 = scalars.get(radiiAt);
                T rho2 = scalars.get(radiiAt + 1);
                // Ascend on the train batch by ρ₁; keep only this, not gₜ, through the validation passes.
                List<T> ascent = Ascent.scaledDirection(ops, params, trainGrads, rho1, adaptive, eta);
                List<T> validationGrads = guard.evaluate(params, Pass.VALIDATION);
                if (kind == Kind.AGNOSTIC_EXACT) {
                    validationGrads = guard.evaluate(Ascent.addScaledDirection(ops, params, validationGrads, rho2,
                            adaptive, eta, params), Pass.VALIDATION_PERTURBED);
                }
                List<T> e = Ascent.perturbation(ops, params, ascent, validationGrads, rho2, adaptive, eta);
                yield guard.evaluate(ListOps.plus(ops, params, e), Pass.TRAIN_PERTURBED);
            }
        };
        if (oracle.replicas() > 1) {
            grads = guard.reduce(grads);
        }
        BaseRule.Update<T> update = base.apply(ops, params, grads, state, baseScalars);
        return guard.output(params, state, update);
    }

    /**
     * Records each pass's loss and per-parameter finiteness, checks that the update's new
     * parameters and state are finite too, and keeps the new values only when all were (the
     * bad-value rule), with tensor ops rather than a Java branch on data. Among replicas it is also
     * where they meet: {@link #reduce}.
     */
    private static final class Guard<T> {
        private final Tensors<T> ops;
        private final GradientOracle<T> oracle;
        private final java.util.function.UnaryOperator<T> flags;
        private final List<T> losses = new ArrayList<>();
        private final List<T> finiteFlags = new ArrayList<>();
        /** After {@link #reduce}: the losses' means, the flags' counts and the replicas' verdicts. */
        private T reducedLosses;
        private T reducedFlags;
        private T verdicts;

        Guard(Tensors<T> ops, GradientOracle<T> oracle, java.util.function.UnaryOperator<T> flags) {
            this.ops = ops;
            this.oracle = oracle;
            this.flags = flags;
        }

        List<T> evaluate(List<T> params, Pass pass) {
            LossAndGradients<T> result = oracle.evaluate(params, pass);
            losses.add(result.loss());
            for (T g : result.gradients()) {
                finiteFlags.add(flags.apply(g));
            }
            return result.gradients();
        }

        /**
         * The reduce point of a data-parallel step (docs/algorithm.md): this replica's final gradients,
         * pass losses, finite flags and verdict (1/0 at its own place among the replicas) summed with
         * the others' in one all-reduce; returns the mean gradients.
         */
        List<T> reduce(List<T> grads) {
            int replicas = oracle.replicas();
            T one = ops.scalar(1);
            T lossVector = ops.concat(losses);
            T flagVector = ops.concat(finiteFlags);
            T mine = ops.mul(ops.allFinite(lossVector), ops.allFinite(ops.div(one, flagVector)));
            List<T> slots = new ArrayList<>(replicas);
            for (int r = 0; r < replicas; r++) {
                slots.add(r == oracle.rank() ? mine : ops.scalar(0));
            }
            List<T> payload = new ArrayList<>(List.of(lossVector, flagVector, ops.concat(slots)));
            payload.addAll(grads);
            List<T> sums = oracle.allReduceSum(payload);
            T n = ops.scalar(replicas);
            reducedLosses = ops.div(sums.get(0), n);
            reducedFlags = sums.get(1);
            verdicts = sums.get(2);
            List<T> mean = new ArrayList<>(grads.size());
            for (T g : sums.subList(3, sums.size())) {
                mean.add(ops.div(g, n));
            }
            return mean;
        }

        StepOutput<T> output(List<T> params, List<T> state, BaseRule.Update<T> update) {
            // An update can overflow where every gradient was finite (a huge learning rate, say).
            List<T> updateFlags = new ArrayList<>();
            for (T p : update.params()) {
                updateFlags.add(flags.apply(p));
            }
            for (T s : update.state()) {
                updateFlags.add(flags.apply(s));
            }
            T updateVector = ops.concat(updateFlags);
            // 1/flag is +Inf exactly where a flag is 0.
            T one = ops.scalar(1);
            T updateOk = ops.allFinite(ops.div(one, updateVector));
            if (verdicts == null) {
                T lossVector = ops.concat(losses);
                T flagVector = ops.concat(finiteFlags);
                T ok = ops.mul(ops.allFinite(lossVector), ops.mul(ops.allFinite(ops.div(one, flagVector)), updateOk));
                return new StepOutput<>(select(ok, update.params(), params), select(ok, update.state(), state),
                        SummaryLayout.write(ops, lossVector, flagVector, updateVector), ok);
            }
            // Every replica's verdict was 1 exactly when their sum is N: then 1/(N − Σ) is +Inf.
            T everyReplica = ops.sub(one, ops.allFinite(ops.div(one,
                    ops.sub(ops.scalar(oracle.replicas()), ops.sumOfSquares(verdicts)))));
            T ok = ops.mul(ops.allFinite(reducedLosses), ops.mul(everyReplica, updateOk));
            return new StepOutput<>(select(ok, update.params(), params), select(ok, update.state(), state),
                    SummaryLayout.write(ops, reducedLosses, reducedFlags, updateVector, verdicts), ok);
        }

        private List<T> select(T ok, List<T> candidates, List<T> current) {
            List<T> out = new ArrayList<>(current.size());
            for (int i = 0; i < current.size(); i++) {
                out.add(ops.where(ok, candidates.get(i), current.get(i)));
            }
            return out;
        }
    }
}
