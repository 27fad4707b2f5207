package io.github.agnosticsam.diagnostics;

import io.github.agnosticsam.model.Batch;
import io.github.agnosticsam.spi.Network;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/**
 * Curvature diagnostics of a network's training loss on a named set of batches, on any engine: the
 * largest Hessian eigenvalues, the Hessian's trace and ρ-sharpness. Everything is built from the
 * loss and gradient at given parameter values and from Hessian-vector products — exact where the
 * engine differentiates its gradients ({@code Network.hasExactHessianVectorProducts()}, see {@link
 * #exactProducts()}), central differences of gradients otherwise — and every vector lives on the
 * host in double precision. See docs/diagnostics.md.
 *
 * <p>The loss is the size-weighted mean of the batches' mean losses (and so is the gradient). Each
 * batch is evaluated in training mode with its own batch statistics (BatchNorm) through {@link
 * io.github.agnosticsam.spi.Pass#TRAIN_PERTURBED}, which never moves the running statistics. One
 * gradient evaluation, as the costs count them, is the gradient over the whole set: one pass per
 * batch.
 *
 * <p>Without exact products, a Hessian-vector product is a central difference of two gradients along a vector v:
 * {@code Hv ≈ (∇L(θ + εv) − ∇L(θ − εv)) / 2ε} with {@code ε = hRelative·rms(θ)}, the parameters'
 * root mean square (1 when θ = 0), so that the step follows the parameters' scale. v is the vector
 * the method works with: a unit vector in Lanczos, power iteration and {@link #hessianVectorProduct}
 * (which scales v to unit norm first), so the displacement's norm is hRelative·rms(θ); a ±1 probe in
 * Hutchinson's estimator, so every element moves by hRelative·rms(θ). That choice is measured, not
 * derived: with one hRelative it puts λ_max and the trace of the standard MLP within the errors
 * docs/diagnostics.md reports, where a rule that displaced both by the same norm needs two steps
 * (for a ReLU network, a small displacement along every coordinate crosses kinks that ruin the trace).
 *
 * <p>Every call sets the network's parameters to displaced points and, when it returns or throws,
 * back to the values it read at its start (bit for bit: the very values the engine handed out). It
 * compiles one step program, once, and reuses it for every evaluation; {@link #close()} frees it.
 * Random directions are drawn on the host from {@link CurvatureOptions#seed()}: the same seed gives
 * the same probes on every engine and the same results on the same engine. Not thread-safe, and the
 * network must not be used by anyone else during a call.
 */
public final class Curvature implements AutoCloseable {
    private final TrainingLoss loss;
    private final CurvatureOptions options;
    private final ProductRule rule;
    private final int dimension;
    private final boolean exact;
    /** ε = hRelative·rms(θ) of the call under way. */
    private double eps;

    /**
     * How a product H·v is formed from gradients at displacements δ from θ ({@code gradient.apply(δ)}
     * is ∇L(θ + δ), one counted evaluation); {@code eps} is the step rule's ε. Package-private so that
     * a test can plant a wrong rule and see the checks fail.
     */
    @FunctionalInterface
    interface ProductRule {
        double[] product(UnaryOperator<double[]> gradient, double[] v, double eps);
    }

    /** The central difference: second-order accurate, exact for a cubic loss. */
    static final ProductRule CENTRAL = (gradient, v, eps) -> {
        double[] plus = gradient.apply(scaled(v, eps));
        double[] minus = gradient.apply(scaled(v, -eps));
        double[] out = new double[v.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (plus[i] - minus[i]) / (2 * eps);
        }
        return out;
    };

    Curvature(Network network, List<Batch> batches, CurvatureOptions options, ProductRule rule) {
        if (options == null) {
            throw new IllegalArgumentException("options must not be null");
        }
        this.loss = new TrainingLoss(network, batches, true);
        this.options = options;
        this.rule = rule;
        this.dimension = loss.dimension();
        this.exact = options.exactProducts() && network.hasExactHessianVectorProducts();
    }

