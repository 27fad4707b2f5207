package io.github.agnosticsam.conformance;

/** A case file that cannot be read: the message names the file, the JSON path and what is wrong. */
public class CaseFormatException extends Exception {
    private static final long serialVersionUID = 1L;

    public CaseFormatException(String message) {
        super(message);
    }

    public CaseFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
