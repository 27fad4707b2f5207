package io.github.agnosticsam.spi.support;

import io.github.agnosticsam.model.Batch;
import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.model.ModelSpec;
import io.github.agnosticsam.spi.Collective;
import io.github.agnosticsam.spi.GradientOracle;
import io.github.agnosticsam.spi.LossAndGradients;
import io.github.agnosticsam.spi.Pass;
import io.github.agnosticsam.spi.StepOutput;
import io.github.agnosticsam.spi.StepProgram;
import io.github.agnosticsam.spi.StepSummary;
import io.github.agnosticsam.spi.Tensors;
import io.github.agnosticsam.spi.UnsupportedFeatureException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A network for an eager engine, which supplies only its primitives: the algebra, where its
 * parameters and running statistics live, moving tensors between host and device, a scratch scope,
 * and its model's gradient and evaluation passes. This class does the rest: it runs any
 * {@link StepProgram} op by op, feeds the scalar inputs, allocates the optimizer state, stores
 * the new values only after the program returned (a step that throws changes nothing), commits
 * the clean pass's running statistics only when the step was applied and reads the summary lazily;
 * {@link AbstractNetwork} checks values, evaluates in chunks and refuses every use after {@link
 * #close()}.
 *
 * <p>Storage: the engine hands out persistent tensors ({@link #parameterTensors()}, {@link
 * #statisticTensors()}, {@link #allocate}) and writes into them with {@link #store}. The parameters
 * are one tensor each, or — {@link #flatStorage()} — one vector of them all, which a step updates
 * with a fixed number of operations whatever the number of tensors; the public API keeps
 * per-tensor names and shapes either way (this class converts, {@link FlatLayout}).
 *
 * @param <T> the engine's tensor handle
 * @param <B> a batch on the engine's device
 */
public abstract class EagerNetwork<T, B> extends AbstractNetwork {
    protected EagerNetwork(ModelSpec spec) {
        super(spec);
    }

    // The primitives an engine supplies.

    /** The engine's algebra; its results live in the current scope. */
    protected abstract Tensors<T> ops();

    /** The persistent parameter tensors, in the model's order; the same objects on every call. */
    protected abstract List<T> parameterTensors();

    /**
     * Whether the parameters are kept in one vector (opt-in): then {@link #parameterTensors()} is a
     * list of one vector holding every parameter as {@link #layout()} says, {@link #gradients} and
     * {@link #logits} are given such a list and {@link #gradients} returns the gradient as one such
     * vector, {@link #ops()} implements {@link Tensors#allFiniteSegments}, and {@link #split} cuts a
     * vector into the tensors (for a program that does not {@link StepProgram#supportsFlatStorage()
     * run on flat storage}). Fixed for the network's life.
     */
    @Override
    protected boolean flatStorage() {
        return false;
    }

    /**
     * With flat storage: the parameter tensors of a flat vector, shaped, in the current scope (views
     * where the engine has them); the other direction is {@link #join}.
     */
    protected List<T> split(T flat) {
        throw new UnsupportedOperationException(getClass().getName() + " keeps flat storage but does not split it");
    }

    /**
     * With flat storage: one flat vector of values of the parameter tensors, in the current scope.
     * The default concatenates them, which is right without padding ({@link #flatAlignment()} 1).
     */
    protected T join(List<T> tensors) {
        return ops().concat(tensors);
    }

    /** The persistent running statistics, in {@link ModelSpec#statisticNames()} order. */
    protected List<T> statisticTensors() {
        return List.of();
    }

    /** A new persistent tensor holding {@code value} (optimizer state); {@link #release} frees it. */
    protected abstract T allocate(HostTensor value);

    /** A scratch tensor holding {@code value}, in the current scope. */
    protected abstract T upload(HostTensor value);

    /** A batch on the device, in the current scope. */
    protected abstract B upload(Batch batch);

    /** Writes {@code value} (a scratch tensor of the same shape) into the persistent {@code target}. */
    protected abstract void store(T target, T value);

    /** Copies a tensor to Java memory. */
    protected abstract HostTensor download(T tensor);

    /** Opens a scope: scratch tensors made until it closes are freed when it closes. */
    protected abstract Scope openScope();

    /**
     * A tensor that outlives the current scope with the value of {@code scratch} (the summary, read
     * lazily); {@link #release} frees it. {@code scratch} may be any tensor the program returned — an
     * input or a cached constant too — so an engine that frees it later must keep a copy.
     */
    protected abstract T retain(T scratch);

    /** Frees a tensor made by {@link #allocate} or kept by {@link #retain}. */
    protected abstract void release(T retained);

    /**
     * Loss and gradients at {@code values} on {@code batch}, in training mode (batch statistics).
     * When {@code pass.updatesRunningStatistics()}, also the running statistics the batch moves
     * {@code statistics} to, as new tensors; {@code statistics} themselves are never written.
     */
    protected abstract Gradients<T> gradients(List<T> values, List<T> statistics, B batch, Pass pass);

    /** The logits {@code [n, classes]} in evaluation mode (running statistics). */
    protected abstract T logits(List<T> parameters, List<T> statistics, B batch);

    /** The lifetime of a step's scratch tensors. */
    public interface Scope extends AutoCloseable {
        @Override
        void close();
    }

    // What the support layer asks of every engine, written once over the primitives.

    @Override
    protected final List<HostTensor> readParameters() {
        return downloadAll(parameterTensors());
    }

    @Override
    protected final void writeParameters(List<HostTensor> stored) {
        storeAll(parameterTensors(), stored);
    }

    @Override
    protected final List<HostTensor> readStatistics() {
        return downloadAll(statisticTensors());
    }

    @Override
    protected final void writeStatistics(List<HostTensor> values) {
        storeAll(statisticTensors(), values);
    }

    /** Uploads checked values into persistent tensors. */
    private void storeAll(List<T> targets, List<HostTensor> values) {
        try (Scope scope = openScope()) {
            for (int i = 0; i < values.size(); i++) {
                store(targets.get(i), upload(values.get(i)));
            }
        }
    }

    /**
     * H·v exactly, for an engine with second-order autodiff: {@code values} are the parameters (one
     * flat tensor with flat storage), {@code v} the direction split as the parameters are; the
     * result as the gradients of {@link #gradients} are. Overridden with {@link
     * #hasExactHessianVectorProducts()}.
     */
    protected List<T> exactProducts(List<T> values, List<T> statistics, B batch, List<T> v) {
        throw noExactProducts();
    }

    private UnsupportedFeatureException noExactProducts() {
        return new UnsupportedFeatureException("this engine's network (" + getClass().getName()
                + ") has no exact Hessian-vector products: use central differences of gradients");
    }

    @Override
    public final double[] hessianVectorProduct(Batch batch, double[] v) {
        if (!hasExactHessianVectorProducts()) {
            throw noExactProducts();
        }
        checkOpen();
        if (batch == null) {
            throw new IllegalArgumentException("batch must not be null");
        }
        batch.checkFits(model(), "batch");
        List<int[]> shapes = model().parameterShapes();
        int total = 0;
        for (int[] shape : shapes) {
            total += elements(shape);
        }
        if (v == null || v.length != total) {
            throw new IllegalArgumentException("v must hold every parameter element (" + total + "), got "
                    + (v == null ? "null" : v.length));
        }
        try (Scope scope = openScope()) {
            List<T> directions = new ArrayList<>(shapes.size());
            int at = 0;
            for (int[] shape : shapes) {
                int n = elements(shape);
                directions.add(upload(new HostTensor(shape, java.util.Arrays.copyOfRange(v, at, at + n))));
                at += n;
            }
            List<T> products = exactProducts(parameterTensors(), statisticTensors(), upload(batch), directions);
            double[] out = new double[total];
            at = 0;
            for (T p : flatStorage() ? split(products.get(0)) : products) {
                double[] part = download(p).values();
                System.arraycopy(part, 0, out, at, part.length);
                at += part.length;
            }
            return out;
        }
    }

    private static int elements(int[] shape) {
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        return n;
    }

    @Override
    protected final double[] evaluationLogits(Batch chunk) {
        try (Scope scope = openScope()) {
            return download(logits(parameterTensors(), statisticTensors(), upload(chunk))).values();
        }
    }

    @Override
    public final Step compile(StepProgram program) {
        return (Step) super.compile(program);
    }

    @Override
    public final Step compile(StepProgram program, Collective group) {
        return (Step) super.compile(program, group);
    }

    @Override
    protected final Step newStep(StepProgram program) {
        return new Step(program, null);
    }

    /** Replicas reduce through the host: the reduce point downloads, sums with {@code group} and uploads. */
    @Override
    protected final Step newStep(StepProgram program, Collective group) {
        return new Step(program, group);
    }

    private List<HostTensor> downloadAll(List<T> tensors) {
        List<HostTensor> out = new ArrayList<>(tensors.size());
        for (T t : tensors) {
            out.add(download(t));
        }
        return out;
    }

    /**
     * A step program compiled on this network, with its own optimizer state. Engine integrations
     * that hold batches on the device already (DJL's Trainer) call {@link #run(Object, Object,
     * double[], StepHook)}.
     */
    public final class Step extends AbstractCompiledStep {
        private final List<T> state = new ArrayList<>();
        /** The outputs of the run being stored, by identity: {@link #identities} clears it, {@link #fresh} fills it. */
        private final Set<T> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        /**
         * The scalar inputs of the last run, kept on the device: most (a constant learning rate, the
         * radii) do not change from step to step, and an upload costs native calls.
         */
        private final List<Double> inputValues = new ArrayList<>();
        private final List<T> inputTensors = new ArrayList<>();
        /** The reduce point's host buffers, the same size every step: kept from one step to the next. */
        private double[] reduceSums = new double[0];
        private float[] reduceFloats = new float[0];
        /** Counted in the first run only: a program cannot branch on values, so every run issues as many. */
        private long operations = -1;

        /** The replicas this step runs among; null alone. */
        private final Collective group;

        private Step(StepProgram program, Collective group) {
            super(EagerNetwork.this, program);
            this.group = group;
            for (HostTensor value : initialState()) {
                state.add(allocate(value));
            }
        }

        @Override
        public StepSummary run(Batch train, Batch validation, double[] scalars) {
            checkRun(train, validation, scalars);
            return execute(() -> upload(train), validation == null ? () -> null : () -> upload(validation), scalars,
                    null);
        }

        /**
         * One step on batches already on the device (validation null when the program has none).
         * {@code hook}, when given, sees the step before its scratch tensors are freed.
         */
        public StepSummary run(B train, B validation, double[] scalars, StepHook hook) {
            checkRun(train, validation, scalars);
            return execute(() -> train, () -> validation, scalars, hook);
        }

        private StepSummary execute(java.util.function.Supplier<B> trainBatch,
                java.util.function.Supplier<B> validationBatch, double[] scalars, StepHook hook) {
            StepSummary summary;
            CountingTensors<T> counter = operations < 0 ? new CountingTensors<>(ops()) : null;
            Tensors<T> ops = counter != null ? counter : ops();
            try (Scope scope = openScope()) {
                B train = trainBatch.get();
                B validation = validationBatch.get();
                List<T> params = parameterTensors();
                List<T> statistics = statisticTensors();
                List<T> inputs = inputs(scalars);
                List<List<T>> moved = new ArrayList<>(1);
                boolean[] reduced = new boolean[1];
                boolean cut = cut();
                GradientOracle<T> oracle = new ReplicaOracle<>(group) {
                    @Override
                    public LossAndGradients<T> evaluate(List<T> values, Pass pass) {
                        B batch = pass.usesValidationBatch() ? validation : train;
                        if (batch == null) {
                            throw new IllegalArgumentException("the " + pass.describe() + " pass needs a validation batch");
                        }
                        Gradients<T> g = gradients(cut ? List.of(join(values)) : values, statistics, batch, pass);
                        if (pass.updatesRunningStatistics()) {
                            moved.clear();
                            moved.add(g.statistics());
                        }
                        return new LossAndGradients<>(g.loss(), cut ? split(g.gradients().get(0)) : g.gradients());
                    }

                    @Override
                    protected List<T> reduce(List<T> tensors, Collective group) {
                        if (reduced[0]) {
                            throw new IllegalStateException("a step program reduces at most once per step");
                        }
                        reduced[0] = true;
                        return reduceThroughHost(tensors, moved, group);
                    }
                };
                List<T> programParams = cut ? split(params.get(0)) : params;
                StepOutput<T> out = flat()
                        ? program().defineFlat(ops, oracle, params.get(0), layout().lengths(), state, inputs)
                        : program().define(ops, oracle, programParams, state, inputs);
                if (group != null && !reduced[0]) { // its replicas would each go their own way
                    throw new UnsupportedFeatureException("this step program (" + program().getClass().getName()
                            + ") has no reduce point (GradientOracle.allReduceSum): it cannot run as one of "
                            + group.size() + " replicas");
                }
                // Nothing is stored before the program returned, and the summary is kept before anything
                // is: it may be an input itself (a view of θ, say).
                T kept = retain(out.summary());
                if (!moved.isEmpty() && !moved.get(0).isEmpty()) {
                    commitStatistics(ops, statistics, moved.get(0), out.applied());
                }
                Set<T> persistent = identities(params, state, statistics);
                persistent.addAll(inputs); // kept for the next run: an output that is one is stored as a copy
                persistent.addAll(programParams); // the views a per-tensor program saw: storing θ changes them
                List<T> newParams = fresh(ops, cut ? List.of(join(out.parameters())) : out.parameters(), params,
                        persistent);
                List<T> newState = fresh(ops, out.state(), state, persistent);
                storeChanged(params, newParams);
                storeChanged(state, newState);
                summary = lazy(kept);
                if (hook != null) {
                    hook.afterStep(summary);
                }
            }
            if (counter != null) {
                operations = counter.count();
            }
            return summary;
        }

        /**
         * The reduce point through the host: {@code tensors} and the moved running statistics
         * downloaded into one buffer, summed with the group in one call, the statistics divided by the
         * number of replicas there (one rounding in the engine's precision, as the device's division
         * would), uploaded again piece by piece. It issues no algebra operation: what it adds to a
         * step is the program's constant few (on flat storage, whatever the number of tensors).
         */
        private List<T> reduceThroughHost(List<T> tensors, List<List<T>> moved, Collective group) {
            List<T> statistics = moved.isEmpty() ? List.of() : moved.get(0);
            List<T> all = new ArrayList<>(tensors);
            all.addAll(statistics);
            List<HostTensor> pieces = new ArrayList<>(all.size());
            int length = 0;
            for (T t : all) {
                HostTensor piece = download(t);
                pieces.add(piece);
                length += piece.values().length;
            }
            if (reduceSums.length != length) { // a collective sums whole arrays: exactly the payload's length
                reduceSums = new double[length];
            }
            double[] sums = reduceSums;
            int at = 0;
            for (HostTensor piece : pieces) {
                System.arraycopy(piece.values(), 0, sums, at, piece.values().length);
                at += piece.values().length;
            }
            int n = group.size();
            int statisticsFrom = length;
            for (int k = tensors.size(); k < all.size(); k++) {
                statisticsFrom -= pieces.get(k).values().length;
            }
            if (largestValue() > Float.MAX_VALUE) {
                group.allReduceSum(sums);
                for (int i = statisticsFrom; i < length; i++) {
                    sums[i] /= n;
                }
            } else { // summed, and the statistics' means taken, in the engine's float32, as a device would
                if (reduceFloats.length != length) {
                    reduceFloats = new float[length];
                }
                float[] buffer = reduceFloats;
                for (int i = 0; i < length; i++) {
                    buffer[i] = (float) sums[i];
                }
                group.allReduceSum(buffer);
                for (int i = 0; i < length; i++) {
                    sums[i] = i < statisticsFrom ? buffer[i] : buffer[i] / (float) n;
                }
            }
            List<T> out = new ArrayList<>(all.size());
            at = 0;
            for (HostTensor piece : pieces) {
                int size = piece.values().length;
                out.add(upload(new HostTensor(piece.shape(), java.util.Arrays.copyOfRange(sums, at, at + size))));
                at += size;
            }
            if (!statistics.isEmpty()) {
                moved.set(0, out.subList(tensors.size(), all.size()));
            }
            return out.subList(0, tensors.size());
        }

        /** The scalar inputs on the device, uploaded again only where a value changed (bit for bit). */
        private List<T> inputs(double[] scalars) {
            for (int i = 0; i < scalars.length; i++) {
                if (i < inputValues.size() && Double.compare(scalars[i], inputValues.get(i)) == 0) {
                    continue;
                }
                T uploaded = allocate(HostTensor.scalar(scalars[i]));
                if (i < inputTensors.size()) {
                    T old = inputTensors.set(i, uploaded);
                    inputValues.set(i, scalars[i]);
                    release(old);
                } else {
                    inputTensors.add(uploaded);
                    inputValues.add(scalars[i]);
                }
            }
            return List.copyOf(inputTensors.subList(0, scalars.length));
        }

        /** The clean pass's statistics, where the step was applied and they are finite. */
        private void commitStatistics(Tensors<T> ops, List<T> current, List<T> next, T applied) {
            for (int i = 0; i < current.size(); i++) {
                T value = committedStatistic(ops, applied, current.get(i), next.get(i));
                if (value != current.get(i)) { // an eager algebra may return an operand of where as it is
                    store(current.get(i), value);
                }
            }
        }

        /**
         * The program's outputs, with a fresh copy in place of any that is another persistent tensor
         * or an output already seen: {@link #store} may hand a value's storage to its target, and
         * every output must be read as it was before anything was stored.
         */
        private List<T> fresh(Tensors<T> ops, List<T> values, List<T> targets, Set<T> persistent) {
            List<T> out = new ArrayList<>(values.size());
            for (int i = 0; i < values.size(); i++) {
                T v = values.get(i);
                boolean aliased = v != targets.get(i) && persistent.contains(v);
                out.add(aliased || !seen.add(v) ? ops.mul(v, ops.scalar(1)) : v);
            }
            return out;
        }

        private Set<T> identities(List<T> params, List<T> stateTensors, List<T> statistics) {
            seen.clear();
            Set<T> out = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
            out.addAll(params);
            out.addAll(stateTensors);
            out.addAll(statistics);
            return out;
        }

        private void storeChanged(List<T> targets, List<T> values) {
            for (int i = 0; i < targets.size(); i++) {
                if (values.get(i) != targets.get(i)) {
                    store(targets.get(i), values.get(i));
                }
            }
        }

        private StepSummary lazy(T summary) {
            return new StepSummary() {
                private double[] values;

                @Override
                public double[] read() {
                    if (values == null) {
                        checkOpen();
                        values = download(summary).values();
                        release(summary);
                    }
                    return values;
                }
            };
        }

        /**
         * The {@link Tensors} operations a run issues — the program's and this class's (the
         * running-statistics rule, copies of aliased outputs), {@code scalar} constants aside — not
         * those inside the engine's gradient passes; -1 before the first run.
         */
        @Override
        public long operationsPerStep() {
            return operations;
        }

        @Override
        protected List<HostTensor> readState() {
            return downloadAll(state);
        }

        @Override
        protected void writeState(List<HostTensor> stored) {
            storeAll(state, stored);
        }

        @Override
        protected void free() {
            state.forEach(EagerNetwork.this::release);
            inputTensors.forEach(EagerNetwork.this::release);
        }
    }

    /** Sees a step that was run, before its scratch tensors are freed (DJL's listeners, say). */
    @FunctionalInterface
    public interface StepHook {
        void afterStep(StepSummary summary);
    }
}