    /** Diagnostics with {@link CurvatureOptions#defaults()}. */
    public static Curvature of(Network network, List<Batch> batches) {
        return of(network, batches, CurvatureOptions.defaults());
    }

    /**
     * Diagnostics of {@code network}'s loss on {@code batches} (at least one, each fitting the model:
     * an IllegalArgumentException naming the batch otherwise). Compiles one step program on the network.
     */
    public static Curvature of(Network network, List<Batch> batches, CurvatureOptions options) {
        return new Curvature(network, batches, options, CENTRAL);
    }

    public CurvatureOptions options() {
        return options;
    }

    public List<Batch> batches() {
        return loss.batches();
    }

    /** The number of parameter elements: the length of every vector here. */
    public int dimension() {
        return dimension;
    }

    /** Gradient evaluations (each over the whole set of batches) made by this object so far. */
    public long gradientEvaluations() {
        return loss.evaluations();
    }

    /**
     * H·v at the current parameters: ‖v‖ times the central difference of the class comment along
     * v/‖v‖; {@code v} holds every parameter element in parameter order. 2 gradient evaluations (none
     * for v = 0).
     */
    public double[] hessianVectorProduct(double[] v) {
        loss.checkVector(v, "v");
        double size = norm(v);
        return atTheta(() -> size == 0 ? new double[dimension] : scaled(along(scaled(v, 1 / size)), size));
    }

    /** The largest eigenvalue: {@code largestEigenvalues(1).get(0)} (Lanczos). */
    public Eigenvalue lambdaMax() {
        return largestEigenvalues(1).get(0);
    }

