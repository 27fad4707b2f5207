package io.github.agnosticsam.model;

/** Hidden-layer activation of the conformance MLP. */
public enum Activation {
    RELU, TANH;

    /** The lowercase name used in case files and on the command line. */
    public String id() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    public static Activation fromId(String id) {
        for (Activation a : values()) {
            if (a.id().equals(id)) {
                return a;
            }
        }
        throw new IllegalArgumentException("activation must be relu or tanh, got '" + id + "'");
    }
}
