package io.github.agnosticsam.engine.tensorflow;

import io.github.agnosticsam.model.Batch;
import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.model.ModelSpec;
import io.github.agnosticsam.spi.Collective;
import io.github.agnosticsam.spi.CompiledStep;
import io.github.agnosticsam.spi.StepProgram;
import io.github.agnosticsam.spi.UnsupportedFeatureException;
import io.github.agnosticsam.spi.support.AbstractNetwork;
import io.github.agnosticsam.spi.support.FlatLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.family.TType;

/**
 * A standard model as a TensorFlow graph: parameters are resource variables, every step program
 * compiled on it is traced into the same graph, and one session runs them all. Closing it frees the
 * graph and the session; after that every method but {@link #model()} throws, and so do its steps.
 *
 * <p>Storage: one variable per parameter tensor, or — flat — one vector variable of them all, laid
 * out as {@link FlatLayout} says (no padding); the model function still takes one operand per
 * tensor ({@link #split}), and the public API keeps per-tensor names and shapes (converted on the host).
 */
final class TfNetwork extends AbstractNetwork {

    /** The model as a function of parameter operands and inputs to logits. */
    interface ModelFunction {
        Operand<TFloat32> logits(Ops tf, List<Operand<TFloat32>> parameters, Operand<TFloat32> input, TfLayers layers);
    }

    private final ModelFunction function;
    /** Whether {@link #handles} is one vector of every parameter, as {@link #layout()} says. */
    private final boolean flat;
    private final List<TfLayers.Statistics> statistics = new ArrayList<>();
    private final List<Op> pendingInit = new ArrayList<>();
    private final Graph graph;
    private final Ops tf;
    private final Session session;
    /** The parameter variables: one per tensor, or the one vector when {@link #flat}. */
    private final List<Operand<? extends TType>> handles = new ArrayList<>();
    private final List<Setter> parameterSetters = new ArrayList<>();
    private final List<Operand<TFloat32>> reads = new ArrayList<>();
    private final Placeholder<TFloat32> evaluationInput;
    private final Operand<TFloat32> evaluationLogits;
    private final List<Operand<TFloat32>> statisticReads = new ArrayList<>();
    private final List<Setter> statisticSetters = new ArrayList<>();
    private int programs;

    TfNetwork(ModelSpec spec, ModelFunction function, List<HostTensor> initial, ConfigProto config, boolean flat) {
        super(spec);
        // Checked before any native object exists: a refused build leaks no graph or session.
        spec.checkParameters(initial, largestValue());
        this.function = function;
        this.flat = flat;
        this.graph = new Graph();
        this.tf = Ops.create(graph);
        // layout() only for flat storage: it has a size limit that one variable per tensor does not.
        for (int[] shape : flat ? List.of(new int[] {layout().size()}) : spec.parameterShapes()) {
            Operand<? extends TType> handle = variable(tf, shape);
            handles.add(handle);
            parameterSetters.add(Setter.of(tf, handle, shape));
            reads.add(tf.readVariableOp(handle, TFloat32.class));
        }
        evaluationInput = inputPlaceholder(tf);
        evaluationLogits = function.logits(tf, flat ? split(tf, reads.get(0)) : reads, evaluationInput,
                layers(tf, TfLayers.Mode.RUNNING));
        this.session = new Session(graph, config);
        initialiseNewVariables();
        setParameters(initial);
    }

    /**
     * The parameter tensors of a flat vector, as the model function takes them: cut ({@code SplitV})
     * and reshaped. The gradient with respect to the vector is then one vector: SplitV's gradient
     * concatenates those of its pieces.
     */
    List<Operand<TFloat32>> split(Ops ops, Operand<TFloat32> vector) {
        FlatLayout layout = layout();
        int p = layout.segments();
        // One piece: no SplitV, whose gradient (a ConcatV2) needs two at least.
        List<? extends Operand<TFloat32>> pieces = p == 1 ? List.of(vector)
                : ops.splitV(vector, ops.constant(layout.lengths()), ops.constant(0), (long) p).output();
        List<Operand<TFloat32>> out = new ArrayList<>(p);
        for (int i = 0; i < p; i++) {
            out.add(ops.reshape(pieces.get(i), ops.constant(layout.shape(i))));
        }
        return out;
    }