    /**
     * The k largest eigenvalues (algebraically: a negative eigenvalue never comes first), largest first,
     * by the Lanczos method with full reorthogonalisation: from a start vector uniform in [−1, 1)^D drawn
     * from the seed, each product H·q extends an orthonormal basis of the Krylov space, and the
     * eigenvalues of the small tridiagonal matrix T = QᵀHQ (Ritz values) estimate H's extreme ones.
     * Stops when each of the k largest Ritz values changes by at most {@code tolerance} relative to its
     * value between two products (never at a product that exhausted the Krylov space: it restarts from
     * a fresh vector orthogonal to the basis, which finds an eigenvalue H repeats), when the basis spans
     * the whole space, or after {@code maxIterations} products.
     * Each result's vector x is its Ritz vector, its residual ‖Hx − λx‖ measured with one more product
     * (for a symmetric operator some eigenvalue lies within it of λ; a large one says the finite
     * differences are not a linear operator there, as across a ReLU network's kinks), and its
     * iterations and gradient evaluations those of the whole run (shared by the k). It keeps every
     * basis vector: iterations × D doubles of memory. 2 gradient evaluations per iteration and 2 per
     * eigenvalue returned (its residual).
     */
    public List<Eigenvalue> largestEigenvalues(int k) {
        int most = Math.min(dimension, options.maxIterations());
        if (k < 1 || k > most) {
            throw new IllegalArgumentException("k must be in [1, " + most + "] (at most the number of parameters and "
                    + "maxIterations), got " + k);
        }
        return atTheta(() -> {
            long before = loss.evaluations();
            SplittableRandom random = new SplittableRandom(options.seed());
            double[] q = new double[dimension];
            for (int i = 0; i < dimension; i++) {
                q[i] = 2 * random.nextDouble() - 1;
            }
            q = scaled(q, 1 / norm(q));
            List<double[]> basis = new ArrayList<>();
            double[] alpha = new double[most];
            double[] beta = new double[most];
            double[] previous = null;
            boolean converged = false;
            int m = 0;
            double scale = 0; // the largest |α|, β met: what "zero" is measured against
            while (true) {
                basis.add(q);
                double[] w = along(q);
                alpha[m] = dot(q, w);
                m++;
                for (int pass = 0; pass < 2; pass++) { // twice is enough (Kahan–Parlett)
                    deflate(w, basis);
                }
                beta[m - 1] = norm(w);
                scale = Math.max(scale, Math.max(Math.abs(alpha[m - 1]), beta[m - 1]));
                // H·q lies in the space spanned so far: its Ritz values are exact, but an eigenvalue
                // repeated in H appears once; a fresh start orthogonal to the space finds the others.
                boolean exhausted = beta[m - 1] <= 1e-10 * scale;
                if (m >= k) {
                    double[] ritz = Tridiagonal.eigenvalues(alpha, beta, m);
                    converged = previous != null && !exhausted;
                    for (int j = 0; j < k && converged; j++) {
                        double now = ritz[m - 1 - j];
                        converged = Math.abs(now - previous[previous.length - 1 - j]) <= options.tolerance()
                                * Math.abs(now);
                    }
                    previous = ritz;
                }
                if (exhausted && m == dimension) {
                    converged = true; // the whole space: T is H in the basis Q
                }
                if (converged || m == most) {
                    break;
                }
                if (exhausted) {
                    beta[m - 1] = 0;
                    w = new double[dimension];
                    for (int i = 0; i < dimension; i++) {
                        w[i] = 2 * random.nextDouble() - 1;
                    }
                    for (int pass = 0; pass < 2; pass++) {
                        deflate(w, basis);
                    }
                    q = scaled(w, 1 / norm(w));
                } else {
                    q = scaled(w, 1 / beta[m - 1]);
                }
            }
            double[][] vectors = new double[m][];
            double[] values = Tridiagonal.eigen(alpha, beta, m, vectors);
            List<double[]> ritz = new ArrayList<>(k);
            double[] residuals = new double[k];
            for (int j = 0; j < k; j++) {
                double[] y = vectors[m - 1 - j];
                double[] x = new double[dimension];
                for (int b = 0; b < m; b++) {
                    double[] qb = basis.get(b);
                    for (int i = 0; i < dimension; i++) {
                        x[i] += y[b] * qb[i];
                    }
                }
                // Measured, not the Lanczos estimate |βₘyₘ|: that one assumes a linear, symmetric operator,
                // and a product by finite differences across a ReLU network's kinks is neither.
                residuals[j] = distance(along(x), scaled(x, values[m - 1 - j]));
                ritz.add(x);
            }
            long cost = loss.evaluations() - before;
            List<Eigenvalue> out = new ArrayList<>(k);
            for (int j = 0; j < k; j++) {
                out.add(new Eigenvalue(values[m - 1 - j], ritz.get(j), residuals[j], m, converged, cost));
            }
            return out;
        });
    }

    /**
     * The k eigenvalues of largest magnitude, largest first, by power iteration with deflation: each
     * iterate is kept orthogonal to the eigenvectors already found. Eigenvalue j starts from a vector
     * uniform in [−1, 1)^D drawn from the seed (after those of the eigenvalues before it) and stops
     * when the Rayleigh quotient changes by at most {@code tolerance} relative to its value, or after
     * {@code maxIterations} products. Near a minimum the Hessian's dominant eigenvalues are its
     * largest; a negative one of larger magnitude would come first (its sign shows it). 2 gradient
     * evaluations per iteration.
     */
    public List<Eigenvalue> topEigenvalues(int k) {
        if (k < 1 || k > dimension) {
            throw new IllegalArgumentException("k must be in [1, " + dimension + "] (the number of parameters), got "
                    + k);
        }
        return atTheta(() -> {
            SplittableRandom random = new SplittableRandom(options.seed());
            List<double[]> found = new ArrayList<>();
            List<Eigenvalue> out = new ArrayList<>();
            for (int j = 0; j < k; j++) {
                long before = loss.evaluations();
                double[] v = new double[dimension];
                for (int i = 0; i < dimension; i++) {
                    v[i] = 2 * random.nextDouble() - 1;
                }
                deflate(v, found);
                v = scaled(v, 1 / norm(v));
                // λ and the residual belong to the iterate the last product was taken at: that one is kept.
                double[] at = v;
                double lambda = 0;
                double residual = Double.NaN;
                double previous = Double.NaN;
                int iterations = 0;
                boolean converged = false;
                while (!converged && iterations < options.maxIterations()) {
                    at = v;
                    double[] w = along(at);
                    iterations++;
                    deflate(w, found);
                    lambda = dot(at, w);
                    residual = distance(w, scaled(at, lambda));
                    converged = Math.abs(lambda - previous) <= options.tolerance() * Math.abs(lambda);
                    double size = norm(w);
                    if (size == 0) { // v lies in the null space: an eigenvector of eigenvalue 0
                        break;
                    }
                    v = scaled(w, 1 / size);
                    previous = lambda;
                }
                found.add(at);
                out.add(new Eigenvalue(lambda, at, residual, iterations, converged || residual == 0, loss.evaluations() - before));
            }
            return out;
        });
    }

