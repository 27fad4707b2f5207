package io.github.agnosticsam.engine.djl;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.ParameterStore;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Loss and gradients of any DJL {@link Block} at any parameter values. The block reads its
 * parameters through a {@link ParameterStore}; this hands it fresh leaves (detached views of the
 * given values) instead of the parameters, so a perturbed pass never writes to θ and gradients never
 * accumulate across passes. Running statistics (BatchNorm's running mean and variance) are never
 * handed over themselves: the block updates copies, which the result returns.
 */
final class BlockOracle {
    private BlockOracle() {
    }

    /** One pass: the loss, the gradients, the predictions and the block's copies of its running statistics. */
    record Result(NDArray loss, List<NDArray> gradients, NDList predictions, Map<Parameter, NDArray> statistics) {
    }

    /** {@code batch} is {data, labels}; every array made lives in {@code scope}. */
    static Result evaluate(Block block, List<Parameter> trainable, LossFunction loss, NDManager scope,
            List<NDArray> values, Map<Parameter, NDArray> currentStatistics, NDList[] batch) {
        List<NDArray> leafList = leaves(values, scope);
        Map<String, NDArray> leaves = byId(trainable, leafList);
        Map<Parameter, NDArray> statistics = new HashMap<>();
        ValueStore store = new ValueStore(scope, leaves, currentStatistics, statistics);
        NDArray lossValue;
        NDList predictions;
        // Not DJL's GradientCollector: it allows one at a time per process (a static flag), and the
        // replicas of a data-parallel step run their passes on threads at once. libtorch's grad mode
        // is per thread, and each pass has a graph of its own.
        boolean gradMode = JniUtils.isGradMode();
        JniUtils.setGradMode(true);
        try {
            predictions = block.forward(store, batch[0], true);
            lossValue = loss.evaluate(batch[1], predictions);
            NDArray seed = scope.ones(lossValue.getShape(), lossValue.getDataType(), lossValue.getDevice());
            JniUtils.backward((PtNDArray) lossValue, (PtNDArray) seed, false, false);
        } finally {
            JniUtils.setGradMode(gradMode);
        }
        lossValue.attach(scope);
        List<NDArray> grads = new ArrayList<>(leafList.size());
        for (NDArray leaf : leafList) {
            NDArray g = leaf.getGradient();
            g.attach(scope);
            grads.add(g);
        }
        return new Result(lossValue, grads, predictions, statistics);
    }

    /**
     * H·v exactly, by double backward: the gradients g of the loss at {@code values} are taken with
     * their own graph (libtorch's create_graph), then the gradient of g·v. The leaves are fresh (as in
     * {@link #evaluate}), so no parameter's gradient is touched; between the two backward passes the
     * leaves' gradients are zeroed in place (g·v's graph does not hold g itself), so the second pass
     * leaves exactly H·v in them. Running statistics: copies, as in {@link #evaluate}.
     *
     * <p>It leaks: create_graph ties each leaf and its gradient into a reference cycle through the
     * gradient's graph, which only clearing the gradient ({@code p.grad = None}) breaks, and DJL
     * 0.36's API cannot (its {@code zeroGrad} zeroes in place; the gradient keeps its graph). About
     * two parameter-sized tensors stay per product (docs/diagnostics.md): hence opt-in.
     */
    static List<NDArray> hessianVectorProduct(Block block, List<Parameter> trainable, LossFunction loss,
            NDManager scope, List<NDArray> values, Map<Parameter, NDArray> currentStatistics, NDList[] batch,
            List<NDArray> v) {
        List<NDArray> leafList = leaves(values, scope);
        Map<String, NDArray> leaves = byId(trainable, leafList);
        ValueStore store = new ValueStore(scope, leaves, currentStatistics, new HashMap<>());
        boolean gradMode = JniUtils.isGradMode();
        JniUtils.setGradMode(true);
        try {
            NDList predictions = block.forward(store, batch[0], true);
            NDArray lossValue = loss.evaluate(batch[1], predictions);
            lossValue.attach(scope);
            NDArray seed = scope.ones(lossValue.getShape(), lossValue.getDataType(), lossValue.getDevice());
            JniUtils.backward((PtNDArray) lossValue, (PtNDArray) seed, true, true);
            NDArray dot = null;
            for (int i = 0; i < leafList.size(); i++) {
                NDArray g = leafList.get(i).getGradient();
                g.attach(scope);
                NDArray term = g.mul(v.get(i)).sum();
                dot = dot == null ? term : dot.add(term);
            }
            for (NDArray leaf : leafList) {
                JniUtils.zeroGrad((PtNDArray) leaf);
            }
            NDArray one = scope.ones(dot.getShape(), dot.getDataType(), dot.getDevice());
            JniUtils.backward((PtNDArray) dot, (PtNDArray) one, false, false);
        } finally {
            JniUtils.setGradMode(gradMode);
        }
        List<NDArray> products = new ArrayList<>(leafList.size());
        for (NDArray leaf : leafList) {
            NDArray grad = leaf.getGradient();
            NDArray hv = grad.duplicate();
            hv.attach(scope);
            grad.close();
            products.add(hv);
        }
        return products;
    }

    /** Fresh leaves that take gradients: detached views of {@code values}, in {@code scope}. */
    private static List<NDArray> leaves(List<NDArray> values, NDManager scope) {
        List<NDArray> leaves = new ArrayList<>(values.size());
        for (NDArray value : values) {
            NDArray leaf = value.stopGradient();
            leaf.attach(scope);
            leaf.setRequiresGradient(true);
            leaves.add(leaf);
        }
        return leaves;
    }

    /** The arrays of the trainable parameters, by parameter id (what the block's store looks up). */
    private static Map<String, NDArray> byId(List<Parameter> trainable, List<NDArray> arrays) {
        Map<String, NDArray> byId = new HashMap<>();
        for (int i = 0; i < arrays.size(); i++) {
            byId.put(trainable.get(i).getId(), arrays.get(i));
        }
        return byId;
    }

    /**
     * The block's output in evaluation mode at {@code values} (one per parameter) and {@code
     * currentStatistics}, read as they are.
     */
    static NDArray logits(Block block, List<Parameter> trainable, NDManager scope, List<NDArray> values,
            Map<Parameter, NDArray> currentStatistics, NDArray x) {
        return block.forward(new ValueStore(scope, byId(trainable, values), currentStatistics, null), new NDList(x),
                false)
                .singletonOrThrow();
    }

    /**
     * Hands the block the values of this pass instead of its parameters, and copies of the running
     * statistics {@code current} holds (collected in {@code statistics}; null: the current statistics
     * themselves, for evaluation).
     */
    private static final class ValueStore extends ParameterStore {
        private final NDManager scope;
        private final Map<String, NDArray> values;
        private final Map<Parameter, NDArray> current;
        private final Map<Parameter, NDArray> statistics;

        ValueStore(NDManager scope, Map<String, NDArray> values, Map<Parameter, NDArray> current,
                Map<Parameter, NDArray> statistics) {
            super(scope, false);
            this.scope = scope;
            this.values = values;
            this.current = current;
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
                // A parameter that takes no gradient (a frozen one), as the block holds it, on this pass's device.
                NDArray held = parameter.getArray();
                if (held.getDevice().equals(device)) {
                    return held;
                }
                NDArray copy = held.toDevice(device, true);
                copy.attach(scope);
                values.put(parameter.getId(), copy);
                return copy;
            }
            NDArray held = current.getOrDefault(parameter, parameter.getArray());
            if (statistics == null) {
                return held; // evaluation reads and moves nothing
            }
            NDArray copy = held.duplicate();
            copy.attach(scope);
            values.put(parameter.getId(), copy);
            statistics.put(parameter, copy);
            return copy;
        }
    }
}
