package io.github.agnosticsam.conformance;

import io.github.agnosticsam.BadValuePolicy;
import io.github.agnosticsam.Engine;
import io.github.agnosticsam.HostTensor;
import io.github.agnosticsam.Network;
import io.github.agnosticsam.StepResult;
import io.github.agnosticsam.Training;
import io.github.agnosticsam.spi.StepProgram;
import io.github.agnosticsam.spi.UnsupportedFeatureException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Runs conformance cases on an engine: every element of every parameter and the loss, after
 * every step, against |actual − expected| ≤ abs + rel·|expected|.
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
        return run(engine, c, StepProgram.of(c.optimizer()));
    }

    /**
     * Runs the case with the given step program in place of the case's optimizer (to show that a
     * wrong implementation fails it).
     */
    public static CaseResult run(Engine engine, ConformanceCase c, StepProgram program) {
        try (Network network = engine.build(c.model(), c.initialParams());
                Training training = Training.start(network, program, BadValuePolicy.THROW)) {
            double worst = 0;
            String firstFailure = null;
            List<String> names = c.model().parameterNames();
            for (int s = 0; s < c.steps().size(); s++) {
                ConformanceCase.Step step = c.steps().get(s);
                StepResult r = program.usesValidationBatch() ? training.step(step.train(), step.validation())
                        : training.step(step.train());
                ConformanceCase.Expected expected = c.expected().get(s);
                double ratio = c.tolerance().ratio(r.loss(), expected.loss());
                worst = Math.max(worst, ratio);
                if (ratio > 1 && firstFailure == null) {
                    firstFailure = String.format(Locale.ROOT, "first at step %d, loss: expected %.17g, got %.17g",
                            s, expected.loss(), r.loss());
                }
                List<HostTensor> actual = network.parameters();
                for (int p = 0; p < actual.size(); p++) {
                    double[] a = actual.get(p).values();
                    double[] e = expected.params().get(p).values();
                    for (int i = 0; i < a.length; i++) {
                        double q = c.tolerance().ratio(a[i], e[i]);
                        worst = Math.max(worst, q);
                        if (q > 1 && firstFailure == null) {
                            firstFailure = String.format(Locale.ROOT,
                                    "first at step %d, parameter %s%s: expected %.17g, got %.17g", s, names.get(p),
                                    Arrays.toString(index(actual.get(p).shape(), i)), e[i], a[i]);
                        }
                    }
                }
            }
            return firstFailure == null ? new CaseResult(c.name(), CaseResult.Outcome.PASS, worst, "")
                    : new CaseResult(c.name(), CaseResult.Outcome.FAIL, worst, firstFailure);
        } catch (UnsupportedFeatureException e) {
            return new CaseResult(c.name(), CaseResult.Outcome.SKIP, Double.NaN, e.getMessage());
        } catch (RuntimeException e) {
            return new CaseResult(c.name(), CaseResult.Outcome.FAIL, Double.NaN,
                    e.getClass().getSimpleName() + ": " + e.getMessage());
        }
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
