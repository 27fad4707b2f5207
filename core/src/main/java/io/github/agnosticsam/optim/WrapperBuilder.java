package io.github.agnosticsam.optim;

/**
 * What the builders of the sharpness-aware wrappers ({@link Sam}, {@link AgnosticSam}) share: the
 * base optimizer, plain or adaptive (ASAM), and η.
 *
 * @param <B> the builder itself, so that every setter chains
 */
public abstract class WrapperBuilder<B extends WrapperBuilder<B>> {
    BaseOptimizer base;
    boolean adaptive;
    double eta = DefaultRadii.ETA;

    WrapperBuilder() {
    }

    /** The base optimizer that updates θ with the gradient at the perturbed point; required. */
    public B base(BaseOptimizer base) {
        this.base = base;
        return self();
    }

    /** ASAM's scale-invariant perturbation (Kwon et al. 2021) instead of SAM's; default plain. */
    public B adaptive(boolean adaptive) {
        this.adaptive = adaptive;
        return self();
    }

    /** ASAM's η, added to |θ| in its scaling; default {@value DefaultRadii#ETA}. */
    public B eta(double eta) {
        this.eta = eta;
        return self();
    }

    @SuppressWarnings("unchecked")
    private B self() {
        return (B) this;
    }
}
