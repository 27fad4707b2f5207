package io.github.agnosticsam.examples;

import io.github.agnosticsam.diagnostics.Curvature;
import io.github.agnosticsam.diagnostics.CurvatureOptions;
import io.github.agnosticsam.diagnostics.Eigenvalue;
import io.github.agnosticsam.diagnostics.Sharpness;
import io.github.agnosticsam.diagnostics.Trace;
import io.github.agnosticsam.model.Batch;
import io.github.agnosticsam.model.ModelSpec;
import io.github.agnosticsam.optim.DefaultRadii;
import io.github.agnosticsam.spi.Engine;
import io.github.agnosticsam.spi.Network;
import io.github.agnosticsam.training.Checkpoint;
import io.github.agnosticsam.training.CheckpointException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What the command line measures of a model's sharpness, and on which images: one rule and one set of
 * defaults for {@code sharpness}, {@code landscape}, {@code train --sharpness-every} and the demo, so a
 * series point of a run and {@code sharpness} on that epoch's checkpoint are the same measurement.
 */
final class Diagnosis {
    static final int IMAGES = 1024;
    static final int BATCH = 256;
    static final int PROBES = 20;
    /** ρ-sharpness within SAM's own default radius. */
    static final double RHO = DefaultRadii.RHO;
    static final int ASCENT_STEPS = 10;

    private Diagnosis() {
    }

    /**
     * The settings of one measurement on {@code images} images in batches of {@code batch} (checked
     * where the batches are made, {@link #batches}); the constructor checks the rest and names a bad
     * one by its option.
     */
    record Settings(int images, int batch, int probes, double rho, int ascentSteps, CurvatureOptions curvature) {
        Settings {
            if (probes < 2) {
                throw new IllegalArgumentException("--probes must be >= 2 (a standard error needs two), got " + probes);
            }
            Heap.check("--probes " + probes, probes, probes * (double) Heap.RESULT_BYTES, IllegalArgumentException::new);
            if (!(rho >= 0 && rho < Double.POSITIVE_INFINITY) || ascentSteps < 0) {
                throw new IllegalArgumentException("--rho must be a finite number >= 0 and --ascent-steps >= 0, got "
                        + rho + " and " + ascentSteps);
            }
        }

        static Settings defaults() {
            return new Settings(IMAGES, BATCH, PROBES, RHO, ASCENT_STEPS, CurvatureOptions.defaults());
        }

