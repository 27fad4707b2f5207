package io.github.agnosticsam.optim;

import java.util.List;

/**
 * The optimizer vocabulary every command and config file shares: {@code sgd}, {@code sam},
 * {@code asam}, {@code agnostic-sam} (EXACT), {@code agnostic-sam-fast}, {@code agnostic-asam}
 * (EXACT) and {@code agnostic-asam-fast}. The defaults are those of the builders of {@link Sam} and
 * {@link AgnosticSam}: ρ 0.05 (sam), 0.5 (asam); ρ₂ 0.05 (agnostic-sam*), 0.5 (agnostic-asam*);
 * ρ₁ 2·ρ₂; η 0.01.
 */
public final class Optimizers {
    private static final List<String> NAMES = List.of("sgd", "sam", "asam", "agnostic-sam", "agnostic-sam-fast",
            "agnostic-asam", "agnostic-asam-fast");

    private Optimizers() {
    }

    public static List<String> names() {
        return NAMES;
    }

    /** A builder for the named optimizer; the base optimizer is required. */
    public static Builder named(String name) {
        if (name == null || !NAMES.contains(name)) {
            throw new IllegalArgumentException("optimizer must be one of " + String.join(", ", NAMES) + ", got "
                    + (name == null ? "null" : "'" + name + "'"));
        }
        return new Builder(name);
    }

    public static final class Builder {
        private final String name;
        private BaseOptimizer base;
        private Double rho;
        private Double rho1;
        private Double rho2;
        private Double eta;

        private Builder(String name) {
            this.name = name;
        }

        public Builder base(BaseOptimizer base) {
            this.base = base;
            return this;
        }

        /** ρ of sam and asam. */
        public Builder rho(double rho) {
            this.rho = rho;
            return this;
        }

        /** ρ₁ of the agnostic-* optimizers. */
        public Builder rho1(double rho1) {
            this.rho1 = rho1;
            return this;
        }

        /** ρ₂ of the agnostic-* optimizers. */
        public Builder rho2(double rho2) {
            this.rho2 = rho2;
            return this;
        }

        /** η of the adaptive (asam) optimizers. */
        public Builder eta(double eta) {
            this.eta = eta;
            return this;
        }

        /** @throws IllegalArgumentException for a radius the named optimizer does not have */
        public Optimizer build() {
            if (base == null) {
                throw new IllegalArgumentException("base optimizer is required");
            }
            boolean agnostic = name.startsWith("agnostic-");
            boolean adaptive = name.contains("asam");
            boolean sharpness = !name.equals("sgd");
            refuse(rho != null && (agnostic || !sharpness), "rho", "sam and asam (agnostic-* take rho1 and rho2)");
            refuse((rho1 != null || rho2 != null) && !agnostic, "rho1/rho2", "the agnostic-* optimizers");
            refuse(eta != null && !adaptive, "eta", "the adaptive optimizers (asam, agnostic-asam*)");
            if (!sharpness) {
                return base;
            }
            if (!agnostic) {
                Sam.Builder sam = Sam.builder().base(base).adaptive(adaptive);
                if (rho != null) {
                    sam.rho(rho);
                }
                if (eta != null) {
                    sam.eta(eta);
                }
                return sam.build();
            }
            AgnosticSam.Builder a = AgnosticSam.builder().base(base).adaptive(adaptive)
                    .variant(name.endsWith("-fast") ? AgnosticSam.Variant.FAST : AgnosticSam.Variant.EXACT);
            if (rho1 != null) {
                a.rho1(rho1);
            }
            if (rho2 != null) {
                a.rho2(rho2);
            }
            if (eta != null) {
                a.eta(eta);
            }
            return a.build();
        }

        private void refuse(boolean bad, String what, String forWhom) {
            if (bad) {
                throw new IllegalArgumentException(what + " applies to " + forWhom + ", not to " + name);
            }
        }
    }
}
