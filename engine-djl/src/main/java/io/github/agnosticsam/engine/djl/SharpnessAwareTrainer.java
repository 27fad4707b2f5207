package io.github.agnosticsam.engine.djl;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
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
import ai.djl.util.Pair;
import io.github.agnosticsam.model.ModelSpec;
import io.github.agnosticsam.optim.Optimizer;
import io.github.agnosticsam.spi.StepProgram;
import io.github.agnosticsam.spi.StepSummary;
import io.github.agnosticsam.spi.support.EagerNetwork;
import io.github.agnosticsam.training.BadValuePolicy;
import io.github.agnosticsam.training.Checkpoint;
import io.github.agnosticsam.training.CheckpointException;
import io.github.agnosticsam.training.DataParallelTraining;
import io.github.agnosticsam.training.ReplicaThreads;
import io.github.agnosticsam.training.StepLedger;
import io.github.agnosticsam.training.StepPrograms;
import io.github.agnosticsam.training.StepResult;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

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
 * <p><b>Devices.</b> A step runs on the Trainer's devices. On several devices it is a data-parallel
 * step, SAM's original one (docs/algorithm.md, "Data-parallel steps"): each batch is split into
 * equal contiguous shards, one per device (its size must be a multiple of the number of devices),
 * each device perturbs its own copy of the parameters with its own shard's gradient, and only the
 * gradients at the perturbed points (with the losses, the verdicts and the running statistics) are
 * averaged, once per step, before every device applies the same update. Device 0 holds the block's
 * own arrays; each other device a copy, stepped by a thread of its own. The listeners see every
 * device's labels and predictions.
 *
 * <p><b>Checkpoints.</b> {@link #checkpoint()} holds everything the next step depends on: the
 * block's parameters and running statistics, this library's optimizer state and the step counters
 * (the Trainer's DJL optimizer is not used and needs nothing). {@link #restore} sets them, into the
 * Model's own arrays; the steps that follow are bit-identical to those of the run that never
 * stopped, given the same batches. {@link CheckpointListener} writes one at each epoch's end (DJL's
 * save-model listeners keep the parameters only).
 *
 * <p>What the batches are is DJL's and the sampler's business, and a checkpoint does not hold their
 * random state. {@link #fit} starts every epoch at its first batch, so a checkpoint written mid-epoch
 * cannot resume {@code fit} where it was. A shuffling dataset ({@code setSampling(size, true)}:
 * DJL's {@code RandomSampler}) permutes the whole dataset when each epoch's iteration starts,
 * drawing from DJL's global {@code RandomUtils.RANDOM}; dropout draws from PyTorch's global
 * generator; {@link ValidationSampler#uniform} starts its stream afresh from its seed. So a resumed
 * {@code fit} reproduces the step state exactly, and the uninterrupted run's batches only when
 * they depend on the epoch alone: for example one {@code fit(1, ...)} per epoch after
 * {@code Engine.getInstance().setRandomSeed(seed + epoch)} (it seeds both generators), with
 * {@code ValidationSampler.uniform(trainingSet, seed + epoch)}, in the first run and the resumed one
 * alike (nothing else may draw from those generators in between), or samplers of your own.
 */
public final class SharpnessAwareTrainer implements AutoCloseable {
    private final Trainer trainer;
    private final Device[] devices;
    private final StepLedger ledger;
    /** One network and step per device; the first holds the block's own arrays. */
    private final List<DjlNetwork> networks = new ArrayList<>();
    private final List<EagerNetwork<NDArray, NDList[]>.Step> steps = new ArrayList<>();
    /** The replicas' threads and group on several devices; null on one. */
    private final ReplicaThreads threads;

    private SharpnessAwareTrainer(Trainer trainer, Optimizer optimizer, BadValuePolicy policy) {
        this.trainer = trainer;
        this.devices = trainer.getDevices().clone();
        Block block = trainer.getModel().getBlock();
        List<Parameter> trainable = block.getParameters().values().stream().filter(Parameter::requiresGradient)
                .toList();
        if (trainable.isEmpty() || trainable.stream().anyMatch(p -> !p.isInitialized())) {
            throw new IllegalStateException("initialise the trainer (trainer.initialize(inputShape)) before "
                    + "creating its SharpnessAwareTrainer");
        }
        StepProgram program = StepPrograms.of(optimizer);
        ModelSpec spec = describe(block);
        this.ledger = new StepLedger(program, spec.parameterNames(), spec.parameterShapes(), policy,
                devices.length);
        NDManager networkManager = trainer.getManager().newSubManager(devices[0]);
        DjlNetwork first = new DjlNetwork(spec, block, networkManager, trainer.getLoss()::evaluate, false,
                NdTensors.readsOnHost(networkManager.getDevice()));
        networks.add(first);
        if (devices.length == 1) {
            threads = null;
            steps.add(first.compile(program));
        } else {
            threads = ReplicaThreads.start(devices.length, DataParallelTraining.DEFAULT_TIMEOUT);
            try {
                for (int k = 1; k < devices.length; k++) {
                    networks.add(DjlNetwork.replica(first, trainer.getManager().newSubManager(devices[k])));
                }
                for (int k = 0; k < devices.length; k++) {
                    steps.add(networks.get(k).compile(program, threads.member(k)));
                }
            } catch (RuntimeException e) { // what was made for the devices so far is freed
                close();
                throw e;
            }
        }
        trainer.notifyListeners(listener -> {
            if (listener instanceof CheckpointListener c) {
                c.bind(this);
            } else if (listener instanceof TensorBoardTrainingListener t) {
                t.bind(this);
            }
        });
    }

    /**
     * The trainer's block as the support layer sees it: parameter and running-statistic names and
     * shapes (for the optimizer state, checkpoints and error messages), input shape and output width.
     * The names are the block's parameter paths ({@code 01Linear_weight}): unique, unlike
     * {@code Parameter.getName()}. The network is used for steps only, never to evaluate, so its
     * loss need not be a classifier's.
     */
    private static ModelSpec describe(Block block) {
        Shape[] inputs = block.getInputShapes();
        Shape input = inputs.length > 0 ? inputs[0] : new Shape(1, 1);
        Shape output = block.getOutputShapes(inputs.length > 0 ? inputs : new Shape[] {input})[0];
        int[] exampleShape = DjlNetwork.toInts(input.slice(1));
        int width = Math.toIntExact(output.get(output.dimension() - 1));
        List<String> names = new ArrayList<>();
        List<int[]> shapes = new ArrayList<>();
        List<String> statisticNames = new ArrayList<>();
        List<int[]> statisticShapes = new ArrayList<>();
        // The same filters, in the same order, as DjlNetwork's.
        for (Pair<String, Parameter> entry : block.getParameters()) {
            Parameter p = entry.getValue();
            if (p.requiresGradient()) {
                names.add(entry.getKey());
                shapes.add(DjlNetwork.toInts(p.getArray().getShape()));
            }
            if (DjlNetwork.isStatistic(p)) {
                statisticNames.add(entry.getKey());
                statisticShapes.add(DjlNetwork.toInts(p.getArray().getShape()));
            }
        }
        List<Integer> fanIns = names.stream().map(n -> 1).toList();
        return new ModelSpec.Custom("DJL " + block.getClass().getSimpleName(), exampleShape, Math.max(2, width), shapes,
                names, fanIns, 0, statisticShapes, statisticNames);
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
        NDList[][] train = shards(batch, "train");
        NDList[][] val = needsValidation ? shards(validation, "validation") : null;
        if (threads == null) { // one device: the listeners read the predictions in the step's own scope
            StepResult[] result = new StepResult[1];
            steps.get(0).run(train[0], val == null ? null : val[0], scalars, summary -> {
                result[0] = record(summary, batch, train, new NDList[] {networks.get(0).trainPredictions()});
            });
            return result[0];
        }
        int n = devices.length;
        StepSummary[] summaries = new StepSummary[n];
        NDList[] predictions = new NDList[n];
        threads.run(k -> {
            steps.get(k).run(train[k], val == null ? null : val[k], scalars, summary -> {
                summaries[k] = summary;
                // Kept past the step's scratch scope, with the batch: the listeners read them after every device.
                NDList kept = new NDList();
                for (NDArray p : networks.get(k).trainPredictions()) {
                    NDArray copy = p.duplicate();
                    copy.attach(batch.getManager());
                    kept.add(copy);
                }
                predictions[k] = kept;
            });
            return null;
        });
        return record(summaries[0], batch, train, predictions);
    }

    /**
     * The ledger first: with policy THROW a non-finite step throws here, and a step that was not
     * applied is not reported to the listeners (DJL's divergence check would throw).
     */
    private StepResult record(StepSummary summary, Batch batch, NDList[][] train, NDList[] predictions) {
        StepResult result = ledger.record(summary);
        trainer.notifyListeners(listener -> {
            if (listener instanceof TensorBoardTrainingListener t) {
                t.stepped(result);
            }
        });
        if (result.applied()) {
            Map<Device, NDList> labels = new java.util.LinkedHashMap<>();
            Map<Device, NDList> outputs = new java.util.LinkedHashMap<>();
            for (int k = 0; k < devices.length; k++) {
                labels.put(devices[k], train[k][1]);
                outputs.put(devices[k], predictions[k]);
            }
            TrainingListener.BatchData data = new TrainingListener.BatchData(batch, labels, outputs);
            trainer.notifyListeners(listener -> listener.onTrainingBatch(trainer, data));
        }
        return result;
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

    /**
     * The batch's shards, one per device: {data, labels} of the k-th of as many equal contiguous
     * parts, on device k (docs/algorithm.md, "Data-parallel steps").
     */
    private NDList[][] shards(Batch batch, String role) {
        int n = devices.length;
        if (batch.getSize() % n != 0) {
            throw new IllegalArgumentException(role + " batch of " + batch.getSize() + " examples cannot be split into "
                    + n + " equal shards, one per device of the Trainer: its size must be a multiple of " + n);
        }
        NDList[][] out = new NDList[n][];
        for (int k = 0; k < n; k++) {
            out[k] = new NDList[] {new NDList(), new NDList()};
        }
        NDList[] parts = {batch.getData(), batch.getLabels()};
        for (int p = 0; p < 2; p++) {
            for (NDArray array : parts[p]) {
                NDList split = n == 1 ? new NDList(array) : array.split(n);
                for (int k = 0; k < n; k++) {
                    out[k][p].add(split.get(k).toDevice(devices[k], false));
                }
            }
        }
        return out;
    }

    /** Steps run so far (applied or not). */
    public long steps() {
        return ledger.steps();
    }

    /** Steps not applied because of a non-finite value (policy SKIP). */
    public long skippedSteps() {
        return ledger.skippedSteps();
    }

    /** The network on the first device (the block's own arrays). */
    io.github.agnosticsam.spi.Network network() {
        return networks.get(0);
    }

    public Trainer trainer() {
        return trainer;
    }

    /**
     * Everything the next step depends on, in Java memory: the block's parameters and running
     * statistics, the optimizer state and the step counters ({@link Checkpoint#write} saves it).
     */
    public Checkpoint checkpoint() {
        return checkpoint(Map.of());
    }

    /** As {@link #checkpoint()}, with an application's own metadata entries. */
    public Checkpoint checkpoint(Map<String, String> extra) {
        return ledger.alone("SharpnessAwareTrainer.checkpoint", () -> {
            if (threads != null) {
                threads.check();
            }
            // A TensorBoard log resumed from this checkpoint keeps what is on disk: put it there first.
            trainer.notifyListeners(listener -> {
                if (listener instanceof TensorBoardTrainingListener t) {
                    t.flush();
                }
            });
            return Checkpoint.capture(networks.get(0), steps.get(0), ledger, extra);
        });
    }

    /**
     * Continues from a checkpoint: the block's parameters and running statistics (the Model's own
     * arrays, so {@code model.save} and predictions see them), the optimizer state and the step
     * counters become the checkpoint's. A checkpoint of another block or optimizer configuration is
     * a {@link CheckpointException} naming the difference, and nothing changes. A
     * {@link CheckpointListener} of the trainer numbers its next epoch after the checkpoint's.
     */
    public void restore(Checkpoint checkpoint) {
        if (checkpoint == null) {
            throw new IllegalArgumentException("checkpoint must not be null");
        }
        ledger.alone("SharpnessAwareTrainer.restore", () -> {
            OptionalInt epoch = CheckpointListener.epochOf(checkpoint);
            checkpoint.restore(networks.get(0), steps.get(0), ledger); // checks everything first
            for (int k = 1; k < networks.size(); k++) {
                try {
                    checkpoint.restore(networks.get(k), steps.get(k), ledger);
                } catch (RuntimeException e) {
                    threads.breakWith("restoring the copy on " + devices[k] + " failed: " + e);
                    throw e;
                }
            }
            epoch.ifPresent(e -> trainer.notifyListeners(listener -> {
                if (listener instanceof CheckpointListener c) {
                    c.restored(this, e);
                }
            }));
            trainer.notifyListeners(listener -> {
                if (listener instanceof TensorBoardTrainingListener t) {
                    t.restored(this, checkpoint.steps());
                }
            });
            return null;
        });
    }

    /** Frees the optimizer state; the trainer stays open. */
    @Override
    public void close() {
        trainer.notifyListeners(listener -> {
            if (listener instanceof CheckpointListener c) {
                c.unbind(this);
            } else if (listener instanceof TensorBoardTrainingListener t) {
                t.unbind(this);
            }
        });
        steps.forEach(EagerNetwork.Step::close);
        networks.forEach(DjlNetwork::close);
        if (threads != null) {
            threads.close();
        }
    }
}
