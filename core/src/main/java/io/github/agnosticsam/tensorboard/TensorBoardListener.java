package io.github.agnosticsam.tensorboard;

import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.optim.Optimizer;
import io.github.agnosticsam.spi.Network;
import io.github.agnosticsam.training.StepListener;
import io.github.agnosticsam.training.StepResult;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A training's TensorBoard log, under the tags a TensorBoard user expects: every {@code every}
 * steps {@code train/loss}, {@code train/lr}, {@code train/rho} (or {@code train/rho1} and
 * {@code train/rho2}) and {@code train/skipped} (1 when the step was not applied); what the
 * application adds per epoch ({@link #epoch}, {@link #parameters}). Every value is logged at the
 * number of steps run so far, the count a checkpoint records, so a run resumed from a checkpoint
 * ({@link #resume}) continues the same axis.
 *
 * <pre>{@code
 * try (TensorBoardListener board = TensorBoardListener.open(Path.of("runs/asam"), optimizer, 10);
 *      Training training = Training.start(network, optimizer)) {
 *     training.listen(board);
 *     ... training.step(train, validation) ...
 *     board.epoch(training.steps(), Map.of("test/accuracy", accuracy));
 *     board.parameters(training.steps(), network);
 * }
 * }</pre>
 */
public final class TensorBoardListener implements StepListener, AutoCloseable {
    private final SummaryWriter writer;
    private final Optimizer optimizer;
    private final int every;

    private TensorBoardListener(SummaryWriter writer, Optimizer optimizer, int every) {
        if (optimizer == null) {
            throw new IllegalArgumentException("optimizer must not be null");
        }
        if (every < 1) {
            throw new IllegalArgumentException("every must be >= 1 (steps between logged steps), got " + every);
        }
        this.writer = writer;
        this.optimizer = optimizer;
        this.every = every;
    }

    /** A new run in {@code dir}; {@code optimizer} is the training's (its schedules give lr and ρ). */
    public static TensorBoardListener open(Path dir, Optimizer optimizer, int every) {
        return new TensorBoardListener(SummaryWriter.open(dir), optimizer, every);
    }

    /** The run in {@code dir}, continued after {@code steps} steps (a checkpoint's {@code steps()}). */
    public static TensorBoardListener resume(Path dir, long steps, Optimizer optimizer, int every) {
        return new TensorBoardListener(SummaryWriter.resume(dir, steps), optimizer, every);
    }

    /** The writer underneath, for anything else (images, text). */
    public SummaryWriter writer() {
        return writer;
    }

    @Override
    public void afterStep(StepResult result) {
        long done = result.step() + 1;
        if (done % every != 0) {
            return;
        }
        writer.addScalar("train/loss", result.loss(), done);
        for (Map.Entry<String, Double> h : optimizer.scheduledAt(result.step()).entrySet()) {
            writer.addScalar("train/" + h.getKey(), h.getValue(), done);
        }
        writer.addScalar("train/skipped", result.applied() ? 0 : 1, done);
    }

    /** Scalars of an epoch (or any moment) at {@code steps}, by tag; then the log is flushed. */
    public void epoch(long steps, Map<String, ? extends Number> scalars) {
        scalars.forEach((tag, v) -> writer.addScalar(tag, v.doubleValue(), steps));
        writer.flush();
    }

    /** A histogram of every parameter tensor, tagged {@code parameters/<name>}. */
    public void parameters(long steps, Network network) {
        List<String> names = network.model().parameterNames();
        List<HostTensor> values = network.parameters();
        for (int i = 0; i < names.size(); i++) {
            writer.addHistogram("parameters/" + names.get(i), values.get(i).values(), steps);
        }
        writer.flush();
    }

    @Override
    public void close() {
        writer.close();
    }
}
