package io.github.agnosticsam.engine.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.ParameterStore;
import io.github.agnosticsam.model.Batch;
import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.model.ModelSpec;
import io.github.agnosticsam.spi.Pass;
import io.github.agnosticsam.spi.Tensors;
import io.github.agnosticsam.spi.support.EagerNetwork;
import io.github.agnosticsam.spi.support.Gradients;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A DJL block as a network of the engine support layer: the block's parameter arrays are the
 * persistent tensors, a step's scratch arrays live in a sub-manager closed with the step, and new
 * values take over the persistent arrays' handles ({@code intern}): nothing is copied back, and on
 * the CPU only the finite checks' verdicts are read to the host inside a step. Serves the standard models ({@link DjlEngine#build}) and
 * the block of a DJL {@code Trainer} ({@link SharpnessAwareTrainer}).
 */
final class DjlNetwork extends EagerNetwork<NDArray, NDList[]> {
    private final Block block;
    private final NDManager manager;
    private final LossFunction loss;
    private final List<Parameter> trainable;
    private final List<Parameter> statistics;
    private final NdTensors ops;
    /** Flat storage: every parameter in this one vector (the block's own parameter arrays unused); else null. */
    private final NDArray flat;
    /**
     * A replica on another device: its own copies of the parameters and running statistics, on its
     * manager's device (the block's arrays are replica 0's); else null.
     */
    private final List<NDArray> ownParameters;
    private final List<NDArray> ownStatistics;
    private NDManager scope;
    private NDList trainPredictions;

    /**
     * {@code manager} holds what this network allocates (optimizer state, read-later summaries) and
     * is closed with it; for a standard model it also holds the block's arrays. {@code flat}: keep
     * the parameters in one vector (the block then reads views of it), else in the block's arrays.
     * {@code hostChecks}: the algebra's checks read their verdict on the host ({@link NdTensors}).
     */
    DjlNetwork(ModelSpec spec, Block block, NDManager manager, LossFunction loss, boolean flat, boolean hostChecks) {
        this(spec, block, manager, loss, flat, hostChecks, false);
    }

    /**
     * A replica of a trainer's network on {@code manager}'s device: the same block and loss, its own
     * copies of the block's parameters and running statistics (a DJL Trainer on several devices).
     */
    static DjlNetwork replica(DjlNetwork first, NDManager manager) {
        return new DjlNetwork(first.model(), first.block, manager, first.loss, false,
                NdTensors.readsOnHost(manager.getDevice()), true);
    }

    private DjlNetwork(ModelSpec spec, Block block, NDManager manager, LossFunction loss, boolean flat,
            boolean hostChecks, boolean copies) {
        super(spec);
        this.block = block;
        this.manager = manager;
        this.loss = loss;
        this.trainable = block.getParameters().values().stream().filter(Parameter::requiresGradient).toList();
        this.statistics = block.getParameters().values().stream().filter(DjlNetwork::isStatistic).toList();
        this.ops = new NdTensors(manager, hostChecks);
        checkShapes("parameter", trainable, spec.parameterShapes());
        this.flat = flat ? manager.zeros(new Shape(layout().size()), DataType.FLOAT32) : null;
        if (flat) {
            // The block reads views of the vector (by parameter id); its own arrays would be a second copy.
            trainable.forEach(p -> p.getArray().close());
        }
        this.ownParameters = copies ? copies(trainable, manager) : null;
        this.ownStatistics = copies ? copies(statistics, manager) : null;
    }

    private static List<NDArray> copies(List<Parameter> parameters, NDManager manager) {
        List<NDArray> out = new ArrayList<>(parameters.size());
        for (Parameter p : parameters) {
            NDArray copy = p.getArray().toDevice(manager.getDevice(), true);
            copy.attach(manager);
            out.add(copy);
        }
        return out;
    }

    /** A standard model: its initial parameters, and running statistics as the description says. */
    static DjlNetwork standard(ModelSpec spec, Block block, NDManager manager, List<HostTensor> initial, boolean flat,
            boolean hostChecks) {
        DjlNetwork net = new DjlNetwork(spec, block, manager, LossFunction.softmaxCrossEntropy(spec.labelSmoothing()),
                flat, hostChecks);
        checkShapes("running statistic", net.statistics, spec.statisticShapes());
        net.setParameters(initial);
        List<HostTensor> initialStatistics = spec.initialStatistics();
        for (int i = 0; i < net.statistics.size(); i++) {
            net.statistics.get(i).getArray().set(toFloats(initialStatistics.get(i).values()));
        }
        return net;
    }

