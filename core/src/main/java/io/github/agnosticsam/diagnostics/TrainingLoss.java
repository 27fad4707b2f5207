package io.github.agnosticsam.diagnostics;

import io.github.agnosticsam.model.Batch;
import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.spi.CompiledStep;
import io.github.agnosticsam.spi.Network;
import io.github.agnosticsam.spi.support.FlatLayout;
import java.util.List;
import java.util.function.Supplier;

/**
 * The loss and gradient of a network on a named set of batches at any parameter values, what {@link
 * Curvature} and {@link Landscape} are built from: one compiled {@link GradientProgram}, run once per
 * batch at a point set with {@link Network#setParameters}, the batches' size-weighted mean, every
 * vector flat on the host (every parameter element in parameter order, each tensor row-major).
 * {@link #call} reads θ first and puts it back bit for bit when the body returns or throws.
 */
final class TrainingLoss implements AutoCloseable {
    private final Network network;
    private final List<Batch> batches;
    /** Parameter tensors ↔ one vector, unpadded. */
    private final FlatLayout layout;
    private final long examples;
    private final CompiledStep compiled;
    /** The length of a point's result: the loss, and the gradient when it is computed. */
    private final int width;
    private long evaluations;
    private boolean closed;
    // The call under way: θ as the engine handed it out, and flat.
    private List<HostTensor> original;
    private double[] theta;

    /**
     * Checks the batches (at least one, each fitting the model, named by index) before compiling;
     * {@code gradients}: whether {@link #lossAndGradient} returns the gradient too, or the loss alone.
     */
    TrainingLoss(Network network, List<Batch> batches, boolean gradients) {
        if (network == null) {
            throw new IllegalArgumentException("network must not be null");
        }
        if (batches == null || batches.isEmpty()) {
            throw new IllegalArgumentException("the diagnostics need at least one batch, got "
                    + (batches == null ? "null" : "an empty list"));
        }
        long n = 0;
        for (int i = 0; i < batches.size(); i++) {
            if (batches.get(i) == null) {
                throw new IllegalArgumentException("diagnostics batch " + i + " is null");
            }
            batches.get(i).checkFits(network.model(), "diagnostics (" + i + ")");
            n += batches.get(i).size();
        }
        this.network = network;
        this.batches = List.copyOf(batches);
        this.layout = new FlatLayout(network.model().parameterShapes());
        this.examples = n;
        this.width = gradients ? layout.size() + 1 : 1;
        this.compiled = network.compile(new GradientProgram(gradients));
    }

    Network network() {
        return network;
    }

    List<Batch> batches() {
        return batches;
    }

    FlatLayout layout() {
        return layout;
    }

    int dimension() {
        return layout.size();
    }

    /** Evaluations made so far, each over the whole set of batches. */
    long evaluations() {
        return evaluations;
    }

    /** θ of the call under way, flat (do not modify). */
    double[] theta() {
        return theta;
    }

    /** Runs {@code body} with θ read at its start, and puts θ back however it ends. */
    <R> R call(Supplier<R> body) {
        if (closed) {
            throw new IllegalStateException("these diagnostics are closed");
        }
        original = network.parameters();
        theta = layout.join(original).values();
        Throwable failure = null;
        try {
            return body.get();
        } catch (RuntimeException | Error e) {
            failure = e;
            throw e;
        } finally {
            try {
                network.setParameters(original);
            } catch (RuntimeException e) {
                if (failure == null) {
                    throw e;
                }
                failure.addSuppressed(e);
            } finally {
                original = null;
                theta = null;
            }
        }
    }

    /**
     * {@code [L, ∇L...]} (or {@code [L]}) at the parameters {@code point} (flat; null: θ itself, as the engine handed
     * it out): one evaluation, one run of the compiled program per batch. A value that is not finite is
     * an IllegalStateException; {@code where} says which point it was in the message.
     */
    double[] lossAndGradient(double[] point, Supplier<String> where) {
        network.setParameters(point == null ? original : layout.split(HostTensor.of(point, point.length)));
        evaluations++;
        double[] sum = new double[width];
        for (Batch batch : batches) {
            double[] summary = compiled.run(batch, null, new double[0]).read();
            if (summary.length != sum.length) {
                throw new IllegalStateException("the engine's gradient summary has " + summary.length
                        + " values, expected " + sum.length + " (the loss and " + (width - 1) + " gradient elements)");
            }
            for (int i = 0; i < sum.length; i++) {
                sum[i] += batch.size() * summary[i];
            }
        }
        for (int i = 0; i < sum.length; i++) {
            sum[i] /= examples;
            if (!Double.isFinite(sum[i])) {
                throw new IllegalStateException("the " + (i == 0 ? "loss" : "gradient") + " at " + where.get()
                        + " is not finite");
            }
        }
        return sum;
    }

    /**
     * H·v at θ exactly, by the engine ({@code Network.hessianVectorProduct}), as the size-weighted mean
     * of the batches' products; counted as 2 evaluations (about what it costs: docs/diagnostics.md).
     */
    double[] exactProduct(double[] v) {
        network.setParameters(original);
        evaluations += 2;
        double[] sum = new double[v.length];
        for (Batch batch : batches) {
            double[] hv = network.hessianVectorProduct(batch, v);
            for (int i = 0; i < sum.length; i++) {
                sum[i] += batch.size() * hv[i];
            }
        }
        for (int i = 0; i < sum.length; i++) {
            sum[i] /= examples;
            if (!Double.isFinite(sum[i])) {
                throw new IllegalStateException("the exact Hessian-vector product at θ is not finite");
            }
        }
        return sum;
    }

    /** Refuses a vector that is not one finite value per parameter element, naming it. */
    void checkVector(double[] v, String name) {
        if (v == null || v.length != dimension()) {
            throw new IllegalArgumentException(name + " must have " + dimension() + " elements (one per parameter "
                    + "element), got " + (v == null ? "null" : v.length));
        }
        for (int i = 0; i < v.length; i++) {
            if (!Double.isFinite(v[i])) {
                throw new IllegalArgumentException(name + "[" + i + "] must be finite, got " + v[i]);
            }
        }
    }

    /** Frees the compiled step program; the network stays open. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            compiled.close();
        }
    }
}
