package io.github.agnosticsam;

import io.github.agnosticsam.internal.Require;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A network described without any engine: every engine builds these, so the command line, the
 * benchmarks and the conformance kit run the same model on any engine. The loss is always the
 * mean softmax cross-entropy over the batch, with optional label smoothing.
 */
public sealed interface ModelSpec permits ModelSpec.Mlp, ModelSpec.Cnn, ModelSpec.Custom {

    /** Shape of one example, without the batch dimension. */
    int[] inputShape();

    /** Number of classes (width of the logits). */
    int classes();

    /** Label smoothing s of the loss: targets (1 − s)·onehot(y) + s/C. */
    double labelSmoothing();

    /** Parameter shapes in the engine's order. */
    List<int[]> parameterShapes();

    /** Parameter names, in the same order. */
    List<String> parameterNames();

    /** Fan-in of each parameter, for PyTorch's default initialisation. */
    List<Integer> fanIns();

    /**
     * Seeded initial values, as PyTorch initialises Linear and Conv2d by default: weights and
     * biases uniform in ±1/√fan_in. The same seed gives the same values on every engine.
     */
    default List<HostTensor> initialParameters(long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        List<HostTensor> params = new ArrayList<>();
        List<int[]> shapes = parameterShapes();
        for (int i = 0; i < shapes.size(); i++) {
            double bound = 1.0 / Math.sqrt(fanIns().get(i));
            HostTensor t = HostTensor.zeros(shapes.get(i));
            double[] v = t.values();
            for (int j = 0; j < v.length; j++) {
                v[j] = random.nextDouble(-bound, bound);
            }
            params.add(t);
        }
        return params;
    }

    /**
     * Throws an IllegalArgumentException unless {@code values} are one tensor per parameter with
     * the parameter's shape; the message names the first parameter that does not fit.
     */
    default void checkParameters(List<HostTensor> values) {
        List<int[]> shapes = parameterShapes();
        if (values == null || values.size() != shapes.size()) {
            throw new IllegalArgumentException(this + " has " + shapes.size() + " parameter tensors, got "
                    + (values == null ? "null" : values.size()));
        }
        for (int i = 0; i < shapes.size(); i++) {
            if (!Arrays.equals(shapes.get(i), values.get(i).shape())) {
                throw new IllegalArgumentException("parameter " + parameterNames().get(i) + " must have shape "
                        + Arrays.toString(shapes.get(i)) + ", got " + Arrays.toString(values.get(i).shape()));
            }
        }
    }

    /** The standard models of the project: {@code mlp} (784-256-10, ReLU) and {@code cnn}. */
    static ModelSpec standard(String name) {
        return switch (name) {
            case "mlp" -> new Mlp(new int[] {784, 256, 10}, Activation.RELU, 0.0);
            case "cnn" -> new Cnn();
            default -> throw new IllegalArgumentException("model must be mlp or cnn, got '" + name + "'");
        };
    }

    /**
     * Dense layers of the given widths (input first, logits last); hidden layers use the
     * activation, the last layer is linear. Weights Wᵢ have shape [out, in], biases [out].
     */
    record Mlp(int[] layers, Activation activation, double labelSmoothing) implements ModelSpec {
        public Mlp {
            if (layers == null || layers.length < 2) {
                throw new IllegalArgumentException("an mlp needs at least 2 layer widths (one layer of weights), got "
                        + Arrays.toString(layers));
            }
            for (int w : layers) {
                if (w < 1) {
                    throw new IllegalArgumentException("layer widths must be >= 1, got " + Arrays.toString(layers));
                }
            }
            if (layers[layers.length - 1] < 2) {
                throw new IllegalArgumentException("the last layer needs >= 2 classes, got " + Arrays.toString(layers));
            }
            if (activation == null) {
                throw new IllegalArgumentException("activation must not be null");
            }
            Require.inRange("labelSmoothing", labelSmoothing, 0, 1);
            layers = layers.clone();
        }

        @Override
        public int[] layers() {
            return layers.clone();
        }

        @Override
        public int[] inputShape() {
            return new int[] {layers[0]};
        }

        @Override
        public int classes() {
            return layers[layers.length - 1];
        }

