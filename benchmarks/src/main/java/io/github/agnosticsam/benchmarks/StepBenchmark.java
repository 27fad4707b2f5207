package io.github.agnosticsam.benchmarks;

import io.github.agnosticsam.Engines;
import io.github.agnosticsam.model.Batch;
import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.model.ModelSpec;
import io.github.agnosticsam.optim.Optimizer;
import io.github.agnosticsam.optim.Optimizers;
import io.github.agnosticsam.optim.Sgd;
import io.github.agnosticsam.spi.CompiledStep;
import io.github.agnosticsam.spi.Device;
import io.github.agnosticsam.spi.Engine;
import io.github.agnosticsam.spi.EngineOptions;
import io.github.agnosticsam.spi.Network;
import io.github.agnosticsam.spi.StepProgram;
import io.github.agnosticsam.training.BadValuePolicy;
import io.github.agnosticsam.training.StepPrograms;
import io.github.agnosticsam.training.Training;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * One training step of an optimizer ({@code measure=step}), or only the gradient evaluations that
 * step makes ({@code measure=bare}), on a standard model, a train batch and a validation batch.
 * Each invocation ends by reading the step's loss: the host synchronisation a training loop makes.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class StepBenchmark {
    @Param("djl")
    public String engine;

    @Param({"mlp", "cnn", "resnet-small"})
    public String model;

    @Param({"sgd", "sam", "agnostic-sam-fast", "agnostic-sam"})
    public String optimizer;

    @Param({"step", "bare"})
    public String measure;

    @Param("0")
    public int threads;

    @Param("128")
    public int batch;

    @Param("32")
    public int validationBatch;

    private Engine theEngine;
    private Network network;
    private Training training;
    private CompiledStep bare;
    private double[] bareScalars;
    private Batch train;
    private Batch validation;
    private boolean usesValidation;

    @Setup
    public void setUp() {
        theEngine = Engines.load(engine, new EngineOptions(Device.AUTO, threads, Map.of()));
        ModelSpec spec = ModelSpec.standard(model);
        network = theEngine.build(spec, spec.initialParameters(0));
        Optimizer opt = Optimizers.named(optimizer)
                .base(Sgd.builder().lr(0.01).momentum(0.9).weightDecay(5e-4).build()).build();
        SplittableRandom random = new SplittableRandom(1);
        train = randomBatch(spec, batch, random);
        validation = randomBatch(spec, validationBatch, random);
        if (measure.equals("step")) {
            training = Training.start(network, opt, BadValuePolicy.SKIP);
            usesValidation = training.program().usesValidationBatch();
        } else {
            StepProgram program = StepPrograms.bareGradients(opt);
            bare = network.compile(program);
            bareScalars = program.scalars(0);
            usesValidation = program.usesValidationBatch();
        }
    }

    @Benchmark
    public double run() {
        Batch v = usesValidation ? validation : null;
        if (training != null) {
            return training.step(train, v).loss();
        }
        return bare.run(train, v, bareScalars).read()[0];
    }

    @TearDown
    public void tearDown() {
        if (training != null) {
            training.close();
        }
        if (bare != null) {
            bare.close();
        }
        network.close();
        theEngine.close();
    }

    /** Pixel-like inputs in [0, 1) and uniform labels: speed does not depend on the values. */
    static Batch randomBatch(ModelSpec spec, int n, SplittableRandom random) {
        int width = 1;
        for (int d : spec.inputShape()) {
            width *= d;
        }
        int[] shape = new int[spec.inputShape().length + 1];
        shape[0] = n;
        System.arraycopy(spec.inputShape(), 0, shape, 1, spec.inputShape().length);
        double[] x = new double[n * width];
        for (int i = 0; i < x.length; i++) {
            x[i] = random.nextDouble();
        }
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = random.nextInt(spec.classes());
        }
        return new Batch(new HostTensor(shape, x), y);
    }
}
