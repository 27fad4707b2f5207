package io.github.agnosticsam;

/** No engine matches the request; the message lists the engines found and how to add one. */
public class EngineNotFoundException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public EngineNotFoundException(String message) {
        super(message);
    }
}
