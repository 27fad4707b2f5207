package io.github.agnosticsam.conformance;

import io.github.agnosticsam.model.Batch;
import io.github.agnosticsam.model.Evaluation;
import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.spi.Engine;
import io.github.agnosticsam.spi.Network;
import io.github.agnosticsam.spi.StepProgram;
import io.github.agnosticsam.spi.UnsupportedFeatureException;
import io.github.agnosticsam.training.BadValuePolicy;
import io.github.agnosticsam.training.DataParallelTraining;
import io.github.agnosticsam.training.StepPrograms;
import io.github.agnosticsam.training.StepResult;
import io.github.agnosticsam.training.Training;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Runs conformance cases on an engine: after every step the loss, every element of every
 * parameter and of every running statistic, and after the last step the evaluation, against
 * |actual − expected| ≤ abs + rel·|expected| (the evaluation's correct count exactly).
 *
 * <p>A case is skipped when the engine cannot build its model ({@link UnsupportedFeatureException}),
 * when the engine's network reports no running statistics for a model that has them (the default
 * of {@link Network#runningStatistics()}: the engine does not support them), and when the case
 * starts from running statistics other than the model's defaults (a {@link Network} cannot be set
 * to others).
 */
public final class CaseRunner {
    private CaseRunner() {
    }

    /** Reads and runs a case file; an unreadable or malformed file is a FAIL with the reason. */
    public static CaseResult run(Engine engine, Path file) {
        ConformanceCase c;
        try {
            c = CaseReader.read(file);
        } catch (CaseFormatException e) {
            String name = file.getFileName().toString().replaceFirst("\\.json$", "");
            return new CaseResult(name, CaseResult.Outcome.FAIL, Double.NaN, e.getMessage());
        }
        return run(engine, c);
    }

    public static CaseResult run(Engine engine, ConformanceCase c) {
        return run(engine, c, StepPrograms.of(c.optimizer()));
    }

    /**
     * Runs the case with the given step program in place of the case's optimizer (to show that a
     * wrong implementation fails it).
     */
    public static CaseResult run(Engine engine, ConformanceCase c, StepProgram program) {
        List<String> statisticNames = c.model().statisticNames();
        if (!statisticNames.isEmpty() && !sameValues(c.initialStatistics(), c.model().initialStatistics())) {
            return new CaseResult(c.name(), CaseResult.Outcome.SKIP, Double.NaN, "the case starts from running "
                    + "statistics other than the defaults (means 0, variances 1), and a Network cannot be set to others");
        }
        List<Network> replicas = new java.util.ArrayList<>();
        try {
            for (int r = 0; r < c.replicas(); r++) {
                replicas.add(engine.build(c.model(), c.initialParams()));
            }
            Network network = replicas.get(0);
            if (!statisticNames.isEmpty() && network.runningStatistics().isEmpty()) {
                return new CaseResult(c.name(), CaseResult.Outcome.SKIP, Double.NaN, engine.name() + " reports no "
                        + "running statistics for " + c.model() + ", which has " + String.join(", ", statisticNames)
                        + ": it does not support them");
            }
            Check check = new Check(c.tolerance());
            check.tensors("before step 0, statistic", statisticNames, c.initialStatistics(),
                    network.runningStatistics());
            try (Steps training = Steps.of(replicas, program)) {
                for (int s = 0; s < c.steps().size(); s++) {
                    ConformanceCase.Step step = c.steps().get(s);
                    StepResult r = training.step(step.train(), program.usesValidationBatch() ? step.validation() : null);
                    ConformanceCase.Expected expected = c.expected().get(s);
                    check.value(r.loss(), expected.loss(), "first at step " + s + ", loss");
                    for (int k = 0; k < replicas.size(); k++) { // every replica holds the same values
                        String at = "first at step " + s + (replicas.size() > 1 ? ", replica " + k : "") + ", ";
                        check.tensors(at + "parameter", c.model().parameterNames(), expected.params(),
                                replicas.get(k).parameters());
                        check.tensors(at + "statistic", statisticNames, expected.statistics(),
                                replicas.get(k).runningStatistics());
                    }
                }
            }
            if (c.evaluation().isPresent()) {
                ConformanceCase.FinalEvaluation e = c.evaluation().get();
                Evaluation actual = network.evaluate(e.batch());
                check.value(actual.loss(), e.loss(), "evaluate: loss");
                if (actual.correct() != e.correct()) {
                    check.fail(String.format(Locale.ROOT, "evaluate: expected %d correct of %d, got %d", e.correct(),
                            e.batch().size(), actual.correct()));
                }
            }
            return check.firstFailure == null ? new CaseResult(c.name(), CaseResult.Outcome.PASS, check.worst, "")
                    : new CaseResult(c.name(), CaseResult.Outcome.FAIL, check.worst, check.firstFailure);
        } catch (UnsupportedFeatureException e) {
            return new CaseResult(c.name(), CaseResult.Outcome.SKIP, Double.NaN, e.getMessage());
        } catch (RuntimeException e) {
            return new CaseResult(c.name(), CaseResult.Outcome.FAIL, Double.NaN,
                    e.getClass().getSimpleName() + ": " + e.getMessage());
        } finally {
            replicas.forEach(Network::close);
        }
    }

    /**
     * The steps of a case: a {@link Training} alone, or a {@link DataParallelTraining} of the
     * case's program (the replicas' group built here, as {@code DataParallelTraining} builds it for
     * an optimizer).
     */
    private interface Steps extends AutoCloseable {
        StepResult step(Batch train, Batch validation);

        @Override
        void close();

        static Steps of(List<Network> replicas, StepProgram program) {
            if (replicas.size() == 1) {
                Training t = Training.start(replicas.get(0), program, BadValuePolicy.THROW);
                return new Steps() {
                    public StepResult step(Batch train, Batch validation) {
                        return validation == null ? t.step(train) : t.step(train, validation);
                    }

                    public void close() {
                        t.close();
                    }
                };
            }
            DataParallelTraining t = DataParallelTraining.start(replicas, program, BadValuePolicy.THROW);
            return new Steps() {
                public StepResult step(Batch train, Batch validation) {
                    return t.step(train, validation);
                }

                public void close() {
                    t.close();
                }
            };
        }
    }

    /** The worst error as a fraction of the tolerance, and the first failure's description. */
    private static final class Check {
        private final ConformanceCase.Tolerance tolerance;
        private double worst;
        private String firstFailure;

        Check(ConformanceCase.Tolerance tolerance) {
            this.tolerance = tolerance;
        }

        void value(double actual, double expected, String what) {
            double ratio = tolerance.ratio(actual, expected);
            worst = Math.max(worst, ratio);
            if (ratio > 1) {
                fail(String.format(Locale.ROOT, "%s: expected %.17g, got %.17g", what, expected, actual));
            }
        }

        /** Element by element; {@code what} is followed by the tensor's name and the element's index. */
        void tensors(String what, List<String> names, List<HostTensor> expected, List<HostTensor> actual) {
            if (actual.size() != expected.size()) {
                worst = Double.POSITIVE_INFINITY;
                fail(what + "s: expected " + expected.size() + " tensors (" + String.join(", ", names) + "), got "
                        + actual.size());
                return;
            }
            for (int t = 0; t < expected.size(); t++) {
                int[] shape = expected.get(t).shape();
                if (!Arrays.equals(shape, actual.get(t).shape())) {
                    worst = Double.POSITIVE_INFINITY;
                    fail(what + " " + names.get(t) + ": expected shape " + Arrays.toString(shape) + ", got "
                            + Arrays.toString(actual.get(t).shape()));
                    continue;
                }
                double[] e = expected.get(t).values();
                double[] a = actual.get(t).values();
                for (int i = 0; i < e.length; i++) {
                    value(a[i], e[i], what + " " + names.get(t) + Arrays.toString(index(shape, i)));
                }
            }
        }

        void fail(String description) {
            if (firstFailure == null) {
                firstFailure = description;
            }
        }
    }

    /** Same shapes and numerically equal values. */
    private static boolean sameValues(List<HostTensor> a, List<HostTensor> b) {
        if (a.size() != b.size()) {
            return false;
        }
        for (int t = 0; t < a.size(); t++) {
            if (!Arrays.equals(a.get(t).shape(), b.get(t).shape())) {
                return false;
            }
            for (int i = 0; i < a.get(t).size(); i++) {
                if (a.get(t).values()[i] != b.get(t).values()[i]) {
                    return false;
                }
            }
        }
        return true;
    }

    /** Row-major flat index → multi-dimensional index. */
    private static int[] index(int[] shape, int flat) {
        int[] idx = new int[shape.length];
        for (int d = shape.length - 1; d >= 0; d--) {
            idx[d] = flat % shape[d];
            flat /= shape[d];
        }
        return idx;
    }
}
