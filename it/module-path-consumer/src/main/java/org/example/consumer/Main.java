package org.example.consumer;

import io.github.agnosticsam.Engines;
import io.github.agnosticsam.diagnostics.Curvature;
import io.github.agnosticsam.diagnostics.CurvatureOptions;
import io.github.agnosticsam.diagnostics.Eigenvalue;
import io.github.agnosticsam.diagnostics.Landscape;
import io.github.agnosticsam.diagnostics.LossCurve;
import io.github.agnosticsam.model.Batch;
import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.model.ModelSpec;
import io.github.agnosticsam.optim.AgnosticSam;
import io.github.agnosticsam.optim.Optimizer;
import io.github.agnosticsam.optim.Sgd;
import io.github.agnosticsam.spi.Engine;
import io.github.agnosticsam.spi.EngineOptions;
import io.github.agnosticsam.spi.Network;
import io.github.agnosticsam.training.Checkpoint;
import io.github.agnosticsam.training.StepResult;
import io.github.agnosticsam.training.Training;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Trains the standard MLP for a few Agnostic-SAM steps on the engine named by the first argument,
 * checkpoints half way, and resumes the checkpoint on a fresh network: its steps must give the same
 * losses bit for bit.
 */
public final class Main {
    public static void main(String[] args) throws IOException {
        String name = args.length > 0 ? args[0] : "djl";
        int steps = 12;
        ModelSpec model = ModelSpec.standard("mlp");
        Optimizer optimizer = AgnosticSam.builder()
                .base(Sgd.builder().lr(0.05).momentum(0.9).build())
                .rho1(0.1).rho2(0.05)
                .build();
        SplittableRandom random = new SplittableRandom(0);
        List<Batch[]> batches = new ArrayList<>();
        for (int s = 0; s < steps; s++) {
            batches.add(new Batch[] {batch(model, 64, random), batch(model, 16, random)});
        }
        Path file = Files.createTempFile("consumer", ".safetensors");
        double[] losses = new double[steps];
        double first = Double.NaN;
        double last = Double.NaN;
        try (Engine engine = Engines.load(name, EngineOptions.DEFAULT);
             Network network = engine.build(model, model.initialParameters(0));
             Training training = Training.start(network, optimizer)) {
            Module module = engine.getClass().getModule();
            System.out.printf("engine %s on %s, in %s%n", engine.name(), engine.device(),
                    module.isNamed() ? "module " + module.getName() : "the unnamed module (class path)");
            for (int s = 0; s < steps; s++) {
                if (s == steps / 2) {
                    training.checkpoint().write(file);
                }
                StepResult r = training.step(batches.get(s)[0], batches.get(s)[1]);
                last = r.loss();
                losses[s] = last;
                if (s == 0) {
                    first = last;
                }
                System.out.printf("step %2d  loss %.4f%n", s + 1, last);
            }
            try (Network fresh = engine.build(model, model.initialParameters(1));
                 Training resumed = Training.start(fresh, optimizer)) {
                resumed.restore(Checkpoint.read(file));
                for (int s = steps / 2; s < steps; s++) {
                    double loss = resumed.step(batches.get(s)[0], batches.get(s)[1]).loss();
                    if (loss != losses[s]) {
                        System.err.printf("resumed step %d: loss %s, the uninterrupted run had %s%n", s + 1, loss,
                                losses[s]);
                        System.exit(1);
                    }
                }
            }
            System.out.printf("resumed from the checkpoint at step %d: the same losses bit for bit%n", steps / 2);
            // The diagnostics package is exported too: the curvature of the trained network's loss.
            List<HostTensor> before = network.parameters();
            try (Curvature curvature = Curvature.of(network, List.of(batches.get(0)[0]),
                    CurvatureOptions.defaults().withMaxIterations(20))) {
                Eigenvalue top = curvature.lambdaMax();
                if (!Double.isFinite(top.value()) || top.gradientEvaluations() != 2L * (top.iterations() + 1)
                        || !same(before, network.parameters())) {
                    System.err.println("curvature diagnostics failed: " + top);
                    System.exit(1);
                }
                System.out.printf("lambda_max %.4f after %d iterations, parameters unchanged%n", top.value(),
                        top.iterations());
            }
            // ... and the loss landscape: at α = 0 a line through θ is the loss at θ.
            try (Landscape landscape = Landscape.of(network, List.of(batches.get(0)[0]))) {
                double[] direction = landscape.filterNormalizedDirections(1, 7).get(0);
                LossCurve line = landscape.line(direction, new double[] {-0.5, 0, 0.5});
                if (!line.losses().stream().allMatch(Double::isFinite) || !same(before, network.parameters())) {
                    System.err.println("loss landscape failed: " + line);
                    System.exit(1);
                }
                System.out.printf("loss along a filter-normalised direction at -0.5, 0, 0.5: %.4f %.4f %.4f%n",
                        line.losses().get(0), line.losses().get(1), line.losses().get(2));
            }
        } finally {
            Files.deleteIfExists(file);
        }
        if (!(last < first)) {
            System.err.printf("the loss did not fall: %.4f -> %.4f%n", first, last);
            System.exit(1);
        }
        System.out.printf("loss %.4f -> %.4f%n", first, last);
    }

    private static boolean same(List<HostTensor> a, List<HostTensor> b) {
        for (int i = 0; i < a.size(); i++) {
            if (!java.util.Arrays.equals(a.get(i).values(), b.get(i).values())) {
                return false;
            }
        }
        return a.size() == b.size();
    }

    /** Learnable noise: input element j leans towards class j mod classes. */
    private static Batch batch(ModelSpec model, int n, SplittableRandom random) {
        int width = 1;
        for (int d : model.inputShape()) {
            width *= d;
        }
        double[] x = new double[n * width];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = random.nextInt(model.classes());
            for (int j = 0; j < width; j++) {
                x[i * width + j] = random.nextDouble() * 0.5 + (j % model.classes() == y[i] ? 0.5 : 0);
            }
        }
        return new Batch(new HostTensor(new int[] {n, width}, x), y);
    }
}
