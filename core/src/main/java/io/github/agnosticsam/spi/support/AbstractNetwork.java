package io.github.agnosticsam.spi.support;

import io.github.agnosticsam.model.Batch;
import io.github.agnosticsam.model.Evaluation;
import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.model.ModelSpec;
import io.github.agnosticsam.spi.Collective;
import io.github.agnosticsam.spi.CompiledStep;
import io.github.agnosticsam.spi.Network;
import io.github.agnosticsam.spi.StepProgram;
import io.github.agnosticsam.spi.UnsupportedFeatureException;
import java.util.List;

/**
 * What every {@link Network} does the same way, whatever kind its engine is: the checks of every
 * value handed in, the conversion between the API's per-tensor parameters and flat storage
 * ({@link FlatLayout}), evaluation in chunks, and the lifecycle (every use after {@link #close()}
 * refused). An engine supplies where its values live ({@link #readParameters}, {@link
 * #writeParameters}, and the same for running statistics), the logits of a chunk, the compiled
 * step and {@link #free}. An eager engine extends {@link EagerNetwork}, which supplies all of these
 * from tensor primitives; a graph engine extends this class directly and traces its steps as
 * {@link AbstractCompiledStep}s.
 */
public abstract class AbstractNetwork implements Network {
    /** Examples per evaluation chunk, so that a large batch never needs one huge activation. */
    protected static final int EVALUATION_CHUNK = 1000;

    private final ModelSpec spec;
    private FlatLayout layout;
    private boolean closed;

    protected AbstractNetwork(ModelSpec spec) {
        if (spec == null) {
            throw new IllegalArgumentException("model must not be null");
        }
        this.spec = spec;
    }

    // What the engine supplies.

    /**
     * Whether the parameters are kept in one vector laid out as {@link #layout()} says: then {@link
     * #readParameters} and {@link #writeParameters} see a list of that one vector. Fixed for the
     * network's life; the public API keeps per-tensor names and shapes either way.
     */
    protected boolean flatStorage() {
        return false;
    }

    /** The multiple of elements each segment of flat storage is padded to (see {@link FlatLayout}); 1: none. */
    protected int flatAlignment() {
        return 1;
    }

    /**
     * The largest magnitude the engine's tensors hold: float32's by default; a float64 engine returns
     * {@link Double#MAX_VALUE}. Larger values handed in (parameters, statistics, optimizer state)
     * are refused: they would become ±Infinity.
     */
    protected double largestValue() {
        return Float.MAX_VALUE;
    }

    /** The stored parameters, copied to Java memory: one tensor each, or the one vector of flat storage. */
    protected abstract List<HostTensor> readParameters();

    /** Overwrites the stored parameters with checked values, as {@link #readParameters} gives them. */
    protected abstract void writeParameters(List<HostTensor> stored);

    /** The running statistics, copied to Java memory, in {@link ModelSpec#statisticNames()} order. */
    protected List<HostTensor> readStatistics() {
        return List.of();
    }

    /** Overwrites the running statistics with checked values; the default holds none. */
    protected void writeStatistics(List<HostTensor> values) {
        if (!values.isEmpty()) {
            throw new UnsupportedFeatureException("this engine's network (" + getClass().getName()
                    + ") cannot set running statistics");
        }
    }

    /** The logits {@code [n, classes]} of a batch of at most {@link #EVALUATION_CHUNK} examples, in evaluation mode. */
    protected abstract double[] evaluationLogits(Batch chunk);

    /** A program compiled on this network; called only while it is open, with a program that is not null. */
    protected abstract CompiledStep newStep(StepProgram program);

    /**
     * A program compiled as one replica of {@code group} (more than one); the default serves an
     * engine without data-parallel steps.
     */
    protected CompiledStep newStep(StepProgram program, Collective group) {
        throw new UnsupportedFeatureException("this engine's network ("
                + getClass().getName() + ") cannot run a step as one of " + group.size() + " replicas");
    }

    /** Frees what the network holds natively. Called once, by {@link #close()}. */
    protected abstract void free();

    /** Why the network cannot be used although it was not closed itself (its engine was), or null. */
    protected String closedReason() {
        return null;
    }

    // Network, written once.

    @Override
    public final ModelSpec model() {
        return spec;
    }

    /** Where each parameter lies in flat storage, segments aligned to {@link #flatAlignment()}. */
    protected final FlatLayout layout() {
        if (layout == null) {
            layout = new FlatLayout(spec.parameterShapes(), flatAlignment());
        }
        return layout;
    }

    @Override
    public final List<HostTensor> parameters() {
        checkOpen();
        List<HostTensor> stored = readParameters();
        return flatStorage() ? layout().split(stored.get(0)) : stored;
    }

    @Override
    public final void setParameters(List<HostTensor> values) {
        checkOpen();
        spec.checkParameters(values, largestValue());
        writeParameters(flatStorage() ? List.of(layout().join(values)) : values);
    }

    @Override
    public final List<HostTensor> runningStatistics() {
        checkOpen();
        return readStatistics();
    }

    @Override
    public final void setRunningStatistics(List<HostTensor> values) {
        checkOpen();
        spec.checkStatistics(values, largestValue());
        writeStatistics(values);
    }

    @Override
    public final Evaluation evaluate(Batch batch) {
        checkOpen();
        if (batch == null) {
            throw new IllegalArgumentException("evaluation batch must not be null");
        }
        batch.checkFits(spec, "evaluation");
        int n = batch.size();
        double lossSum = 0;
        int correct = 0;
        for (int start = 0; start < n; start += EVALUATION_CHUNK) {
            Batch chunk = batch.rows(start, Math.min(n, start + EVALUATION_CHUNK));
            Evaluation e = Logits.evaluate(spec, evaluationLogits(chunk), chunk.labels());
            lossSum += e.loss() * e.count();
            correct += e.correct();
        }
        return new Evaluation(lossSum / n, correct, n);
    }

    @Override
    public CompiledStep compile(StepProgram program) {
        return compile(program, null);
    }

    @Override
    public CompiledStep compile(StepProgram program, Collective group) {
        checkOpen();
        if (program == null) {
            throw new IllegalArgumentException("program must not be null");
        }
        return group == null || group.size() == 1 ? newStep(program) : newStep(program, group);
    }

    @Override
    public final void close() {
        if (!closed) {
            closed = true;
            free();
        }
    }

    /** Throws IllegalStateException after {@link #close()}, or when {@link #closedReason()} gives one. */
    protected final void checkOpen() {
        if (closed) {
            throw new IllegalStateException("network is closed (" + spec + ")");
        }
        String reason = closedReason();
        if (reason != null) {
            throw new IllegalStateException("network is closed (" + spec + "): " + reason);
        }
    }

    /** Whether {@link #close()} was called: a compiled step then has nothing left to free. */
    final boolean closed() {
        return closed;
    }
}
