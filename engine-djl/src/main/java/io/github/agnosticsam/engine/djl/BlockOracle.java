package io.github.agnosticsam.engine.djl;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import io.github.agnosticsam.spi.GradientOracle;
import io.github.agnosticsam.spi.LossAndGradients;
import io.github.agnosticsam.spi.Pass;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Loss and gradients of any DJL {@link Block} at any parameter values. The block reads its
 * parameters through a {@link ParameterStore}; this oracle hands it fresh leaves (detached views
 * of the given values) instead of the parameters, so a perturbed pass never writes to θ and
 * gradients never accumulate across passes. Running statistics (BatchNorm's running mean and
 * variance) are never handed over themselves: every pass updates copies, and the copies of the
 * clean train pass are kept as {@link #statisticUpdates()} for the step to commit.
 */
final class BlockOracle implements GradientOracle<NDArray> {
    private final Block block;
    private final List<Parameter> trainable;
    private final LossFunction loss;
    private final NDManager scope;
    private final NDList[] train;
    private final NDList[] validation;
    private NDList trainPredictions;
    private final Map<Parameter, NDArray> statisticUpdates = new HashMap<>();

    /** {@code train} and {@code validation} are {data, labels}; validation may be null. */
    BlockOracle(Block block, List<Parameter> trainable, LossFunction loss, NDManager scope, NDList[] train,
            NDList[] validation) {
        this.block = block;
        this.trainable = trainable;
        this.loss = loss;
        this.scope = scope;
        this.train = train;
        this.validation = validation;
    }

    @Override
    public LossAndGradients<NDArray> evaluate(List<NDArray> values, Pass pass) {
        NDList[] batch = pass.usesValidationBatch() ? validation : train;
        if (batch == null) {
            throw new IllegalStateException(pass + " pass needs a validation batch, and none was given");
        }
        Map<String, NDArray> leaves = new HashMap<>();
        List<NDArray> leafList = new ArrayList<>(values.size());
        for (int i = 0; i < values.size(); i++) {
            NDArray leaf = values.get(i).stopGradient();
            leaf.attach(scope);
            leaf.setRequiresGradient(true);
            leaves.put(trainable.get(i).getId(), leaf);
            leafList.add(leaf);
        }
        ValueStore store = new ValueStore(scope, leaves,
                pass.updatesRunningStatistics() ? statisticUpdates : new HashMap<>());
        NDArray lossValue;
        try (GradientCollector collector = scope.getEngine().newGradientCollector()) {
            NDList predictions = block.forward(store, batch[0], true);
            lossValue = loss.evaluate(batch[1], predictions);
            collector.backward(lossValue);
            if (pass == Pass.TRAIN) {
                trainPredictions = predictions;
            }
        }
        lossValue.attach(scope);
        List<NDArray> grads = new ArrayList<>(leafList.size());
        for (NDArray leaf : leafList) {
            NDArray g = leaf.getGradient();
            g.attach(scope);
            grads.add(g);
        }
        return new LossAndGradients<>(lossValue, grads);
    }

    /** The running statistics as the clean train pass left them (on copies), by parameter. */
    Map<Parameter, NDArray> statisticUpdates() {
        return statisticUpdates;
    }

    /** The predictions of the clean train pass of this step, for DJL's metrics and listeners. */
    NDList trainPredictions() {
        return trainPredictions;
    }

    /** Hands the block the values of this pass instead of its parameters, and copies of its statistics. */
    private static final class ValueStore extends ParameterStore {
        private final NDManager scope;
        private final Map<String, NDArray> values;
        private final Map<Parameter, NDArray> statistics;

        ValueStore(NDManager scope, Map<String, NDArray> values, Map<Parameter, NDArray> statistics) {
            super(scope, false);
            this.scope = scope;
            this.values = values;
            this.statistics = statistics;
        }

        @Override
        public NDArray getValue(Parameter parameter, Device device, boolean training) {
            if (parameter == null) {
                return null; // an absent optional parameter, e.g. the bias of a Linear without one
            }
            NDArray v = values.get(parameter.getId());
            if (v != null) {
                return v;
            }
            Parameter.Type type = parameter.getType();
            if (type != Parameter.Type.RUNNING_MEAN && type != Parameter.Type.RUNNING_VAR) {
                return parameter.getArray();
            }
            NDArray copy = parameter.getArray().duplicate();
            copy.attach(scope);
            values.put(parameter.getId(), copy);
            statistics.put(parameter, copy);
            return copy;
        }
    }
}
