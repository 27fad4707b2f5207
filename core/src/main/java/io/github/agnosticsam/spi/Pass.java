package io.github.agnosticsam.spi;

/**
 * Which gradient evaluation of a step the oracle is asked for. Only {@link #TRAIN} (the clean
 * pass on the train batch) may update running statistics such as BatchNorm's; every other pass
 * runs in training mode with batch statistics and leaves them as {@code TRAIN} left them.
 */
public enum Pass {
    /** Train batch at θ: the reported loss. */
    TRAIN(false, false),
    /** Train batch at a perturbed point. */
    TRAIN_PERTURBED(false, true),
    /** Validation batch at θ. */
    VALIDATION(true, false),
    /** Validation batch at a perturbed point. */
    VALIDATION_PERTURBED(true, true);

    private final boolean validation;
    private final boolean perturbed;

    Pass(boolean validation, boolean perturbed) {
        this.validation = validation;
        this.perturbed = perturbed;
    }

    /** True when the pass reads the validation batch, false for the train batch. */
    public boolean usesValidationBatch() {
        return validation;
    }

    public boolean isPerturbed() {
        return perturbed;
    }

    /** Only the clean train pass updates running statistics. */
    public boolean updatesRunningStatistics() {
        return this == TRAIN;
    }

    /** Human-readable, for error messages: "validation, perturbed". */
    public String describe() {
        return (validation ? "validation" : "train") + (perturbed ? ", perturbed" : "");
    }
}
