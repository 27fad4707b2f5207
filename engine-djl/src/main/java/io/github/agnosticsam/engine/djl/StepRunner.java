package io.github.agnosticsam.engine.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import io.github.agnosticsam.HostTensor;
import io.github.agnosticsam.spi.StateSlot;
import io.github.agnosticsam.spi.StepOutput;
import io.github.agnosticsam.spi.StepProgram;
import io.github.agnosticsam.spi.StepSummary;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs a step program eagerly on a DJL block, op by op on the block's device. Each step's scratch
 * arrays live in a sub-manager closed at the end of the step; the new parameter and state values
 * take over the old arrays' handles ({@code intern}), so nothing is copied back and no value is
 * read to the host inside a step.
 */
final class StepRunner implements AutoCloseable {
    private final Block block;
    private final List<Parameter> trainable;
    private final LossFunction loss;
    private final StepProgram program;
    private final NDManager manager;
    private final NdTensors ops;
    private final List<NDArray> state = new ArrayList<>();

    StepRunner(NDManager parent, Block block, List<Parameter> trainable, LossFunction loss, StepProgram program) {
        this.block = block;
        this.trainable = trainable;
        this.loss = loss;
        this.program = program;
        this.manager = parent.newSubManager();
        this.ops = new NdTensors(manager);
        List<int[]> shapes = new ArrayList<>();
        for (Parameter p : trainable) {
            shapes.add(toInts(p.getArray().getShape()));
        }
        for (StateSlot slot : program.state(shapes)) {
            state.add(manager.full(new Shape(toLongs(slot.shape())), (float) slot.initialValue(), DataType.FLOAT32));
        }
    }

    /**
     * One step on batches already on the device ({data, labels}; validation null when the program
     * has no validation pass). {@code afterStep}, when given, sees the step's summary and the clean
     * train pass's predictions before the step's scratch arrays are freed.
     */
    StepSummary run(NDList[] train, NDList[] validation, double[] scalars,
            java.util.function.BiConsumer<StepSummary, NDList> afterStep) {
        checkOpen();
        NDArray summary;
        StepSummary result;
        try (NDManager scope = manager.newSubManager()) {
            ops.enter(scope);
            List<NDArray> params = new ArrayList<>(trainable.size());
            for (Parameter p : trainable) {
                params.add(p.getArray());
            }
            List<NDArray> scalarInputs = new ArrayList<>(scalars.length);
            for (double s : scalars) {
                scalarInputs.add(scope.create((float) s));
            }
            BlockOracle oracle = new BlockOracle(block, trainable, loss, scope, train, validation);
            StepOutput<NDArray> out = program.define(ops, oracle, params, state, scalarInputs);
            for (int i = 0; i < params.size(); i++) {
                takeOver(params.get(i), out.parameters().get(i));
                params.get(i).setRequiresGradient(trainable.get(i).requiresGradient());
            }
            for (int i = 0; i < state.size(); i++) {
                takeOver(state.get(i), out.state().get(i));
            }
            // Running statistics take the clean pass's values only where the step is applied; a
            // program that does not say so gets them whenever they are finite.
            NDArray applied = out.applied();
            for (var update : oracle.statisticUpdates().entrySet()) {
                NDArray current = update.getKey().getArray();
                NDArray next = update.getValue();
                takeOver(current, ops.where(applied != null ? applied : ops.allFinite(next), next, current));
            }
            summary = out.summary();
            summary.attach(manager); // outlives the step until it is read
            result = lazy(summary);
            if (afterStep != null) {
                afterStep.accept(result, oracle.trainPredictions());
            }
        }
        return result;
    }

    private static StepSummary lazy(NDArray summary) {
        return new StepSummary() {
            private double[] values;

            @Override
            public double[] read() {
                if (values == null) {
                    float[] f = summary.toFloatArray();
                    summary.close();
                    values = new double[f.length];
                    for (int i = 0; i < f.length; i++) {
                        values[i] = f[i];
                    }
                }
                return values;
            }
        };
    }

    /** The target array takes the value's handle; a program may return an input unchanged. */
    private static void takeOver(NDArray target, NDArray value) {
        if (value != target) {
            target.intern(value);
        }
    }

    List<HostTensor> state() {
        checkOpen();
        List<HostTensor> out = new ArrayList<>(state.size());
        for (NDArray s : state) {
            out.add(DjlNetwork.toHost(s));
        }
        return out;
    }

    static int[] toInts(Shape shape) {
        int[] out = new int[shape.dimension()];
        for (int i = 0; i < out.length; i++) {
            out[i] = Math.toIntExact(shape.get(i));
        }
        return out;
    }

    static long[] toLongs(int[] shape) {
        long[] out = new long[shape.length];
        for (int i = 0; i < shape.length; i++) {
            out[i] = shape[i];
        }
        return out;
    }

    /** Closing the step, its network or its engine frees the optimizer state: nothing to run on. */
    private void checkOpen() {
        if (!manager.isOpen()) {
            throw new IllegalStateException("step is closed");
        }
    }

    @Override
    public void close() {
        manager.close();
    }
}