    /**
     * Hutchinson's estimate of the trace, the mean of zᵀHz over Rademacher probes z ({@link
     * #rademacherProbes} with the seed; E[zᵀHz] = tr H), with its standard error. 2 gradient
     * evaluations per probe.
     */
    public Trace trace(int probes) {
        if (probes < 2) {
            throw new IllegalArgumentException("probes must be >= 2 (a standard error needs two), got " + probes);
        }
        return atTheta(() -> {
            long before = loss.evaluations();
            SplittableRandom random = new SplittableRandom(options.seed());
            double[] samples = new double[probes];
            double mean = 0;
            for (int i = 0; i < probes; i++) {
                double[] z = rademacher(random, dimension);
                samples[i] = dot(z, along(z));
                mean += samples[i];
            }
            mean /= probes;
            double squares = 0;
            for (double s : samples) {
                squares += (s - mean) * (s - mean);
            }
            double standardError = Math.sqrt(squares / (probes - 1) / probes);
            return new Trace(mean, standardError, probes, samples, loss.evaluations() - before);
        });
    }

    /**
     * ρ-sharpness, max over ‖δ‖ ≤ ρ of L(θ + δ) − L(θ), estimated from below in two ways: SAM's one
     * step δ = ρ·g/‖g‖ (2 gradient evaluations), then {@code ascentSteps} steps of projected
     * normalised gradient ascent from SAM's point, δ ← P(δ + (2ρ/ascentSteps)·ĝ(θ + δ)) with P the
     * projection onto the ball (a step of 2ρ/K lets K steps cross the ball's diameter), keeping the
     * largest increase met (1 gradient evaluation per step). ρ is absolute, as SAM's.
     */
    public Sharpness sharpness(double rho, int ascentSteps) {
        if (!(rho >= 0 && rho < Double.POSITIVE_INFINITY)) {
            throw new IllegalArgumentException("rho must be a finite number >= 0, got " + rho);
        }
        if (ascentSteps < 0) {
            throw new IllegalArgumentException("ascentSteps must be >= 0, got " + ascentSteps);
        }
        return atTheta(() -> {
            long before = loss.evaluations();
            double[] at = lossAndGradient(null);
            double start = at[0];
            double[] delta = scaled(direction(at), rho);
            at = lossAndGradient(delta);
            double oneStep = at[0] - start;
            long oneStepEvaluations = loss.evaluations() - before;
            double best = oneStep;
            double largest = norm(delta);
            for (int s = 0; s < ascentSteps; s++) {
                double[] step = scaled(direction(at), 2 * rho / ascentSteps);
                for (int i = 0; i < dimension; i++) {
                    delta[i] += step[i];
                }
                double size = norm(delta);
                if (size > rho) {
                    delta = scaled(delta, rho / size);
                }
                at = lossAndGradient(delta);
                best = Math.max(best, at[0] - start);
                largest = Math.max(largest, norm(delta));
            }
            return new Sharpness(rho, start, oneStep, oneStepEvaluations, best, ascentSteps, largest,
                    loss.evaluations() - before);
        });
    }

