package io.github.agnosticsam.diagnostics;

import io.github.agnosticsam.model.Batch;
import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.spi.Network;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Loss-landscape slices of a network's training loss on a named set of batches, on any engine: the
 * loss along the straight line between two parameter vectors (two trained solutions, say), and along
 * one or two directions from the current parameters, with the filter-normalised random directions of
 * Li et al., "Visualizing the Loss Landscape of Neural Nets" (2018). See docs/diagnostics.md.
 *
 * <p>The loss is the one {@link Curvature} diagnoses: the batches' size-weighted mean loss, each batch
 * in training mode with its own batch statistics ({@link io.github.agnosticsam.spi.Pass#TRAIN_PERTURBED};
 * running statistics never moved, so two checkpoints can be compared without theirs). One compiled
 * step program per {@code Landscape}, reused, that returns the loss alone; each point costs one loss
 * evaluation over every batch. Every call puts the network's parameters back bit for
 * bit when it returns or throws. Vectors are flat: every parameter element in parameter order, each
 * tensor row-major. Not thread-safe.
 */
public final class Landscape implements AutoCloseable {
    private final TrainingLoss loss;

    private Landscape(Network network, List<Batch> batches) {
        this.loss = new TrainingLoss(network, batches, false);
    }

    /**
     * Slices of {@code network}'s loss on {@code batches} (at least one, each fitting the model: an
     * IllegalArgumentException naming the batch otherwise). Compiles one step program on the network.
     */
    public static Landscape of(Network network, List<Batch> batches) {
        return new Landscape(network, batches);
    }

    /** The number of parameter elements: the length of every vector here. */
    public int dimension() {
        return loss.dimension();
    }

    /** Points evaluated by this object so far, each a loss over the whole set of batches. */
    public long lossEvaluations() {
        return loss.evaluations();
    }

    /**
     * L((1 − α)·from + α·to) for each α: α = 0 is {@code from}, α = 1 is {@code to}; values outside
     * [0, 1] extrapolate. {@code from} and {@code to} are parameter tensors of the network's model
     * (checked as {@link io.github.agnosticsam.model.ModelSpec#checkParameters}); the network's own
     * parameters play no part and are put back.
     */
    public LossCurve interpolation(List<HostTensor> from, List<HostTensor> to, double[] alphas) {
        loss.network().model().checkParameters(from);
        loss.network().model().checkParameters(to);
        double[] a = loss.layout().join(from).values();
        double[] b = loss.layout().join(to).values();
        checkCoordinates(alphas, "alphas");
        return loss.call(() -> new LossCurve(alphas, losses(alphas, (alpha, point) -> {
            for (int i = 0; i < point.length; i++) {
                point[i] = (1 - alpha) * a[i] + alpha * b[i]; // exactly a at 0 and b at 1
            }
        }, "α = %s"), alphas.length));
    }

    /** L(θ + α·direction) for each α, θ the network's current parameters. */
    public LossCurve line(double[] direction, double[] alphas) {
        loss.checkVector(direction, "direction");
        checkCoordinates(alphas, "alphas");
        return loss.call(() -> new LossCurve(alphas, losses(alphas, (alpha, point) -> moved(point, alpha, direction, 0,
                null), "α = %s"), alphas.length));
    }

    /**
     * L(θ + α·first + β·second) on the grid alphas × betas, θ the network's current parameters;
     * {@code losses().get(j).get(i)} is at (alphas[i], betas[j]).
     */
    public LossSurface plane(double[] first, double[] second, double[] alphas, double[] betas) {
        loss.checkVector(first, "first");
        loss.checkVector(second, "second");
        checkCoordinates(alphas, "alphas");
        checkCoordinates(betas, "betas");
        return loss.call(() -> {
            List<List<Double>> rows = new ArrayList<>(betas.length);
            for (double beta : betas) {
                rows.add(losses(alphas, (alpha, point) -> moved(point, alpha, first, beta, second),
                        "α = %s, β = " + beta));
            }
            return new LossSurface(alphas, betas, rows, (long) alphas.length * betas.length);
        });
    }

    /**
     * {@code count} random filter-normalised directions at the network's current parameters ({@link
     * #filterNormalized}), drawn one after the other from {@code new SplittableRandom(seed)}: the same
     * on every engine.
     */
    public List<double[]> filterNormalizedDirections(int count, long seed) {
        if (count < 1) {
            throw new IllegalArgumentException("count must be >= 1, got " + count);
        }
        return loss.call(() -> {
            SplittableRandom random = new SplittableRandom(seed);
            List<double[]> out = new ArrayList<>(count);
            for (int k = 0; k < count; k++) {
                out.add(filterNormalized(loss.network().model().parameterShapes(), loss.theta(), random));
            }
            return out;
        });
    }

    /**
     * A random direction of Li et al. (2018), filter-normalised to the parameters {@code theta} (flat,
     * tensors of {@code shapes}): a tensor of rank ≥ 2 is a stack of filters along its first axis (a
     * convolution's output channels, a dense layer's output units: this library's [out, …] layouts);
     * each filter gets standard normal elements ({@code random.nextGaussian()}, element by element in
     * flat order), rescaled to the norm of θ's same filter (zero where that is zero). Tensors of rank 1
     * (biases, BatchNorm's γ and β) get zeros, as the paper's code leaves them out by default. Thus a
     * step α along it moves every filter by α times its own size, whatever the layer's scale.
     */
    public static double[] filterNormalized(List<int[]> shapes, double[] theta, SplittableRandom random) {
        double[] d = new double[theta.length];
        int offset = 0;
        for (int[] shape : shapes) {
            int size = 1;
            for (int n : shape) {
                size *= n;
            }
            if (offset + size > theta.length) {
                throw new IllegalArgumentException("theta has " + theta.length + " elements, fewer than the shapes need");
            }
            if (shape.length >= 2) {
                int filter = size / shape[0];
                for (int f = offset; f < offset + size; f += filter) {
                    double dd = 0;
                    double tt = 0;
                    for (int i = f; i < f + filter; i++) {
                        d[i] = random.nextGaussian();
                        dd += d[i] * d[i];
                        tt += theta[i] * theta[i];
                    }
                    double scale = dd == 0 ? 0 : Math.sqrt(tt / dd);
                    for (int i = f; i < f + filter; i++) {
                        d[i] = scale == 0 ? 0 : d[i] * scale; // not −0.0
                    }
                }
            }
            offset += size;
        }
        if (offset != theta.length) {
            throw new IllegalArgumentException("theta has " + theta.length + " elements, the shapes " + offset);
        }
        return d;
    }

    /** {@code points} evenly spaced values from {@code from} to {@code to}, both included (points ≥ 2). */
    public static double[] grid(double from, double to, int points) {
        if (points < 2 || !(Double.isFinite(from) && Double.isFinite(to) && from < to)) {
            throw new IllegalArgumentException("a grid needs finite from < to and at least 2 points, got " + from + ", "
                    + to + " and " + points);
        }
        double[] out = new double[points];
        for (int i = 0; i < points; i++) {
            out[i] = i == points - 1 ? to : from + (to - from) * i / (points - 1);
        }
        return out;
    }

    /** Frees the compiled step program; the network stays open. */
    @Override
    public void close() {
        loss.close();
    }

    /** The point at α, written into the array given. */
    @FunctionalInterface
    private interface Point {
        void at(double alpha, double[] point);
    }

    /** The loss at the point of each α: one evaluation each; {@code where} names it in an error. */
    private List<Double> losses(double[] alphas, Point points, String where) {
        List<Double> out = new ArrayList<>(alphas.length);
        double[] point = new double[dimension()];
        for (double alpha : alphas) {
            points.at(alpha, point);
            out.add(loss.lossAndGradient(point, () -> String.format(java.util.Locale.ROOT, where, alpha))[0]);
        }
        return out;
    }

    /** θ + α·d + β·e (e null: θ + α·d), θ the call's parameters. */
    private void moved(double[] point, double alpha, double[] d, double beta, double[] e) {
        double[] theta = loss.theta();
        for (int i = 0; i < point.length; i++) {
            point[i] = theta[i] + alpha * d[i] + (e == null ? 0 : beta * e[i]);
        }
    }

    private static void checkCoordinates(double[] values, String name) {
        if (values == null || values.length == 0) {
            throw new IllegalArgumentException(name + " must hold at least one value, got "
                    + (values == null ? "null" : "none"));
        }
        for (int i = 0; i < values.length; i++) {
            if (!Double.isFinite(values[i])) {
                throw new IllegalArgumentException(name + "[" + i + "] must be finite, got " + values[i]);
            }
        }
    }
}