    static boolean isStatistic(Parameter p) {
        return p.getType() == Parameter.Type.RUNNING_MEAN || p.getType() == Parameter.Type.RUNNING_VAR;
    }

    private static void checkShapes(String what, List<Parameter> actual, List<int[]> described) {
        if (actual.size() != described.size()) {
            throw new IllegalStateException("the block has " + actual.size() + " " + what + " tensors, the model "
                    + "description says " + described.size());
        }
        for (int i = 0; i < described.size(); i++) {
            int[] shape = toInts(actual.get(i).getArray().getShape());
            if (!Arrays.equals(shape, described.get(i))) {
                throw new IllegalStateException("block " + what + " " + i + " has shape " + Arrays.toString(shape)
                        + ", the model description says " + Arrays.toString(described.get(i)));
            }
        }
    }

    /** The clean train pass's predictions of the step being run, for DJL's metrics and listeners. */
    NDList trainPredictions() {
        return trainPredictions;
    }

    @Override
    protected String closedReason() {
        return manager.isOpen() ? null : "its engine or trainer was closed";
    }

    @Override
    protected Tensors<NDArray> ops() {
        return ops;
    }

    @Override
    protected List<NDArray> parameterTensors() {
        return flat != null ? List.of(flat) : ownParameters != null ? ownParameters : arrays(trainable);
    }

    @Override
    protected boolean flatStorage() {
        return flat != null;
    }

    @Override
    protected int flatAlignment() {
        return NdTensors.ROW;
    }

    /** Views of a flat vector (no copies). */
    @Override
    protected List<NDArray> split(NDArray values) {
        List<NDArray> out = new ArrayList<>(trainable.size());
        for (int i = 0; i < trainable.size(); i++) {
            long at = layout().offset(i);
            NDArray view = values.get(new ai.djl.ndarray.index.NDIndex("{}:{}", at, at + layout().tensorSize(i)));
            view.attach(scope);
            NDArray shaped = view.reshape(new Shape(toLongs(layout().shape(i))));
            shaped.attach(scope);
            out.add(shaped);
        }
        return out;
    }

    /** The tensors one after another, each followed by its segment's zero padding. */
    @Override
    protected NDArray join(List<NDArray> tensors) {
        NDList parts = new NDList();
        int[] lengths = layout().lengths();
        for (int i = 0; i < tensors.size(); i++) {
            parts.add(ops.keep(tensors.get(i).reshape(-1)));
            int pad = lengths[i] - layout().tensorSize(i);
            if (pad > 0) {
                parts.add(ops.zeros(pad));
            }
        }
        return ops.keep(NDArrays.concat(parts));
    }

    @Override
    protected List<NDArray> statisticTensors() {
        return ownStatistics != null ? ownStatistics : arrays(statistics);
    }

    /** The running statistics {@code current} holds, by the block's parameter. */
    private Map<Parameter, NDArray> byParameter(List<NDArray> current) {
        Map<Parameter, NDArray> out = new HashMap<>();
        for (int i = 0; i < statistics.size(); i++) {
            out.put(statistics.get(i), current.get(i));
        }
        return out;
    }

    private static List<NDArray> arrays(List<Parameter> parameters) {
        List<NDArray> out = new ArrayList<>(parameters.size());
        for (Parameter p : parameters) {
            out.add(p.getArray());
        }
        return out;
    }

    @Override
    protected NDArray allocate(HostTensor value) {
        return manager.create(toFloats(value.values()), new Shape(toLongs(value.shape())));
    }

    /**
     * A tensor that owns its memory: an array created from Java data may only borrow the buffer it
     * was made from, and {@link #store} hands the handle to a persistent array that outlives that
     * buffer (a borrowed handle read freed memory: NaN now and then).
     */
    @Override
    protected NDArray upload(HostTensor value) {
        NDArray borrowed = scope.create(toFloats(value.values()), new Shape(toLongs(value.shape())));
        return borrowed.duplicate();
    }