        @Override
        public List<int[]> parameterShapes() {
            List<int[]> shapes = new ArrayList<>();
            for (int i = 0; i + 1 < layers.length; i++) {
                shapes.add(new int[] {layers[i + 1], layers[i]});
                shapes.add(new int[] {layers[i + 1]});
            }
            return shapes;
        }

        @Override
        public List<String> parameterNames() {
            List<String> names = new ArrayList<>();
            for (int i = 0; i + 1 < layers.length; i++) {
                names.add("W" + i);
                names.add("b" + i);
            }
            return names;
        }

        @Override
        public List<Integer> fanIns() {
            List<Integer> fanIns = new ArrayList<>();
            for (int i = 0; i + 1 < layers.length; i++) {
                fanIns.add(layers[i]);
                fanIns.add(layers[i]);
            }
            return fanIns;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Mlp m && Arrays.equals(layers, m.layers) && activation == m.activation
                    && Double.compare(labelSmoothing, m.labelSmoothing) == 0;
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(layers) * 31 + activation.hashCode();
        }

        @Override
        public String toString() {
            String widths = Arrays.toString(layers).replace(", ", "-").replaceAll("[\\[\\]]", "");
            return "mlp " + widths + " " + activation.id()
                    + (labelSmoothing == 0 ? "" : " label smoothing " + labelSmoothing);
        }
    }

    /**
     * A model defined in an engine's own terms (a TensorFlow {@code Ops} function, say), described
     * here by what the core needs: input shape, classes, parameter shapes, names and fan-ins (for
     * the default initialisation), and the label smoothing of its softmax cross-entropy loss.
     * Engines that cannot build it throw {@link io.github.agnosticsam.spi.UnsupportedFeatureException}.
     */
    record Custom(String name, int[] inputShape, int classes, List<int[]> parameterShapes, List<String> parameterNames,
            List<Integer> fanIns, double labelSmoothing) implements ModelSpec {
        public Custom {
            if (name == null || inputShape == null || parameterShapes == null || parameterNames == null
                    || fanIns == null) {
                throw new IllegalArgumentException("name, input shape, parameter shapes, names and fan-ins are required");
            }
            if (classes < 2) {
                throw new IllegalArgumentException("classes must be >= 2, got " + classes);
            }
            if (parameterShapes.size() != parameterNames.size() || parameterShapes.size() != fanIns.size()) {
                throw new IllegalArgumentException(name + ": " + parameterShapes.size() + " parameter shapes, "
                        + parameterNames.size() + " names and " + fanIns.size() + " fan-ins; they must match");
            }
            Require.inRange("labelSmoothing", labelSmoothing, 0, 1);
            inputShape = inputShape.clone();
            parameterShapes = parameterShapes.stream().map(int[]::clone).toList();
            parameterNames = List.copyOf(parameterNames);
            fanIns = List.copyOf(fanIns);
        }

        @Override
        public int[] inputShape() {
            return inputShape.clone();
        }

        @Override
        public List<int[]> parameterShapes() {
            return parameterShapes.stream().map(int[]::clone).toList();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Custom c && name.equals(c.name) && Arrays.equals(inputShape, c.inputShape)
                    && classes == c.classes && parameterNames.equals(c.parameterNames);
        }

        @Override
        public int hashCode() {
            return name.hashCode();
        }

        @Override
        public String toString() {
            return name;
        }
    }

    /**
     * The demo CNN: 1×28×28 → conv 5×5 (32, padding 2) → ReLU → max-pool 2 → conv 5×5 (64, padding
     * 2) → ReLU → max-pool 2 → flatten (3136) → dense 10. Conv weights [out, in, 5, 5].
     */
    record Cnn() implements ModelSpec {
        @Override
        public int[] inputShape() {
            return new int[] {1, 28, 28};
        }

        @Override
        public int classes() {
            return 10;
        }

        @Override
        public double labelSmoothing() {
            return 0;
        }

        @Override
        public List<int[]> parameterShapes() {
            return List.of(new int[] {32, 1, 5, 5}, new int[] {32}, new int[] {64, 32, 5, 5}, new int[] {64},
                    new int[] {10, 3136}, new int[] {10});
        }

        @Override
        public List<String> parameterNames() {
            return List.of("conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "dense.weight", "dense.bias");
        }

        @Override
        public List<Integer> fanIns() {
            return List.of(25, 25, 800, 800, 3136, 3136);
        }

        @Override
        public String toString() {
            return "cnn";
        }
    }
}
