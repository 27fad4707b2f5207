package io.github.agnosticsam.spi;

/**
 * An engine cannot do what was asked (a model or an operation it does not build). Test kits and
 * the conformance runner report it as skipped, never as passed.
 */
public class UnsupportedFeatureException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public UnsupportedFeatureException(String message) {
        super(message);
    }
}