        Settings withImages(int value) {
            return new Settings(value, batch, probes, rho, ascentSteps, curvature);
        }

        Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("images", images);
            m.put("batch", batch);
            m.put("probes", probes);
            m.put("rho", rho);
            m.put("ascentSteps", ascentSteps);
            m.put("hRelative", curvature.hRelative());
            m.put("tolerance", curvature.tolerance());
            m.put("maxIterations", curvature.maxIterations());
            m.put("seed", curvature.seed());
            return m;
        }
    }

    /** λ_max, the trace and ρ-sharpness of one model, and the seconds the three took. */
    record Figures(Eigenvalue lambdaMax, Trace trace, Sharpness sharpness, double seconds, String products) {
        Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("lambdaMax", lambdaMax.toMap());
            m.put("trace", trace.toMap());
            m.put("sharpness", sharpness.toMap());
            m.put("seconds", seconds);
            m.put("hessianVectorProducts", products);
            return m;
        }

        /** The three, one line each, with their costs. */
        String describe() {
            return String.format(Locale.ROOT, "lambda_max      %.6g  (%d iterations, %s, residual %.2g; %d gradient "
                    + "evaluations)%n", lambdaMax.value(), lambdaMax.iterations(), lambdaMax.converged() ? "converged"
                    : "NOT converged", lambdaMax.residual(), lambdaMax.gradientEvaluations())
                    + String.format(Locale.ROOT, "trace           %.6g ± %.2g  (%d probes; %d gradient evaluations)%n",
                            trace.value(), trace.standardError(), trace.probes(), trace.gradientEvaluations())
                    + String.format(Locale.ROOT, "rho-sharpness   one step %.6g, ascent %.6g  (rho %s, loss %.6g; %d "
                            + "gradient evaluations)%n", sharpness.oneStep(), sharpness.ascent(), sharpness.rho(),
                            sharpness.loss(), sharpness.gradientEvaluations())
                    + String.format(Locale.ROOT, "(%.1f s; Hessian-vector products: %s)%n", seconds, products);
        }
    }

    /** A checkpoint's network on {@code engine}: its parameters and running statistics. */
    static Network network(Engine engine, ModelSpec model, Checkpoint from) {
        Network net = engine.build(model, from.parameters());
        try {
            net.setRunningStatistics(from.runningStatistics());
            return net;
        } catch (RuntimeException e) {
            net.close();
            throw e;
        }
    }

    /** The standard model a checkpoint is of (checkpoints name it as its description prints). */
    static ModelSpec standardModel(Path file, Checkpoint from) {
        for (String name : ModelSpec.STANDARD) {
            ModelSpec spec = ModelSpec.standard(name);
            if (spec.toString().equals(from.model())) {
                return spec;
            }
        }
        throw new CheckpointException(file + ": its model (" + from.model() + ") is none of the standard models "
                + String.join(", ", ModelSpec.STANDARD));
    }

    /** One line of a {@link Figures#toMap()} (as measured, or read back from JSON). */
    static String summary(Map<?, ?> figures) {
        return String.format(Locale.ROOT, "lambda_max %.4g, trace %.4g ± %.2g, rho-sharpness %.4g (one step), %.4g (ascent)",
                number(figures, "lambdaMax", "value"), number(figures, "trace", "value"),
                number(figures, "trace", "standardError"), number(figures, "sharpness", "oneStep"),
                number(figures, "sharpness", "ascent"));
    }

    /** The seconds of a {@link Figures#toMap()}. */
    static double seconds(Map<?, ?> figures) {
        return ((Number) figures.get("seconds")).doubleValue();
    }

    /** {@code figures[diagnostic][key]} of a {@link Figures#toMap()}, as a double. */
    static double number(Map<?, ?> figures, String diagnostic, String key) {
        return ((Number) ((Map<?, ?>) figures.get(diagnostic)).get(key)).doubleValue();
    }

    /** How the products were formed: "exact", or "central differences (h X)". */
    static String products(Curvature c) {
        return c.exactProducts() ? "exact" : "central differences (h " + c.options().hRelative() + ")";
    }

    /** The three diagnostics of the network {@code c} diagnoses, as it is now. */
    static Figures measure(Curvature c, Settings s) {
        long start = System.nanoTime();
        Eigenvalue top = c.lambdaMax();
        Trace trace = c.trace(s.probes());
        Sharpness sharpness = c.sharpness(s.rho(), s.ascentSteps());
        return new Figures(top, trace, sharpness, (System.nanoTime() - start) / 1e9, products(c));
    }

    /**
     * The images diagnosed: the first {@code images} of the training file, in order, with their clean
     * labels, in batches of {@code batch} (the last may be smaller) — whatever subset or noise a run
     * trained on, so that runs are measured on the same loss.
     */
    static List<Batch> batches(ImageDataset train, ModelSpec model, String imagesOption, int images, int batch) {
        if (images < 1 || images > train.size()) {
            throw new IllegalArgumentException(imagesOption + " must be in [1, " + train.size() + "] (the training "
                    + "images), got " + images);
        }
        if (batch < 1) {
            throw new IllegalArgumentException("--batch must be >= 1, got " + batch);
        }
        int[] order = new int[images];
        for (int i = 0; i < images; i++) {
            order[i] = i;
        }
        List<Batch> out = new ArrayList<>();
        for (int from = 0; from < images; from += batch) {
            out.add(train.batch(order, from, Math.min(batch, images - from), model));
        }
        return out;
    }
}
