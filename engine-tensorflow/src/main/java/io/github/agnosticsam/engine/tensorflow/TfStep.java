package io.github.agnosticsam.engine.tensorflow;

import io.github.agnosticsam.model.Batch;
import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.spi.Collective;
import io.github.agnosticsam.spi.GradientOracle;
import io.github.agnosticsam.spi.LossAndGradients;
import io.github.agnosticsam.spi.Pass;
import io.github.agnosticsam.spi.StepOutput;
import io.github.agnosticsam.spi.StepProgram;
import io.github.agnosticsam.spi.StepSummary;
import io.github.agnosticsam.spi.UnsupportedFeatureException;
import io.github.agnosticsam.spi.support.AbstractCompiledStep;
import io.github.agnosticsam.spi.support.ReplicaOracle;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.tensorflow.GraphOperation;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Gradients;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.proto.RunMetadata;
import org.tensorflow.proto.RunOptions;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.family.TType;

/**
 * A step program traced once into the network's graph: batches and per-step scalars are
 * placeholders, parameters and optimizer state are resource variables, and every variable update
 * waits (control dependencies) for all the step's values, so one {@code Session.run} runs a whole
 * step — every pass, the update and the summary — with nothing fed back from Java in between.
 *
 * <p>On flat storage a program that runs on it ({@link StepProgram#supportsFlatStorage()}) is traced
 * with {@link StepProgram#defineFlat}: one parameter vector, one state vector per kind, so its math
 * is a fixed number of nodes whatever the number of tensors. Any other program sees the tensors
 * (the vector cut) and keeps one state variable per slot; its new parameters are joined again.
 *
 * <p>As one replica of a data-parallel step the graph is cut at the reduce point: a step is two
 * runs, the passes up to the vector to reduce (fetched), then — with the group's sum fed in its
 * place, so that TensorFlow prunes the passes — the update and the summary. The group's
 * all-reduce runs on the host in between.
 */
final class TfStep extends AbstractCompiledStep {
    private final TfNetwork net;
    private final boolean usesValidation;
    private final Placeholder<TFloat32> trainX;
    private final Placeholder<TInt32> trainY;
    private final Placeholder<TFloat32> validationX;
    private final Placeholder<TInt32> validationY;
    private final List<Placeholder<TFloat32>> scalars = new ArrayList<>();
    private final Ops tf;
    private final List<Operand<? extends TType>> stateHandles = new ArrayList<>();
    private final List<Operand<TFloat32>> stateReads = new ArrayList<>();
    /** Made with the variables, so that setting state again and again does not grow the graph. */
    private final List<TfNetwork.Setter> stateSetters = new ArrayList<>();
    private final List<Op> updates = new ArrayList<>();
    private final Operand<TFloat32> summary;
    private final long operations;
    /** The replicas' group, or null alone. */
    private final Collective group;
    /** As a replica: the vector to reduce, and the node whose output its sum replaces. */
    private Operand<TFloat32> toReduce;
    private Operand<TFloat32> reduced;