    @Override
    protected NDList[] upload(Batch batch) {
        NDArray x = scope.create(toFloats(batch.features().values()), new Shape(toLongs(batch.features().shape())));
        long[] labels = new long[batch.size()];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = batch.labels()[i];
        }
        return new NDList[] {new NDList(x), new NDList(scope.create(labels))};
    }

    /**
     * A scratch array of this step hands its handle to the target (no copy; the scratch object goes
     * with the old handle); anything else (a cached constant, say) is copied in.
     */
    @Override
    protected void store(NDArray target, NDArray value) {
        if (value.getManager() != scope) {
            value.copyTo(target);
            return;
        }
        boolean gradient = target.hasGradient();
        target.intern(value);
        if (gradient) {
            target.setRequiresGradient(true);
        }
    }

    @Override
    protected HostTensor download(NDArray tensor) {
        return toHost(tensor);
    }

    @Override
    protected Scope openScope() {
        NDManager opened = manager.newSubManager();
        NDManager outer = scope;
        scope = opened;
        ops.enter(opened);
        // libtorch's grad mode is per thread and on by default: DJL turns it off only on the thread
        // that loaded the engine. Off here, on any thread (a replica's too), so that the algebra
        // records no autograd graph and the stored parameters keep their requires_grad (a DJL
        // Trainer's own training goes on with them); the gradient passes turn it on for themselves.
        boolean gradMode = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        return () -> {
            JniUtils.setGradMode(gradMode);
            trainPredictions = null;
            scope = outer;
            ops.enter(outer);
            opened.close();
        };
    }

    /** A copy (a summary is a few numbers): the program may have returned a cached constant or an input. */
    @Override
    protected NDArray retain(NDArray scratch) {
        NDArray kept = scratch.duplicate();
        kept.attach(manager);
        return kept;
    }

    @Override
    protected void release(NDArray retained) {
        retained.close();
    }

    /**
     * The block reads fresh leaves (detached views of {@code values}) instead of its parameters, so a
     * perturbed pass never writes θ and gradients never accumulate across passes; it updates copies
     * of the running statistics, never the statistics themselves.
     */
    @Override
    protected Gradients<NDArray> gradients(List<NDArray> values, List<NDArray> current, NDList[] batch, Pass pass) {
        // Flat: the block's leaves are views of the vector, made outside autograd (so no slice's
        // backward writes a full-size gradient), and the gradients are joined into one vector.
        BlockOracle.Result r = BlockOracle.evaluate(block, trainable, loss, scope,
                flat != null ? split(values.get(0)) : values, byParameter(current), batch);
        if (pass == Pass.TRAIN) {
            trainPredictions = r.predictions();
        }
        List<NDArray> gradients = flat != null ? List.of(join(r.gradients())) : r.gradients();
        if (!pass.updatesRunningStatistics()) {
            return new Gradients<>(r.loss(), gradients);
        }
        List<NDArray> moved = new ArrayList<>(statistics.size());
        for (int i = 0; i < statistics.size(); i++) {
            // A statistic the block did not read in this pass (a branch not taken) stays as it is.
            moved.add(r.statistics().getOrDefault(statistics.get(i), current.get(i)));
        }
        return new Gradients<>(r.loss(), gradients, moved);
    }

    /** Exact products by double backward (BlockOracle), with {@code djl.exactProducts=true} only: they leak. */
    boolean exactProducts;

    @Override
    public boolean hasExactHessianVectorProducts() {
        return exactProducts;
    }

    @Override
    protected List<NDArray> exactProducts(List<NDArray> values, List<NDArray> current, NDList[] batch,
            List<NDArray> v) {
        List<NDArray> products = BlockOracle.hessianVectorProduct(block, trainable, loss, scope,
                flat != null ? split(values.get(0)) : values, byParameter(current), batch, v);
        return flat != null ? List.of(join(products)) : products;
    }

    @Override
    protected NDArray logits(List<NDArray> parameters, List<NDArray> current, NDList[] batch) {
        if (flat == null && ownParameters == null) {
            return block.forward(new ParameterStore(scope, false), batch[0], false).singletonOrThrow();
        }
        return BlockOracle.logits(block, trainable, scope, flat != null ? split(parameters.get(0)) : parameters,
                byParameter(current), batch[0].singletonOrThrow());
    }

    @Override
    public String engineName() {
        return DjlEngineProvider.NAME;
    }

    @Override
    protected void free() {
        manager.close();
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
        return new HostTensor(toInts(array.getShape()), d);
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
}
