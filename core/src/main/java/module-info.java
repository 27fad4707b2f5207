/**
 * Sharpness-aware training written once over an abstract tensor algebra.
 *
 * <p>The packages are layers; each imports only the ones listed after it (a test checks this):
 * <ul>
 * <li>{@code io.github.agnosticsam} — finding an engine ({@code Engines}): where a user starts;
 * <li>{@code io.github.agnosticsam.tensorboard} — TensorBoard event files of a run
 *     ({@code SummaryWriter}, {@code TensorBoardListener});
 * <li>{@code io.github.agnosticsam.training} — running an optimizer on a network ({@code Training},
 *     {@code StepResult}, {@code Checkpoint});
 * <li>{@code io.github.agnosticsam.diagnostics} — the curvature and landscape of a network's loss;
 * <li>{@code io.github.agnosticsam.algorithm} — the optimizers' step programs, written once (not
 *     exported, except to the conformance kit);
 * <li>{@code io.github.agnosticsam.spi.support} — what an engine is built on (base networks, flat
 *     layout, logits);
 * <li>{@code io.github.agnosticsam.optim} — optimizer configurations ({@code Sgd}, {@code Sam},
 *     {@code AgnosticSam}, schedules);
 * <li>{@code io.github.agnosticsam.spi} — what an engine implements ({@code EngineProvider},
 *     {@code Engine}, {@code Network}, {@code Tensors}, {@code StepProgram});
 * <li>{@code io.github.agnosticsam.model} — neutral model descriptions and host data
 *     ({@code ModelSpec}, {@code HostTensor}, {@code Batch});
 * <li>{@code io.github.agnosticsam.io} — the file formats' helpers: JSON, atomic writes;
 * <li>{@code io.github.agnosticsam.internal} — argument checks (not exported).
 * </ul>
 */
module io.github.agnosticsam.core {
    exports io.github.agnosticsam;
    exports io.github.agnosticsam.tensorboard;
    exports io.github.agnosticsam.training;
    exports io.github.agnosticsam.diagnostics;
    exports io.github.agnosticsam.spi.support;
    exports io.github.agnosticsam.optim;
    exports io.github.agnosticsam.spi;
    exports io.github.agnosticsam.model;
    exports io.github.agnosticsam.io;
    exports io.github.agnosticsam.algorithm to io.github.agnosticsam.conformance;

    uses io.github.agnosticsam.spi.EngineProvider;
}
