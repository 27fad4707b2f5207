package io.github.agnosticsam.diagnostics;

/**
 * Settings of the {@link Curvature} diagnostics; {@link #defaults()} holds the prescribed values and
 * the {@code with...} methods change one. An invalid value is an IllegalArgumentException naming it.
 *
 * @param hRelative the finite-difference step of a Hessian-vector product relative to the parameters'
 *     scale: θ is displaced by ±ε·v with ε = hRelative·rms(θ), v a unit vector (the eigenvalues) or a
 *     ±1 probe (the trace) (0 &lt; hRelative ≤ 1; default {@value #DEFAULT_H_RELATIVE}; see {@link
 *     Curvature} and docs/diagnostics.md for why and for the errors measured)
 * @param tolerance Lanczos and power iteration stop when the estimates (the k largest Ritz values;
 *     the Rayleigh quotient) change by at most this, relative to their values (0 &lt; tolerance &lt; 1;
 *     default {@value #DEFAULT_TOLERANCE})
 * @param maxIterations they stop after this many products (power iteration: per eigenvalue) however
 *     far they got (≥ 1; default {@value #DEFAULT_MAX_ITERATIONS}); the result says whether they
 *     converged. Lanczos keeps one vector of D doubles per product
 * @param seed start vectors and Rademacher probes are drawn on the host from this seed, so every
 *     engine uses the same ones (default 0)
 * @param exactProducts whether Hessian-vector products are exact on an engine that has them
 *     ({@code Network.hasExactHessianVectorProducts()}: double backward, no step); false, or an
 *     engine without them: central differences with {@code hRelative} (default true)
 */
public record CurvatureOptions(double hRelative, double tolerance, int maxIterations, long seed,
        boolean exactProducts) {
    /**
     * The step measured best for λ_max and the trace together on the standard MLP (784-256-10) in
     * float64, ReLU and tanh (docs/diagnostics.md); no step is right for every model.
     */
    public static final double DEFAULT_H_RELATIVE = 0.05;
    public static final double DEFAULT_TOLERANCE = 1e-4;
    public static final int DEFAULT_MAX_ITERATIONS = 100;

    public CurvatureOptions {
        if (!(hRelative > 0 && hRelative <= 1)) {
            throw new IllegalArgumentException("hRelative must be a finite number in (0, 1] (the step relative to "
                    + "the parameters' root mean square), got " + hRelative);
        }
        if (!(tolerance > 0 && tolerance < 1)) {
            throw new IllegalArgumentException("tolerance must be a finite number in (0, 1), got " + tolerance);
        }
        if (maxIterations < 1) {
            throw new IllegalArgumentException("maxIterations must be >= 1, got " + maxIterations);
        }
    }

    /** Options as before exact products existed: exact ones are used where the engine has them. */
    public CurvatureOptions(double hRelative, double tolerance, int maxIterations, long seed) {
        this(hRelative, tolerance, maxIterations, seed, true);
    }

    public static CurvatureOptions defaults() {
        return new CurvatureOptions(DEFAULT_H_RELATIVE, DEFAULT_TOLERANCE, DEFAULT_MAX_ITERATIONS, 0, true);
    }

    public CurvatureOptions withHRelative(double value) {
        return new CurvatureOptions(value, tolerance, maxIterations, seed, exactProducts);
    }

    public CurvatureOptions withTolerance(double value) {
        return new CurvatureOptions(hRelative, value, maxIterations, seed, exactProducts);
    }

    public CurvatureOptions withMaxIterations(int value) {
        return new CurvatureOptions(hRelative, tolerance, value, seed, exactProducts);
    }

    public CurvatureOptions withSeed(long value) {
        return new CurvatureOptions(hRelative, tolerance, maxIterations, value, exactProducts);
    }

    /** Central differences even where the engine has exact products (false), or exact ones there (true). */
    public CurvatureOptions withExactProducts(boolean value) {
        return new CurvatureOptions(hRelative, tolerance, maxIterations, seed, value);
    }
}
