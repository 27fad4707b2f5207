package io.github.agnosticsam.training;

/**
 * A checkpoint that cannot be read (truncated, corrupt, not a checkpoint: the message names the
 * file) or that does not fit the run it is restored into (the message names what differs).
 */
public class CheckpointException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public CheckpointException(String message) {
        super(message);
    }

    public CheckpointException(String message, Throwable cause) {
        super(message, cause);
    }
}
