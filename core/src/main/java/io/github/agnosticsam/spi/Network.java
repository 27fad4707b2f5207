package io.github.agnosticsam.spi;

import io.github.agnosticsam.model.Batch;
import io.github.agnosticsam.model.Evaluation;
import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.model.ModelSpec;
import java.util.List;

/** A model built by an engine, holding its parameters on the engine's device. */
public interface Network extends AutoCloseable {

    ModelSpec model();

    /** Copies the current parameters to Java memory (a host synchronisation). */
    List<HostTensor> parameters();

    /**
     * Overwrites the parameters with the given values (shapes as the model's, every element finite
     * and within the engine's precision — float32's ±3.4e38 unless it computes in float64: anything
     * else is an IllegalArgumentException naming the parameter and element, and nothing changes).
     */
    void setParameters(List<HostTensor> values);

    /**
     * The running statistics (BatchNorm's running means and variances) in the order of
     * {@link ModelSpec#statisticNames()}, copied to Java memory; empty for a model without them.
     */
    default List<HostTensor> runningStatistics() {
        return List.of();
    }

    /**
     * Overwrites the running statistics (a checkpoint's), in the order of
     * {@link ModelSpec#statisticNames()}: checked as {@link ModelSpec#checkStatistics} (an
     * IllegalArgumentException, nothing changed). The default serves an engine that builds no
     * model with running statistics.
     *
     * @throws UnsupportedFeatureException when this engine cannot set them
     */
    default void setRunningStatistics(List<HostTensor> values) {
        model().checkStatistics(values);
        if (!values.isEmpty()) {
            throw new UnsupportedFeatureException("this engine's network (" + getClass().getName()
                    + ") cannot set running statistics");
        }
    }

    /** The name of the engine that built this network, as {@link Engine#name()}; recorded in checkpoints. */
    String engineName();

    /**
     * Mean loss (the training loss: softmax cross-entropy with the model's label smoothing) and
     * correct argmax predictions on a batch, in evaluation mode (BatchNorm uses its running
     * statistics), without touching parameters or statistics.
     */
    Evaluation evaluate(Batch batch);

    /**
     * Prepares a step program to run on this network: an eager engine runs it op by op at each
     * step, a graph engine traces it once here. Most users call {@code Training.start} instead.
     */
    CompiledStep compile(StepProgram program);

    /**
     * Prepares a step program to run as one replica of a data-parallel step: its {@link
     * GradientOracle} has {@code group}'s size and rank, and its reduce point is an {@link
     * Collective#allReduceSum} of {@code group}. A group of one is {@link #compile(StepProgram)}.
     * The default serves an engine without data-parallel steps. Since SPI 1.1.
     *
     * @throws UnsupportedFeatureException for a larger group when this engine cannot reduce
     */
    default CompiledStep compile(StepProgram program, Collective group) {
        if (group == null || group.size() == 1) {
            return compile(program);
        }
        throw new UnsupportedFeatureException("this engine's network (" + getClass().getName()
                + ") cannot run a step as one of " + group.size() + " replicas");
    }

    /**
     * Whether {@link #hessianVectorProduct} is exact on this network (second-order autodiff); the
     * curvature diagnostics use it then, and central differences of gradients otherwise. Since SPI 1.2.
     */
    default boolean hasExactHessianVectorProducts() {
        return false;
    }

    /**
     * The exact product H·v of the Hessian of the mean training loss on {@code batch} at the current
     * parameters, in training mode (BatchNorm normalises with the batch's statistics; the running
     * statistics do not move); {@code v} and the result hold every parameter element, in parameter
     * order. Parameters and running statistics are left as they were. Since SPI 1.2.
     *
     * @throws UnsupportedFeatureException when {@link #hasExactHessianVectorProducts()} is false
     */
    default double[] hessianVectorProduct(Batch batch, double[] v) {
        throw new UnsupportedFeatureException("this engine's network (" + getClass().getName()
                + ") has no exact Hessian-vector products: use central differences of gradients");
    }

    @Override
    void close();
}
