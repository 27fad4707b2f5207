package io.github.agnosticsam.internal;

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
        List<T> out = new ArrayList<>(grads.size());
        if (!adaptive) {
            T scale = ops.div(rho, ops.add(ListOps.norm(ops, grads), ops.scalar(EPSILON)));
            for (T g : grads) {
                out.add(ops.mul(g, scale));
            }
            return out;
        }
        T etaT = ops.scalar(eta);
        List<T> radii = new ArrayList<>(grads.size());
        List<T> scaledGrads = new ArrayList<>(grads.size());
        for (int i = 0; i < grads.size(); i++) {
            T radius = ops.add(ops.abs(params.get(i)), etaT);
            radii.add(radius);
            scaledGrads.add(ops.mul(radius, grads.get(i)));
        }
        T scale = ops.div(rho, ops.add(ListOps.norm(ops, scaledGrads), ops.scalar(EPSILON)));
        for (int i = 0; i < grads.size(); i++) {
            out.add(ops.mul(ops.mul(radii.get(i), scaledGrads.get(i)), scale));
        }
        return out;
    }

    /** The Agnostic-SAM perturbation e = ρ₁·D(θ, gₜ) − ρ₂·D(θ, gᵥ). */
    public static <T> List<T> perturbation(Tensors<T> ops, List<T> params, List<T> trainGrads, T rho1,
            List<T> validationGrads, T rho2, boolean adaptive, double eta) {
        return ListOps.minus(ops, scaledDirection(ops, params, trainGrads, rho1, adaptive, eta),
                scaledDirection(ops, params, validationGrads, rho2, adaptive, eta));
    }
}