    TfStep(TfNetwork net, StepProgram program, Collective group, String name) {
        super(net, program);
        this.net = net;
        this.group = group;
        this.tf = net.ops().withSubScope(name);
        this.usesValidation = program.usesValidationBatch();
        trainX = net.inputPlaceholder(tf);
        trainY = tf.placeholder(TInt32.class, Placeholder.shape(Shape.of(Shape.UNKNOWN_SIZE)));
        validationX = usesValidation ? net.inputPlaceholder(tf) : null;
        validationY = usesValidation ? tf.placeholder(TInt32.class, Placeholder.shape(Shape.of(Shape.UNKNOWN_SIZE)))
                : null;
        int scalarCount = scalarInputs();
        for (int i = 0; i < scalarCount; i++) {
            scalars.add(tf.placeholder(TFloat32.class, Placeholder.shape(Shape.scalar())));
        }

        boolean flat = flat();
        boolean cut = cut();
        List<HostTensor> initialState = initialState();
        for (HostTensor value : initialState) {
            Operand<? extends TType> handle = TfNetwork.variable(tf, value.shape());
            stateHandles.add(handle);
            stateSetters.add(TfNetwork.Setter.of(tf, handle, value.shape()));
            stateReads.add(tf.readVariableOp(handle, TFloat32.class));
        }
        List<Operand<TFloat32>> reads = new ArrayList<>();
        for (Operand<? extends TType> h : net.parameterHandles()) {
            reads.add(tf.readVariableOp(h, TFloat32.class));
        }
        List<Operand<TFloat32>> params = cut ? net.split(tf, reads.get(0)) : reads;
        List<TfLayers.Update> statisticUpdates = new ArrayList<>();
        GraphTensors ops = new GraphTensors(tf);
        GradientOracle<Operand<TFloat32>> oracle = new ReplicaOracle<>(group) {
            @Override
            public LossAndGradients<Operand<TFloat32>> evaluate(List<Operand<TFloat32>> values, Pass pass) {
                Operand<TFloat32> x = pass.usesValidationBatch() ? validationX : trainX;
                Operand<TInt32> y = pass.usesValidationBatch() ? validationY : trainY;
                if (x == null) {
                    throw new IllegalStateException(pass + " pass needs a validation batch, and the program has none");
                }
                TfLayers layers = net.layers(tf, pass.updatesRunningStatistics() ? TfLayers.Mode.UPDATE
                        : TfLayers.Mode.BATCH);
                Operand<TFloat32> logits = net.function().logits(tf, flat ? net.split(tf, values.get(0)) : values, x,
                        layers);
                Operand<TFloat32> loss = GraphModels.loss(tf, logits, y, net.model().classes(),
                        net.model().labelSmoothing());
                statisticUpdates.addAll(layers.updates());
                // With respect to what the program handed in: on flat storage one vector, so one gradient vector.
                Gradients g = tf.gradients(loss, values);
                List<Operand<TFloat32>> grads = new ArrayList<>(values.size());
                for (int i = 0; i < values.size(); i++) {
                    grads.add(g.<TFloat32>dy(i));
                }
                return new LossAndGradients<>(loss, grads);
            }

            @Override
            protected List<Operand<TFloat32>> reduce(List<Operand<TFloat32>> tensors, Collective group) {
                return reducePoint(ops, tensors, statisticUpdates);
            }
        };
        StepOutput<Operand<TFloat32>> out = flat
                ? program.defineFlat(ops, oracle, reads.get(0), layout().lengths(), stateReads, new ArrayList<>(scalars))
                : program.define(ops, oracle, params, stateReads, new ArrayList<>(scalars));
        if (group != null && toReduce == null) { // its replicas would each go their own way
            throw new UnsupportedFeatureException("this step program (" + program.getClass().getName()
                    + ") has no reduce point (GradientOracle.allReduceSum): it cannot run as one of " + group.size()
                    + " replicas");
        }
        List<Operand<TFloat32>> newParams = out.parameters();
        if (cut) { // stored as one vector again, unless the program left every tensor as it was
            newParams = same(newParams, params) ? reads : List.of(ops.concat(newParams));
        }

        // Identities turn the outputs (some are bare Outputs, e.g. gradients) into ops to wait for.
        List<Op> everything = new ArrayList<>();
        newParams.forEach(o -> everything.add(tf.identity(o)));
        out.state().forEach(o -> everything.add(tf.identity(o)));
        everything.add(tf.identity(out.summary()));
        Ops gated = tf.withControlDependencies(everything);
        for (int i = 0; i < reads.size(); i++) {
            if (newParams.get(i) != reads.get(i)) {
                updates.add(gated.assignVariableOp(net.parameterHandles().get(i), newParams.get(i)));
            }
        }
        for (int i = 0; i < stateHandles.size(); i++) {
            if (out.state().get(i) != stateReads.get(i)) {
                updates.add(gated.assignVariableOp(stateHandles.get(i), out.state().get(i)));
            }
        }
        // Running statistics move only where the step is applied and they are finite.
        for (TfLayers.Update u : statisticUpdates) {
            updates.add(gated.assignVariableOp(u.variable(),
                    committedStatistic(ops, out.applied(), u.current(), u.moved())));
        }
        this.summary = out.summary();
        Set<GraphOperation> targets = new HashSet<>();
        updates.forEach(u -> targets.add((GraphOperation) u.op()));
        targets.add((GraphOperation) summary.op());
        this.operations = net.graph().subgraphToOps(targets).size();
        net.initialiseNewVariables();
        // The state starts at its initial values here, once: a setState before the first step stays.
        net.assign(stateSetters, initialState);
    }

    /**
     * The cut of a replica's graph: {@code tensors} and the moved running statistics in one vector
     * (fetched by the first run), and an identity of it whose output the second run is fed with the
     * group's sum; the sum cut back into shapes, the statistics replaced by their means.
     */
    private List<Operand<TFloat32>> reducePoint(GraphTensors ops, List<Operand<TFloat32>> tensors,
            List<TfLayers.Update> statisticUpdates) {
        if (toReduce != null) {
            throw new IllegalStateException("a step program reduces at most once per step");
        }
        List<Operand<TFloat32>> all = new ArrayList<>(tensors);
        statisticUpdates.forEach(u -> all.add(u.moved()));
        toReduce = ops.concat(all);
        reduced = tf.identity(toReduce);
        List<Operand<TFloat32>> pieces = new ArrayList<>(all.size());
        long at = 0;
        for (Operand<TFloat32> t : all) {
            Shape shape = t.shape();
            long size = shape.size();
            if (size < 0) {
                throw new IllegalStateException("the reduce point needs static shapes, got " + shape);
            }
            Operand<TFloat32> piece = tf.slice(reduced, tf.constant(new long[] {at}), tf.constant(new long[] {size}));
            pieces.add(tf.reshape(piece, tf.constant(shape.asArray())));
            at += size;
        }
        Operand<TFloat32> n = ops.scalar(group.size());
        for (int i = 0; i < statisticUpdates.size(); i++) {
            TfLayers.Update u = statisticUpdates.get(i);
            statisticUpdates.set(i, new TfLayers.Update(u.variable(), u.current(),
                    ops.div(pieces.get(tensors.size() + i), n)));
        }
        return pieces.subList(0, tensors.size());
    }

