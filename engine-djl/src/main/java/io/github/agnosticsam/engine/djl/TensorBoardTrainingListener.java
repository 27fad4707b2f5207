package io.github.agnosticsam.engine.djl;

import ai.djl.training.Trainer;
import ai.djl.training.TrainingResult;
import ai.djl.training.listener.TrainingListenerAdapter;
import io.github.agnosticsam.optim.Optimizer;
import io.github.agnosticsam.tensorboard.TensorBoardListener;
import io.github.agnosticsam.training.StepResult;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A DJL {@code TrainingListener} that logs a {@link SharpnessAwareTrainer}'s run for TensorBoard,
 * added like DJL's own: every {@code every} steps {@code train/loss}, {@code train/lr},
 * {@code train/rho…} and {@code train/skipped}; at each epoch's end the trainer's evaluations
 * ({@code epoch/train_loss}, {@code epoch/validate_Accuracy}, … as DJL names them) and a histogram
 * of every parameter. Add it after {@code TrainingListener.Defaults.logging()}, whose evaluator
 * listener computes the evaluations it logs. Restoring a checkpoint into the
 * {@code SharpnessAwareTrainer} continues the run's stream after the checkpoint's step.
 *
 * <pre>{@code
 * DefaultTrainingConfig config = new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
 *         .addEvaluator(new Accuracy())
 *         .addTrainingListeners(TrainingListener.Defaults.logging())
 *         .addTrainingListeners(new TensorBoardTrainingListener(Path.of("runs/asam"), optimizer, 10));
 * }</pre>
 */
public final class TensorBoardTrainingListener extends TrainingListenerAdapter {
    private final Path dir;
    private final Optimizer optimizer;
    private final int every;
    private SharpnessAwareTrainer stepping;
    private TensorBoardListener log;
    private long resumeAfter = -1;

    /** Logs into the run folder {@code dir}; {@code optimizer} is the SharpnessAwareTrainer's (lr and ρ). */
    public TensorBoardTrainingListener(Path dir, Optimizer optimizer, int every) {
        if (dir == null || optimizer == null) {
            throw new IllegalArgumentException("the run's folder and the optimizer must not be null");
        }
        if (every < 1) {
            throw new IllegalArgumentException("every must be >= 1 (steps between logged steps), got " + every);
        }
        this.dir = dir;
        this.optimizer = optimizer;
        this.every = every;
    }

    /** The run's folder. */
    public Path dir() {
        return dir;
    }

    void bind(SharpnessAwareTrainer sam) {
        stepping = sam;
    }

    void unbind(SharpnessAwareTrainer sam) {
        if (stepping == sam) {
            stepping = null;
            close();
        }
    }

    void restored(SharpnessAwareTrainer sam, long steps) {
        if (stepping == sam) {
            close();
            resumeAfter = steps;
        }
    }

    /** A step of the bound SharpnessAwareTrainer. */
    void stepped(StepResult result) {
        log().afterStep(result);
    }

    @Override
    public void onEpoch(Trainer trainer) {
        if (stepping == null) {
            return; // plain DJL steps: nothing of ours to log
        }
        long steps = stepping.steps();
        TrainingResult result = trainer.getTrainingResult();
        Map<String, Float> evaluations = result == null ? Map.of() : result.getEvaluations();
        Map<String, Float> tagged = new LinkedHashMap<>();
        evaluations.forEach((name, value) -> tagged.put("epoch/" + name, value));
        log().epoch(steps, tagged);
        log().parameters(steps, stepping.network());
    }

    @Override
    public void onTrainingEnd(Trainer trainer) {
        flush();
    }

    /** Writes what was logged so far (before a checkpoint is taken). */
    void flush() {
        if (log != null) {
            log.writer().flush();
        }
    }

    private TensorBoardListener log() {
        if (log == null) {
            log = resumeAfter < 0 ? TensorBoardListener.open(dir, optimizer, every)
                    : TensorBoardListener.resume(dir, resumeAfter, optimizer, every);
        }
        return log;
    }

    private void close() {
        if (log != null) {
            log.close();
            log = null;
        }
    }
}