    /**
     * The Rademacher probes of {@link #trace} for a seed: probe i, element j is +1 or −1 by the sign of
     * the (i·dimension + j)-th {@code nextLong()} of {@code new SplittableRandom(seed)} (+1 for ≥ 0).
     */
    public static double[][] rademacherProbes(long seed, int count, int dimension) {
        if (count < 0 || dimension < 1) {
            throw new IllegalArgumentException("count must be >= 0 and dimension >= 1, got " + count + " and "
                    + dimension);
        }
        SplittableRandom random = new SplittableRandom(seed);
        double[][] z = new double[count][];
        for (int i = 0; i < count; i++) {
            z[i] = rademacher(random, dimension);
        }
        return z;
    }

    /** The next probe of the stream (drawn one at a time: all of them at once may not fit in memory). */
    private static double[] rademacher(SplittableRandom random, int dimension) {
        double[] z = new double[dimension];
        for (int j = 0; j < dimension; j++) {
            z[j] = random.nextLong() < 0 ? -1 : 1;
        }
        return z;
    }

    /** Frees the compiled step program; the network stays open. */
    @Override
    public void close() {
        loss.close();
    }

    // One call: read θ, run, put θ back whatever happened.

    private <R> R atTheta(Supplier<R> body) {
        return loss.call(() -> {
            double rms = norm(loss.theta()) / Math.sqrt(dimension);
            eps = options.hRelative() * (rms > 0 ? rms : 1);
            return body.get();
        });
    }

    /** H·v: exact where the engine has it, else by the rule, from gradients at θ ± ε·v: 2 gradient evaluations. */
    private double[] along(double[] v) {
        if (exact) {
            return loss.exactProduct(v);
        }
        return rule.product(delta -> Arrays.copyOfRange(lossAndGradient(delta), 1, dimension + 1), v, eps);
    }

    /**
     * Whether the products are exact (the engine's second-order autodiff, {@link
     * CurvatureOptions#exactProducts()}) rather than central differences of gradients.
     */
    public boolean exactProducts() {
        return exact;
    }

    /** {@code [L, ∇L...]} at θ + δ (δ null: at θ itself): one gradient evaluation. */
    private double[] lossAndGradient(double[] delta) {
        if (delta == null) {
            return loss.lossAndGradient(null, () -> "θ");
        }
        double[] theta = loss.theta();
        double[] moved = new double[dimension];
        for (int i = 0; i < dimension; i++) {
            moved[i] = theta[i] + delta[i];
        }
        return loss.lossAndGradient(moved, () -> "θ + δ with ‖δ‖ = " + norm(delta)
                + " (a smaller hRelative or rho may help)");
    }

    /** ∇L/‖∇L‖ from {@code [L, ∇L...]}; 0 for a zero gradient. */
    private static double[] direction(double[] lossAndGradient) {
        double[] g = Arrays.copyOfRange(lossAndGradient, 1, lossAndGradient.length);
        double size = norm(g);
        return size == 0 ? g : scaled(g, 1 / size);
    }

    /** Removes from w its components along the (unit, orthogonal) vectors found. */
    private static void deflate(double[] w, List<double[]> found) {
        for (double[] q : found) {
            double c = dot(q, w);
            for (int i = 0; i < w.length; i++) {
                w[i] -= c * q[i];
            }
        }
    }

    // Vector arithmetic on the host (package-private: the tests use the same).

    static double[] scaled(double[] v, double factor) {
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = factor * v[i];
        }
        return out;
    }

    static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    static double norm(double[] v) {
        return Math.sqrt(dot(v, v));
    }

    static double distance(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += (a[i] - b[i]) * (a[i] - b[i]);
        }
        return Math.sqrt(s);
    }
}
