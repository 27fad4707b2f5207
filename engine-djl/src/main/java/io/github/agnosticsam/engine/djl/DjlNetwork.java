package io.github.agnosticsam.engine.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import io.github.agnosticsam.Batch;
import io.github.agnosticsam.Evaluation;
import io.github.agnosticsam.HostTensor;
import io.github.agnosticsam.ModelSpec;
import io.github.agnosticsam.Network;
import io.github.agnosticsam.spi.CompiledStep;
import io.github.agnosticsam.spi.StepProgram;
import io.github.agnosticsam.spi.StepSummary;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A standard model built as a DJL block, trained through host batches. Closing it frees its arrays
 * (closing the engine does too); after that every method but {@link #model()} throws.
 */
final class DjlNetwork implements Network {
    private static final int EVALUATION_CHUNK = 1000;

    private final ModelSpec spec;
    private final Block block;
    private final NDManager manager;
    private final LossFunction loss;
    private final List<Parameter> trainable;
    private final List<Parameter> statistics;
    private boolean closed;

    DjlNetwork(ModelSpec spec, Block block, NDManager manager, List<HostTensor> initial) {
        this.spec = spec;
        this.block = block;
        this.manager = manager;
        this.loss = LossFunction.softmaxCrossEntropy(spec.labelSmoothing());
        this.trainable = block.getParameters().values().stream().filter(Parameter::requiresGradient).toList();
        this.statistics = block.getParameters().values().stream().filter(DjlNetwork::isStatistic).toList();
        checkShapes("parameter", trainable, spec.parameterShapes());
        checkShapes("running statistic", statistics, spec.statisticShapes());
        setParameters(initial);
        List<HostTensor> initialStatistics = spec.initialStatistics();
        for (int i = 0; i < statistics.size(); i++) {
            statistics.get(i).getArray().set(toFloats(initialStatistics.get(i).values()));
        }
    }

    private static boolean isStatistic(Parameter p) {
        return p.getType() == Parameter.Type.RUNNING_MEAN || p.getType() == Parameter.Type.RUNNING_VAR;
    }

    private static void checkShapes(String what, List<Parameter> actual, List<int[]> described) {
        if (actual.size() != described.size()) {
            throw new IllegalStateException("the block has " + actual.size() + " " + what + " tensors, the model "
                    + "description says " + described.size());
        }
        for (int i = 0; i < described.size(); i++) {
            int[] shape = StepRunner.toInts(actual.get(i).getArray().getShape());
            if (!Arrays.equals(shape, described.get(i))) {
                throw new IllegalStateException("block " + what + " " + i + " has shape " + Arrays.toString(shape)
                        + ", the model description says " + Arrays.toString(described.get(i)));
            }
        }
    }

    /** Throws unless this network and its engine are open. */
    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("network is closed");
        }
        if (!manager.isOpen()) {
            throw new IllegalStateException("network is closed: its engine was closed");
        }
    }

    @Override
    public ModelSpec model() {
        return spec;
    }

    @Override
    public List<HostTensor> parameters() {
        checkOpen();
        List<HostTensor> out = new ArrayList<>(trainable.size());
        for (Parameter p : trainable) {
            out.add(toHost(p.getArray()));
        }
        return out;
    }

    @Override
    public void setParameters(List<HostTensor> values) {
        checkOpen();
        spec.checkParameters(values);
        for (int i = 0; i < values.size(); i++) {
            trainable.get(i).getArray().set(toFloats(values.get(i).values()));
        }
    }

    @Override
    public List<HostTensor> runningStatistics() {
        checkOpen();
        List<HostTensor> out = new ArrayList<>(statistics.size());
        for (Parameter p : statistics) {
            out.add(toHost(p.getArray()));
        }
        return out;
    }

    @Override
    public Evaluation evaluate(Batch batch) {
        checkOpen();
        batch.checkFits(spec, "evaluation");
        double lossSum = 0;
        int correct = 0;
        int n = batch.size();
        int width = batch.features().size() / n;
        for (int start = 0; start < n; start += EVALUATION_CHUNK) {
            int end = Math.min(n, start + EVALUATION_CHUNK);
            try (NDManager scope = manager.newSubManager()) {
                NDList[] inputs = inputs(scope, slice(batch, start, end, width));
                NDList predictions = block.forward(new ParameterStore(scope, false), inputs[0], false);
                lossSum += loss.evaluate(inputs[1], predictions).getFloat() * (end - start);
                NDArray hits = predictions.singletonOrThrow().argMax(1).eq(inputs[1].singletonOrThrow());
                correct += (int) hits.sum().toType(DataType.INT64, false).getLong();
            }
        }
        return new Evaluation(lossSum / n, correct, n);
    }

    @Override
    public CompiledStep compile(StepProgram program) {
        checkOpen();
        StepRunner runner = new StepRunner(manager, block, trainable, loss, program);
        return new CompiledStep() {
            @Override
            public StepSummary run(Batch train, Batch validation, double[] scalars) {
                checkOpen();
                try (NDManager inputs = manager.newSubManager()) {
                    return runner.run(inputs(inputs, train), validation == null ? null : inputs(inputs, validation),
                            scalars, null);
                }
            }

            @Override
            public List<HostTensor> state() {
                checkOpen();
                return runner.state();
            }

            @Override
            public void close() {
                runner.close();
            }
        };
    }

    @Override
    public void close() {
        closed = true;
        manager.close();
    }

    /** {data, labels} of a host batch as arrays on the device. */
    private static NDList[] inputs(NDManager scope, Batch batch) {
        int[] shape = batch.features().shape();
        NDArray x = scope.create(toFloats(batch.features().values()), new Shape(StepRunner.toLongs(shape)));
        long[] labels = new long[batch.size()];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = batch.labels()[i];
        }
        return new NDList[] {new NDList(x), new NDList(scope.create(labels))};
    }

    private static Batch slice(Batch batch, int start, int end, int width) {
        if (start == 0 && end == batch.size()) {
            return batch;
        }
        int[] shape = batch.features().shape().clone();
        shape[0] = end - start;
        double[] x = Arrays.copyOfRange(batch.features().values(), start * width, end * width);
        return new Batch(new HostTensor(shape, x), Arrays.copyOfRange(batch.labels(), start, end));
    }

    static float[] toFloats(double[] values) {
        float[] out = new float[values.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) values[i];
        }
        return out;
    }

    static HostTensor toHost(NDArray array) {
        float[] f = array.toType(DataType.FLOAT32, false).toFloatArray();
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return new HostTensor(StepRunner.toInts(array.getShape()), d);
    }
}
