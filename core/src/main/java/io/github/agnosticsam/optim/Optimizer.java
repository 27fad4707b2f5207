package io.github.agnosticsam.optim;

import io.github.agnosticsam.spi.Pass;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;


/**
 * An optimizer configuration: a base optimizer ({@link Sgd}, {@link Adam}) alone, or wrapped by
 * {@link Sam} (SAM and ASAM) or {@link AgnosticSam}. Immutable; validated when built. Run it with
 * {@code Training.start}.
 */
public sealed interface Optimizer permits BaseOptimizer, Sam, AgnosticSam {

    /**
     * The gradient evaluations of one step, in order: the base [train], SAM [train, train
     * perturbed], Agnostic-SAM EXACT [train, validation, validation perturbed, train perturbed],
     * FAST [train, validation, train perturbed], and with ρ₂ the constant 0 SAM's.
     */
    List<Pass> passes();

    /** Gradient evaluations per step: the number of {@link #passes()}. */
    default int gradientEvaluations() {
        return passes().size();
    }

    /**
     * The scheduled hyperparameters of step {@code step} (from 0), by name: {@code lr}, then
     * {@code rho} (SAM) or {@code rho1} and {@code rho2} (Agnostic-SAM).
     */
    default Map<String, Double> scheduledAt(long step) {
        Map<String, Double> m = new LinkedHashMap<>();
        if (this instanceof BaseOptimizer b) {
            m.put("lr", b.lr().at(step));
        } else if (this instanceof Sam s) {
            m.put("lr", s.base().lr().at(step));
            m.put("rho", s.rho().at(step));
        } else if (this instanceof AgnosticSam a) {
            m.put("lr", a.base().lr().at(step));
            m.put("rho1", a.rho1().at(step));
            m.put("rho2", a.rho2().at(step));
        }
        return m;
    }
}
