package io.github.agnosticsam.examples;

import io.github.agnosticsam.model.ModelSpec;
import io.github.agnosticsam.optim.Optimizers;
import java.util.Iterator;

/** The names options take, read from the library (picocli lists them in the help as ${COMPLETION-CANDIDATES}). */
final class Names {
    private Names() {
    }

    /** The standard models of docs/models.md. */
    static final class Models implements Iterable<String> {
        @Override
        public Iterator<String> iterator() {
            return ModelSpec.STANDARD.iterator();
        }
    }

    /** The optimizers by the names every command shares. */
    static final class OptimizerNames implements Iterable<String> {
        @Override
        public Iterator<String> iterator() {
            return Optimizers.names().iterator();
        }
    }
}