    /**
     * A resource variable with a name of its own: TensorFlow resolves an empty shared name to one
     * resource for every handle, so each must be named.
     */
    static Operand<? extends TType> variable(Ops ops, int[] shape) {
        return ops.varHandleOp(TFloat32.class, shape(shape),
                org.tensorflow.op.core.VarHandleOp.sharedName("agnosticsam_" + java.util.UUID.randomUUID()));
    }

    /**
     * What writes one variable from Java: a placeholder for the value and the op that assigns it.
     * Made once per variable, so that setting values again and again does not grow the graph.
     */
    record Setter(Placeholder<TFloat32> value, Op assign) {
        static Setter of(Ops ops, Operand<? extends TType> variable, int[] shape) {
            Placeholder<TFloat32> value = ops.placeholder(TFloat32.class, Placeholder.shape(shape(shape)));
            return new Setter(value, ops.assignVariableOp(variable, value));
        }
    }

    /** Assigns checked values to the setters' variables, all in one session run. */
    void assign(List<Setter> setters, List<HostTensor> values) {
        if (values.isEmpty()) {
            return;
        }
        List<Tensor> feeds = new ArrayList<>();
        try {
            Session.Runner runner = session.runner();
            for (int i = 0; i < values.size(); i++) {
                TFloat32 t = floats(values.get(i).shape(), values.get(i).values());
                feeds.add(t);
                runner.feed(setters.get(i).value(), t).addTarget(setters.get(i).assign());
            }
            runner.run().close();
        } finally {
            feeds.forEach(Tensor::close);
        }
    }

    /**
     * Stateful layers for one trace of the model. New running statistics start at the description's
     * initial values, or (a model that does not describe them) at mean 0, variance 1.
     */
    TfLayers layers(Ops ops, TfLayers.Mode mode) {
        return new TfLayers(ops, mode, statistics, features -> {
            int[] shape = {Math.toIntExact(features)};
            int index = 2 * statistics.size();
            List<HostTensor> initial = model().initialStatistics();
            Operand<? extends TType> mean = variable(tf, shape);
            Operand<? extends TType> variance = variable(tf, shape);
            pendingInit.add(tf.assignVariableOp(mean, initialValue(shape, initial, index, 0)));
            pendingInit.add(tf.assignVariableOp(variance, initialValue(shape, initial, index + 1, 1)));
            return new TfLayers.Statistics(mean, variance);
        });
    }