    /** Whether a program handed back exactly the operands it was given. */
    private static boolean same(List<Operand<TFloat32>> out, List<Operand<TFloat32>> in) {
        for (int i = 0; i < in.size(); i++) {
            if (out.get(i) != in.get(i)) {
                return false;
            }
        }
        return true;
    }

    @Override
    public StepSummary run(Batch train, Batch validation, double[] scalarValues) {
        return run(train, validation, scalarValues, null);
    }

    /**
     * Runs one step — a real one, it updates the variables — under TensorFlow's full trace and
     * returns how many nodes it executed: the traced ones after TensorFlow's graph optimiser pruned,
     * folded and fused them.
     */
    long executedOperations(Batch train, Batch validation, double[] scalarValues) {
        long[] count = new long[1];
        run(train, validation, scalarValues, metadata -> metadata.getStepStats().getDevStatsList()
                .forEach(d -> count[0] += d.getNodeStatsCount()));
        return count[0];
    }

    private StepSummary run(Batch train, Batch validation, double[] scalarValues,
            java.util.function.Consumer<RunMetadata> trace) {
        checkRun(train, validation, scalarValues);
        List<Tensor> feeds = new ArrayList<>();
        try {
            Session.Runner runner = net.session().runner();
            feed(runner, feeds, trainX, trainY, train);
            if (usesValidation) {
                feed(runner, feeds, validationX, validationY, validation);
            }
            List<TFloat32> scalarTensors = new ArrayList<>(scalars.size());
            for (int i = 0; i < scalars.size(); i++) {
                TFloat32 s = TFloat32.scalarOf((float) scalarValues[i]);
                feeds.add(s);
                scalarTensors.add(s);
                runner.feed(scalars.get(i), s);
            }
            if (group != null) { // the passes, the group's all-reduce, then the rest with the sum fed in
                TFloat32 sum = reduce(runner);
                feeds.add(sum);
                runner = net.session().runner().feed(reduced, sum);
                for (int i = 0; i < scalars.size(); i++) {
                    runner.feed(scalars.get(i), scalarTensors.get(i));
                }
            }
            runner.fetch(summary);
            updates.forEach(runner::addTarget);
            float[] values;
            if (trace != null) {
                runner.setOptions(RunOptions.newBuilder().setTraceLevel(RunOptions.TraceLevel.FULL_TRACE).build());
            }
            try (Result r = trace == null ? runner.run() : runner.runAndFetchMetadata()) {
                values = TfNetwork.toFloats((TFloat32) r.get(0));
                if (trace != null) {
                    trace.accept(r.getMetadata().orElseThrow());
                }
            }
            double[] result = new double[values.length];
            for (int i = 0; i < values.length; i++) {
                result[i] = values[i];
            }
            return () -> result;
        } finally {
            feeds.forEach(Tensor::close);
        }
    }

    /** The first run of a replica's step: the passes, up to the vector to reduce; returns its sum over the group. */
    private TFloat32 reduce(Session.Runner runner) {
        float[] buffer;
        try (Result r = runner.fetch(toReduce).run()) {
            buffer = TfNetwork.toFloats((TFloat32) r.get(0));
        }
        group.allReduceSum(buffer);
        return TFloat32.vectorOf(buffer);
    }

    private static void feed(Session.Runner runner, List<Tensor> feeds, Placeholder<TFloat32> x,
            Placeholder<TInt32> y, Batch batch) {
        TFloat32 features = TfNetwork.floats(batch.features().shape(), batch.features().values());
        feeds.add(features);
        TInt32 labels = TfNetwork.ints(batch.labels());
        feeds.add(labels);
        runner.feed(x, features).feed(y, labels);
    }

    /**
     * The graph nodes a run needs (the summary, the updates and everything they depend on: every
     * pass's forward and backward nodes too), as traced; TensorFlow's optimiser may fold or fuse
     * some before it runs them.
     */
    @Override
    public long operationsPerStep() {
        return operations;
    }

    @Override
    protected List<HostTensor> readState() {
        return net.fetch(stateReads);
    }

    @Override
    protected void writeState(List<HostTensor> stored) {
        net.assign(stateSetters, stored);
    }
}
