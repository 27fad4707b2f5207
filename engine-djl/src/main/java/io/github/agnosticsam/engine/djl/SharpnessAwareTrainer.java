package io.github.agnosticsam.engine.djl;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.EasyTrain;
import ai.djl.training.Trainer;
import ai.djl.training.dataset.Batch;
import ai.djl.training.dataset.Dataset;
import ai.djl.training.dataset.RandomAccessDataset;
import ai.djl.training.listener.TrainingListener;
import ai.djl.translate.TranslateException;
import io.github.agnosticsam.BadValuePolicy;
import io.github.agnosticsam.ModelSpec;
import io.github.agnosticsam.Optimizer;
import io.github.agnosticsam.StepLedger;
import io.github.agnosticsam.StepResult;
import io.github.agnosticsam.spi.StepProgram;
import io.github.agnosticsam.spi.support.EagerNetwork;
import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * Sharpness-aware training inside a DJL training loop. You keep your {@code Model}, {@code Block},
 * {@code Trainer} (its loss, devices, evaluators, metrics and {@code TrainingListener}s) and
 * datasets; each {@link #trainBatch} replaces DJL's forward/backward and {@code trainer.step()}
 * with one SAM, ASAM or Agnostic-SAM step, then tells the trainer's listeners about the batch as
 * {@code EasyTrain} does. The Trainer's own DJL optimizer is not used: the base optimizer is the one
 * inside the given {@link Optimizer}. Running statistics (BatchNorm) move only in the clean pass on
 * the train batch.
 *
 * <pre>{@code
 * try (Trainer trainer = model.newTrainer(config);
 *      SharpnessAwareTrainer sam = SharpnessAwareTrainer.of(trainer, optimizer)) {
 *     trainer.initialize(inputShape);
 *     sam.fit(10, trainSet, testSet, ValidationSampler.uniform(trainSet, 42));
 * }
 * }</pre>
 *
 * <p><b>Devices.</b> A step runs on the Trainer's device. For a Trainer on several devices the design
 * is SAM's original one: each device perturbs its parameters with its own shard's gradient (the
 * perturbation is per device), and only the gradients at the perturbed points are averaged before
 * the base update. That needs an all-reduce between the passes of a step, which this version does
 * not have: it refuses a Trainer with more than one device rather than silently changing the
 * algorithm.
 */
public final class SharpnessAwareTrainer implements AutoCloseable {
    private final Trainer trainer;
    private final Device device;
    private final StepLedger ledger;
    private final DjlNetwork network;
    private final EagerNetwork<NDArray, NDList[]>.Step step;

    private SharpnessAwareTrainer(Trainer trainer, Optimizer optimizer, BadValuePolicy policy) {
        Device[] devices = trainer.getDevices();
        if (devices.length != 1) {
            throw new UnsupportedOperationException("a Trainer on " + devices.length + " devices: sharpness-aware "
                    + "steps with per-device perturbations need an all-reduce between passes, which this version does "
                    + "not have; give the Trainer one device (optDevices)");
        }
        this.trainer = trainer;
        this.device = devices[0];
        Block block = trainer.getModel().getBlock();
        List<Parameter> trainable = block.getParameters().values().stream().filter(Parameter::requiresGradient)
                .toList();
        if (trainable.isEmpty() || trainable.stream().anyMatch(p -> !p.isInitialized())) {
            throw new IllegalStateException("initialise the trainer (trainer.initialize(inputShape)) before "
                    + "creating its SharpnessAwareTrainer");
        }
        StepProgram program = StepProgram.of(optimizer);
        this.ledger = new StepLedger(program, trainable.stream().map(Parameter::getName).toList(),
                trainable.stream().map(p -> DjlNetwork.toInts(p.getArray().getShape())).toList(), policy);
        this.network = new DjlNetwork(describe(block, trainable), block, trainer.getManager().newSubManager(),
                trainer.getLoss()::evaluate);
        this.step = network.compile(program);
    }

    /**
     * The trainer's block as the support layer sees it: parameter names and shapes (for the
     * optimizer state and error messages), input shape and output width. The network is used for
     * steps only, never to evaluate, so its loss need not be a classifier's.
     */
    private static ModelSpec describe(Block block, List<Parameter> trainable) {
        Shape[] inputs = block.getInputShapes();
        Shape input = inputs.length > 0 ? inputs[0] : new Shape(1, 1);
        Shape output = block.getOutputShapes(inputs.length > 0 ? inputs : new Shape[] {input})[0];
        int[] exampleShape = DjlNetwork.toInts(input.slice(1));
        int width = Math.toIntExact(output.get(output.dimension() - 1));
        List<int[]> shapes = trainable.stream().map(p -> DjlNetwork.toInts(p.getArray().getShape())).toList();
        List<String> names = trainable.stream().map(Parameter::getName).toList();
        List<Integer> fanIns = trainable.stream().map(p -> 1).toList();
        return new ModelSpec.Custom("DJL " + block.getClass().getSimpleName(), exampleShape, Math.max(2, width), shapes,
                names, fanIns, 0);
    }

    /** With the bad-value policy THROW. The trainer must be initialised. */
    public static SharpnessAwareTrainer of(Trainer trainer, Optimizer optimizer) {
        return of(trainer, optimizer, BadValuePolicy.THROW);
    }

    public static SharpnessAwareTrainer of(Trainer trainer, Optimizer optimizer, BadValuePolicy policy) {
        if (trainer == null || optimizer == null || policy == null) {
            throw new IllegalArgumentException("trainer, optimizer and policy must not be null");
        }
        return new SharpnessAwareTrainer(trainer, optimizer, policy);
    }

    /** A step of an optimizer that takes no validation batch (base, SAM, Agnostic-SAM with ρ₂ = 0). */
    public StepResult trainBatch(Batch batch) {
        return trainBatch(batch, null);
    }

    /**
     * One step on a train batch and (Agnostic-SAM) a validation batch; the trainer's listeners then
     * see the batch with the predictions of the clean train pass. This reads the step's summary (the
     * listeners read the predictions anyway); a step not applied because of a non-finite value is
     * not reported to the listeners. Not thread-safe: a second thread entering while a step runs
     * gets an IllegalStateException at once.
     */
    public StepResult trainBatch(Batch batch, Batch validation) {
        return ledger.alone("SharpnessAwareTrainer.trainBatch", () -> trainBatchAlone(batch, validation));
    }

    private StepResult trainBatchAlone(Batch batch, Batch validation) {
        boolean needsValidation = ledger.program().usesValidationBatch();
        if (needsValidation && validation == null) {
            throw new IllegalArgumentException("this optimizer needs a validation batch at every step");
        }
        if (!needsValidation && validation != null) {
            throw new IllegalArgumentException("this optimizer takes no validation batch; call trainBatch(batch)");
        }
        double[] scalars = ledger.nextScalars();
        Batch train = onDevice(batch);
        NDList[] trainArrays = {train.getData(), train.getLabels()};
        NDList[] validationArrays = null;
        if (needsValidation) {
            Batch v = onDevice(validation);
            validationArrays = new NDList[] {v.getData(), v.getLabels()};
        }
        StepResult[] result = new StepResult[1];
        step.run(trainArrays, validationArrays, scalars, summary -> {
            // The ledger first: with policy THROW a non-finite step throws here, and a step that was
            // not applied is not reported to the listeners (DJL's divergence check would throw).
            result[0] = ledger.record(summary);
            if (result[0].applied()) {
                TrainingListener.BatchData data = new TrainingListener.BatchData(batch,
                        Map.of(device, train.getLabels()), Map.of(device, network.trainPredictions()));
                trainer.notifyListeners(listener -> listener.onTrainingBatch(trainer, data));
            }
        });
        return result[0];
    }

    /**
     * {@code EasyTrain.fit} with sharpness-aware steps: each epoch trains on every batch of
     * {@code trainingSet} (Agnostic-SAM validation batches from {@code sampler}), then evaluates on
     * {@code validationSet} when it is not null, then tells the listeners the epoch ended.
     */
    public void fit(int epochs, Dataset trainingSet, Dataset validationSet, ValidationSampler sampler)
            throws IOException, TranslateException {
        if (epochs < 1) {
            throw new IllegalArgumentException("epochs must be >= 1, got " + epochs);
        }
        if (ledger.program().usesValidationBatch() && sampler == null) {
            throw new IllegalArgumentException("Agnostic-SAM needs a ValidationSampler, e.g. "
                    + "ValidationSampler.uniform(trainingSet, seed)");
        }
        for (int epoch = 0; epoch < epochs; epoch++) {
            for (Batch batch : trainer.iterateDataset(trainingSet)) {
                try (batch) {
                    if (ledger.program().usesValidationBatch()) {
                        try (Batch validation = sampler.sample(batch.getManager(), batch.getSize())) {
                            trainBatch(batch, validation);
                        }
                    } else {
                        trainBatch(batch);
                    }
                }
            }
            if (validationSet != null) {
                EasyTrain.evaluateDataset(trainer, validationSet);
            }
            trainer.notifyListeners(listener -> listener.onEpoch(trainer));
        }
    }

    /**
     * As {@link #fit(int, Dataset, Dataset, ValidationSampler)}, drawing Agnostic-SAM's validation
     * batches uniformly with replacement from the training set, a quarter of the train batch each.
     */
    public void fit(int epochs, RandomAccessDataset trainingSet, Dataset validationSet, long seed)
            throws IOException, TranslateException {
        fit(epochs, trainingSet, validationSet, ValidationSampler.uniform(trainingSet, seed));
    }

    private Batch onDevice(Batch batch) {
        return batch.split(new Device[] {device}, false)[0];
    }

    /** Steps run so far (applied or not). */
    public long steps() {
        return ledger.steps();
    }

    /** Steps not applied because of a non-finite value (policy SKIP). */
    public long skippedSteps() {
        return ledger.skippedSteps();
    }

    public Trainer trainer() {
        return trainer;
    }

    /** Frees the optimizer state; the trainer stays open. */
    @Override
    public void close() {
        step.close();
        network.close();
    }
}