    private Operand<TFloat32> initialValue(int[] shape, List<HostTensor> initial, int index, float otherwise) {
        if (index >= initial.size()) {
            return tf.fill(tf.constant(shape), tf.constant(otherwise));
        }
        HostTensor t = initial.get(index);
        if (!Arrays.equals(t.shape(), shape)) {
            throw new IllegalStateException("running statistic " + model().statisticNames().get(index) + " has shape "
                    + Arrays.toString(shape) + " in the graph, the model description says " + Arrays.toString(t.shape()));
        }
        float[] values = new float[t.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) t.values()[i];
        }
        return tf.constant(values);
    }

    /** Runs the initialisers of variables created by the latest traces. */
    void initialiseNewVariables() {
        if (!pendingInit.isEmpty()) {
            Session.Runner init = session.runner();
            pendingInit.forEach(init::addTarget);
            init.run().close();
            pendingInit.clear();
        }
    }

    Placeholder<TFloat32> inputPlaceholder(Ops ops) {
        int[] in = model().inputShape();
        long[] dims = new long[in.length + 1];
        dims[0] = Shape.UNKNOWN_SIZE;
        for (int i = 0; i < in.length; i++) {
            dims[i + 1] = in[i];
        }
        return ops.placeholder(TFloat32.class, Placeholder.shape(Shape.of(dims)));
    }

    // What a step traces: the model, the variables and the session it runs in.

    ModelFunction function() {
        return function;
    }

    Graph graph() {
        return graph;
    }

    Ops ops() {
        return tf;
    }

    Session session() {
        return session;
    }

    /** The parameter variables: one per tensor, or the one vector of flat storage. */
    List<Operand<? extends TType>> parameterHandles() {
        return handles;
    }

    @Override
    protected boolean flatStorage() {
        return flat;
    }

    @Override
    public String engineName() {
        return TfEngineProvider.NAME;
    }

    @Override
    protected List<HostTensor> readParameters() {
        return fetch(reads);
    }

    /** Runs the read ops and copies their values to the host, closing every tensor. */
    List<HostTensor> fetch(List<Operand<TFloat32>> ops) {
        if (ops.isEmpty()) {
            return List.of();
        }
        Session.Runner runner = session.runner();
        ops.forEach(runner::fetch);
        List<HostTensor> out = new ArrayList<>(ops.size());
        try (Result r = runner.run()) {
            for (int i = 0; i < ops.size(); i++) {
                out.add(toHost((TFloat32) r.get(i)));
            }
        }
        return out;
    }

    /**
     * Running means and variances of the batch-norm layers in call order (mean₀, var₀, mean₁, …): for
     * the standard models, the description's order.
     */
    @Override
    protected List<HostTensor> readStatistics() {
        // Read ops are added once per statistic, so that asking does not grow the graph.
        for (int i = statisticReads.size() / 2; i < statistics.size(); i++) {
            statisticReads.add(tf.readVariableOp(statistics.get(i).mean(), TFloat32.class));
            statisticReads.add(tf.readVariableOp(statistics.get(i).variance(), TFloat32.class));
        }
        return fetch(statisticReads);
    }

    @Override
    protected void writeParameters(List<HostTensor> stored) {
        assign(parameterSetters, stored);
    }

    /**
     * Sets the running statistics of {@link #runningStatistics()}, which for a standard model are the
     * description's. A {@link TfModel} whose batch-norm layers its description does not name
     * cannot have them set.
     */
    @Override
    protected void writeStatistics(List<HostTensor> values) {
        if (2 * statistics.size() != values.size()) {
            throw new UnsupportedFeatureException("checkpoints unsupported: the graph of " + model() + " has "
                    + 2 * statistics.size() + " running statistics (batch-norm layers), its description names "
                    + values.size());
        }
        List<int[]> shapes = model().statisticShapes();
        for (int i = statisticSetters.size(); i < values.size(); i++) { // made once, when first needed
            TfLayers.Statistics s = statistics.get(i / 2);
            statisticSetters.add(Setter.of(tf, i % 2 == 0 ? s.mean() : s.variance(), shapes.get(i)));
        }
        assign(statisticSetters, values);
    }

    @Override
    protected double[] evaluationLogits(Batch chunk) {
        try (TFloat32 input = floats(chunk.features().shape(), chunk.features().values());
                Result r = session.runner().feed(evaluationInput, input).fetch(evaluationLogits).run()) {
            return toHost((TFloat32) r.get(0)).values();
        }
    }

    @Override
    protected CompiledStep newStep(StepProgram program) {
        return new TfStep(this, program, null, "step" + programs++);
    }

    @Override
    protected CompiledStep newStep(StepProgram program, Collective group) {
        return new TfStep(this, program, group, "step" + programs++);
    }

    @Override
    protected void free() {
        session.close();
        graph.close();
    }

    static Shape shape(int[] dims) {
        long[] d = new long[dims.length];
        for (int i = 0; i < dims.length; i++) {
            d[i] = dims[i];
        }
        return Shape.of(d);
    }

    static TFloat32 floats(int[] shape, double[] values) {
        float[] f = new float[values.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) values[i];
        }
        return TFloat32.tensorOf(shape(shape), DataBuffers.of(f, true, false));
    }

    static TInt32 ints(int[] values) {
        return TInt32.tensorOf(Shape.of(values.length), DataBuffers.of(values.clone(), true, false));
    }

    static float[] toFloats(TFloat32 t) {
        float[] f = new float[Math.toIntExact(t.size())];
        t.copyTo(DataBuffers.of(f, false, false));
        return f;
    }

    static HostTensor toHost(TFloat32 t) {
        float[] f = toFloats(t);
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        long[] dims = t.shape().asArray();
        int[] shape = new int[dims.length];
        for (int i = 0; i < dims.length; i++) {
            shape[i] = Math.toIntExact(dims[i]);
        }
        return new HostTensor(shape, d);
    }
}
