package io.github.agnosticsam.examples;

import java.util.Locale;
import java.util.function.Function;

/**
 * Checks an allocation whose size comes from a user or a file against the Java heap before it is
 * made: too big is a one-line error naming the option or file, never an OutOfMemoryError.
 */
final class Heap {
    /** The most elements of one Java array (HotSpot refuses a few below Integer.MAX_VALUE). */
    static final long MAX_ARRAY = Integer.MAX_VALUE - 8;
    /**
     * The bytes a command keeps per result value it reports (a loss per landscape point, a sample
     * per probe): the double, its boxed copies in the result and the report, its JSON text.
     */
    static final long RESULT_BYTES = 64;

    private Heap() {
    }

    /** The heap not in use now, with what it may still grow by. */
    static long free() {
        Runtime r = Runtime.getRuntime();
        return r.maxMemory() - (r.totalMemory() - r.freeMemory());
    }

    /**
     * Throws {@code error}'s exception unless {@code bytes} fit in the free heap and each array is of
     * at most {@link #MAX_ARRAY} elements; {@code what} names the request ("--points 50000", "file:
     * 2000000 labels").
     */
    static void check(String what, long largestArray, double bytes, Function<String, ? extends RuntimeException> error) {
        if (largestArray > MAX_ARRAY) {
            throw error.apply(what + " needs an array of " + largestArray + " elements; Java's arrays hold at most "
                    + MAX_ARRAY);
        }
        long free = free();
        if (bytes > free) {
            throw error.apply(String.format(Locale.ROOT, "%s needs about %.0f MiB of Java heap, %d MiB are free: ask "
                    + "for less, or give the JVM more (AGNOSTIC_SAM_JAVA_OPTS=-Xmx...)", what, bytes / (1 << 20),
                    free / (1 << 20)));
        }
    }
}
