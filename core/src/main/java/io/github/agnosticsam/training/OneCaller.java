package io.github.agnosticsam.training;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

/** Lets one thread at a time into a driver's calls, and tells a second one so at once. */
final class OneCaller {
    private final AtomicBoolean busy = new AtomicBoolean();

    /**
     * Runs {@code body} alone: a second thread entering meanwhile gets an IllegalStateException at
     * once, naming {@code what} (the call that runs is not disturbed).
     */
    <R> R alone(String what, Supplier<R> body) {
        if (!busy.compareAndSet(false, true)) {
            throw new IllegalStateException(what + " called from two threads at once; it is not thread-safe: step it "
                    + "from one thread (or hand it over with a lock)");
        }
        try {
            return body.get();
        } finally {
            busy.set(false);
        }
    }
}
