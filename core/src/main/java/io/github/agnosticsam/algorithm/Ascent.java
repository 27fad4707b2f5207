package io.github.agnosticsam.algorithm;

import io.github.agnosticsam.spi.Tensors;
import java.util.ArrayList;
import java.util.List;

/**
 * The ascent direction D(θ, g) of docs/algorithm.md, scaled by a radius:
 * plain ρ·g / (‖g‖ + ε); adaptive (ASAM) ρ·T⊙T⊙g / (‖T⊙g‖ + ε) with T = |θ| + η.
 * Data-independent: a zero gradient gives 0 through the ε guard, not through a branch.
 */
public final class Ascent {

    /** The fixed guard of the ascent direction (not Adam's epsilon). */
    public static final double EPSILON = 1e-12;

    private Ascent() {
    }

    /** ρ·D(θ, g), per parameter. {@code rho} is a scalar tensor. */
    public static <T> List<T> scaledDirection(Tensors<T> ops, List<T> params, List<T> grads, T rho,
            boolean adaptive, double eta) {
        return scaled(ops, params, grads, rho, adaptive, eta, null);
    }

    /** {@code base} + ρ·D(θ, g), per parameter: one multiply-add each (a perturbed point, say). */
    public static <T> List<T> addScaledDirection(Tensors<T> ops, List<T> params, List<T> grads, T rho,
            boolean adaptive, double eta, List<T> base) {
        return scaled(ops, params, grads, rho, adaptive, eta, base);
    }

    /**
     * The Agnostic-SAM perturbation e = ρ₁·D(θ, gₜ) − ρ₂·D(θ, gᵥ), given {@code ascent} = ρ₁·D(θ, gₜ)
     * (a step computes it before the validation passes and keeps only it, not gₜ).
     */
    public static <T> List<T> perturbation(Tensors<T> ops, List<T> params, List<T> ascent,
            List<T> validationGrads, T rho2, boolean adaptive, double eta) {
        return addScaledDirection(ops, params, validationGrads, ListOps.negate(ops, rho2), adaptive, eta, ascent);
    }

    /** ρ·D(θ, g), or base + ρ·D(θ, g) when base is not null. */
    private static <T> List<T> scaled(Tensors<T> ops, List<T> params, List<T> grads, T rho, boolean adaptive,
            double eta, List<T> base) {
        List<T> normed = grads; // whose norm divides: g, or T⊙g (ASAM)
        List<T> directions = grads; // what is scaled: g, or T⊙T⊙g
        if (adaptive) {
            T etaT = ops.scalar(eta);
            normed = new ArrayList<>(grads.size());
            directions = new ArrayList<>(grads.size());
            for (int i = 0; i < grads.size(); i++) {
                T radius = ops.add(ops.abs(params.get(i)), etaT);
                T scaledGrad = ops.mul(radius, grads.get(i));
                normed.add(scaledGrad);
                directions.add(ops.mul(radius, scaledGrad));
            }
        }
        T scale = ops.div(rho, ops.add(ListOps.norm(ops, normed), ops.scalar(EPSILON)));
        List<T> out = new ArrayList<>(directions.size());
        for (int i = 0; i < directions.size(); i++) {
            out.add(base == null ? ops.mul(directions.get(i), scale) : ops.axpy(scale, directions.get(i), base.get(i)));
        }
        return out;
    }
}
