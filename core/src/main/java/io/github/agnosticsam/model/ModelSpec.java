package io.github.agnosticsam.model;

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
public sealed interface ModelSpec permits ModelSpec.Mlp, ModelSpec.Cnn, ModelSpec.ResNet, ModelSpec.Custom {

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
     * Running statistics (BatchNorm's running mean and variance) in the engine's order; empty for a
     * model without them. They are not trained: only the clean pass on the train batch moves them
     * (docs/algorithm.md), and evaluation uses them.
     */
    default List<String> statisticNames() {
        return List.of();
    }

    /** Shapes of the running statistics, in the order of {@link #statisticNames()}. */
    default List<int[]> statisticShapes() {
        return List.of();
    }

    /**
     * The values running statistics start at, as PyTorch's BatchNorm: means 0, variances 1 (a
     * variance is a statistic whose name, after its last dot, starts with "var": var0, layer1.0.bn1.var).
     */
    default List<HostTensor> initialStatistics() {
        List<HostTensor> out = new ArrayList<>();
        List<String> names = statisticNames();
        for (int i = 0; i < names.size(); i++) {
            HostTensor t = HostTensor.zeros(statisticShapes().get(i));
            String name = names.get(i);
            if (name.substring(name.lastIndexOf('.') + 1).startsWith("var")) {
                Arrays.fill(t.values(), 1.0);
            }
            out.add(t);
        }
        return out;
    }

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

    /** BatchNorm's parameters as PyTorch starts them: every gamma 1, every beta 0. */
    private static List<HostTensor> batchNormDefaults(List<HostTensor> params, List<String> names,
            java.util.function.Predicate<String> gamma, java.util.function.Predicate<String> beta) {
        for (int i = 0; i < names.size(); i++) {
            if (gamma.test(names.get(i)) || beta.test(names.get(i))) {
                Arrays.fill(params.get(i).values(), gamma.test(names.get(i)) ? 1.0 : 0.0);
            }
        }
        return params;
    }

    /**
     * Throws an IllegalArgumentException unless {@code values} are one tensor per parameter with
     * the parameter's shape and only finite elements; the message names the first parameter (and
     * element) that does not fit. {@code Network.setParameters} of every engine checks this.
     */
    default void checkParameters(List<HostTensor> values) {
        checkParameters(values, Double.MAX_VALUE);
    }

    /**
     * As {@link #checkParameters(List)}, for an engine whose precision holds magnitudes up to {@code
     * largest} ({@link Float#MAX_VALUE} for float32): a larger element would become ±Infinity there.
     */
    default void checkParameters(List<HostTensor> values, double largest) {
        HostTensor.requireFinite(toString(), "parameter", parameterNames(), parameterShapes(), values, largest);
    }

    /**
     * As {@link #checkParameters}, for running statistics in the order of {@link #statisticNames()}.
     * {@code Network.setRunningStatistics} of every engine checks this.
     */
    default void checkStatistics(List<HostTensor> values) {
        checkStatistics(values, Double.MAX_VALUE);
    }

    /** As {@link #checkStatistics(List)}, within an engine's precision as {@link #checkParameters(List, double)}. */
    default void checkStatistics(List<HostTensor> values, double largest) {
        HostTensor.requireFinite(toString(), "running statistic", statisticNames(), statisticShapes(), values,
                largest);
    }

    /**
     * The standard models of docs/models.md: {@code mlp} (784-256-10, ReLU), {@code mlp-bn} (the
     * same with BatchNorm), {@code cnn} and {@code resnet-small} (a residual CNN with BatchNorm).
     */
    static ModelSpec standard(String name) {
        return switch (name == null ? "" : name) {
            case "mlp" -> new Mlp(new int[] {784, 256, 10}, Activation.RELU, 0.0);
            case "mlp-bn" -> new Mlp(new int[] {784, 256, 10}, Activation.RELU, 0.0, true);
            case "cnn" -> new Cnn();
            case "resnet-small" -> new ResNet();
            default -> throw new IllegalArgumentException("model must be one of " + String.join(", ", STANDARD)
                    + ", got '" + name + "'");
        };
    }

    /** The names {@link #standard} knows. */
    List<String> STANDARD = List.of("mlp", "mlp-bn", "cnn", "resnet-small");

    /**
     * Dense layers of the given widths (input first, logits last); hidden layers use the
     * activation, the last layer is linear. Weights Wᵢ have shape [out, in], biases [out].
     *
     * <p>With {@code batchNorm}, each hidden layer is dense without bias → BatchNorm (PyTorch's
     * BatchNorm1d: momentum 0.1, ε 1e-5, affine) → activation; its parameters are Wᵢ, gammaᵢ
     * (starts at 1), betaᵢ (starts at 0), and its running statistics meanᵢ and varᵢ.
     */
    record Mlp(int[] layers, Activation activation, double labelSmoothing, boolean batchNorm) implements ModelSpec {

        /** Without BatchNorm. */
        public Mlp(int[] layers, Activation activation, double labelSmoothing) {
            this(layers, activation, labelSmoothing, false);
        }

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

        private boolean normalised(int layer) {
            return batchNorm && layer + 2 < layers.length;
        }

        @Override
        public List<int[]> parameterShapes() {
            List<int[]> shapes = new ArrayList<>();
            for (int i = 0; i + 1 < layers.length; i++) {
                shapes.add(new int[] {layers[i + 1], layers[i]});
                shapes.add(new int[] {layers[i + 1]}); // bᵢ, or gammaᵢ
                if (normalised(i)) {
                    shapes.add(new int[] {layers[i + 1]}); // betaᵢ
                }
            }
            return shapes;
        }

        @Override
        public List<String> parameterNames() {
            List<String> names = new ArrayList<>();
            for (int i = 0; i + 1 < layers.length; i++) {
                names.add("W" + i);
                if (normalised(i)) {
                    names.add("gamma" + i);
                    names.add("beta" + i);
                } else {
                    names.add("b" + i);
                }
            }
            return names;
        }

        @Override
        public List<Integer> fanIns() {
            List<Integer> fanIns = new ArrayList<>();
            for (int i = 0; i + 1 < layers.length; i++) {
                fanIns.add(layers[i]);
                fanIns.add(layers[i]);
                if (normalised(i)) {
                    fanIns.add(layers[i]);
                }
            }
            return fanIns;
        }

        /** PyTorch's defaults: dense layers uniform in ±1/√fan_in, BatchNorm's gamma 1 and beta 0. */
        @Override
        public List<HostTensor> initialParameters(long seed) {
            return batchNormDefaults(ModelSpec.super.initialParameters(seed), parameterNames(),
                    n -> n.startsWith("gamma"), n -> n.startsWith("beta"));
        }

        @Override
        public List<String> statisticNames() {
            List<String> names = new ArrayList<>();
            for (int i = 0; i + 1 < layers.length; i++) {
                if (normalised(i)) {
                    names.add("mean" + i);
                    names.add("var" + i);
                }
            }
            return names;
        }

        @Override
        public List<int[]> statisticShapes() {
            List<int[]> shapes = new ArrayList<>();
            for (int i = 0; i + 1 < layers.length; i++) {
                if (normalised(i)) {
                    shapes.add(new int[] {layers[i + 1]});
                    shapes.add(new int[] {layers[i + 1]});
                }
            }
            return shapes;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Mlp m && Arrays.equals(layers, m.layers) && activation == m.activation
                    && Double.compare(labelSmoothing, m.labelSmoothing) == 0 && batchNorm == m.batchNorm;
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(layers) * 31 + activation.hashCode();
        }

        @Override
        public String toString() {
            String widths = Arrays.toString(layers).replace(", ", "-").replaceAll("[\\[\\]]", "");
            return "mlp " + widths + " " + activation.id() + (batchNorm ? " batchnorm" : "")
                    + (labelSmoothing == 0 ? "" : " label smoothing " + labelSmoothing);
        }
    }

    /**
     * A model defined in an engine's own terms (a TensorFlow {@code Ops} function, say), described
     * here by what the core needs: input shape, classes, parameter shapes, names and fan-ins (for
     * the default initialisation), the label smoothing of its softmax cross-entropy loss, and the
     * shapes and names of its running statistics (none unless given: a checkpoint holds only the
     * statistics described here). Engines that cannot build it throw
     * {@link io.github.agnosticsam.spi.UnsupportedFeatureException}.
     */
    record Custom(String name, int[] inputShape, int classes, List<int[]> parameterShapes, List<String> parameterNames,
            List<Integer> fanIns, double labelSmoothing, List<int[]> statisticShapes, List<String> statisticNames)
            implements ModelSpec {
        /** A model without running statistics. */
        public Custom(String name, int[] inputShape, int classes, List<int[]> parameterShapes,
                List<String> parameterNames, List<Integer> fanIns, double labelSmoothing) {
            this(name, inputShape, classes, parameterShapes, parameterNames, fanIns, labelSmoothing, List.of(),
                    List.of());
        }

        public Custom {
            if (name == null || inputShape == null || parameterShapes == null || parameterNames == null
                    || fanIns == null || statisticShapes == null || statisticNames == null) {
                throw new IllegalArgumentException("name, input shape, parameter shapes, names, fan-ins and statistic "
                        + "shapes and names are required");
            }
            if (statisticShapes.size() != statisticNames.size()) {
                throw new IllegalArgumentException(name + ": " + statisticShapes.size() + " statistic shapes and "
                        + statisticNames.size() + " names; they must match");
            }
            if (classes < 2) {
                throw new IllegalArgumentException("classes must be >= 2, got " + classes);
            }
            if (parameterShapes.size() != parameterNames.size() || parameterShapes.size() != fanIns.size()) {
                throw new IllegalArgumentException(name + ": " + parameterShapes.size() + " parameter shapes, "
                        + parameterNames.size() + " names and " + fanIns.size() + " fan-ins; they must match");
            }
            Require.inRange("labelSmoothing", labelSmoothing, 0, 1);
            // Names key the tensors of a checkpoint file: a repeated one would overwrite another.
            List<String> all = new ArrayList<>(parameterNames);
            all.addAll(statisticNames);
            for (String n : all) {
                if (all.indexOf(n) != all.lastIndexOf(n)) {
                    throw new IllegalArgumentException(name + ": the name '" + n + "' is given twice; parameter and "
                            + "statistic names must be unique");
                }
            }
            inputShape = inputShape.clone();
            parameterShapes = parameterShapes.stream().map(int[]::clone).toList();
            parameterNames = List.copyOf(parameterNames);
            fanIns = List.copyOf(fanIns);
            statisticShapes = statisticShapes.stream().map(int[]::clone).toList();
            statisticNames = List.copyOf(statisticNames);
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
        public List<int[]> statisticShapes() {
            return statisticShapes.stream().map(int[]::clone).toList();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Custom c && name.equals(c.name) && Arrays.equals(inputShape, c.inputShape)
                    && classes == c.classes && parameterNames.equals(c.parameterNames)
                    && statisticNames.equals(c.statisticNames);
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
     * A small CNN on 1×size×size images: conv 5×5 (c₁ channels, padding 2) → ReLU → max-pool 2 →
     * conv 5×5 (c₂, padding 2) → ReLU → max-pool 2 → flatten (c₂·(size/4)²) → dense to the classes.
     * Conv weights [out, in, 5, 5]. The demo's {@code cnn} is size 28, channels 32 and 64, 10
     * classes; the conformance kit uses smaller ones.
     */
    record Cnn(int size, int channels1, int channels2, int classes) implements ModelSpec {

        /** The demo's cnn: 28×28, 32 and 64 channels, 10 classes. */
        public Cnn() {
            this(28, 32, 64, 10);
        }

        public Cnn {
            if (size < 4 || size % 4 != 0) {
                throw new IllegalArgumentException("cnn size must be a multiple of 4 and >= 4, got " + size);
            }
            if (channels1 < 1 || channels2 < 1) {
                throw new IllegalArgumentException("cnn channels must be >= 1, got " + channels1 + " and " + channels2);
            }
            if (classes < 2) {
                throw new IllegalArgumentException("classes must be >= 2, got " + classes);
            }
        }

        /** Inputs of the dense layer: c₂·(size/4)². */
        public int flattened() {
            return channels2 * (size / 4) * (size / 4);
        }

        @Override
        public int[] inputShape() {
            return new int[] {1, size, size};
        }

        @Override
        public double labelSmoothing() {
            return 0;
        }

        @Override
        public List<int[]> parameterShapes() {
            return List.of(new int[] {channels1, 1, 5, 5}, new int[] {channels1}, new int[] {channels2, channels1, 5, 5},
                    new int[] {channels2}, new int[] {classes, flattened()}, new int[] {classes});
        }

        @Override
        public List<String> parameterNames() {
            return List.of("conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "dense.weight", "dense.bias");
        }

        @Override
        public List<Integer> fanIns() {
            return List.of(25, 25, 25 * channels1, 25 * channels1, flattened(), flattened());
        }

        @Override
        public String toString() {
            return equals(new Cnn()) ? "cnn" : "cnn " + size + "x" + size + " " + channels1 + "-" + channels2 + "-" + classes;
        }
    }

    /**
     * A small residual CNN with BatchNorm on 1×size×size images (docs/models.md, where the
     * equivalent PyTorch module is written out): a stem conv 3×3 (stride 1, padding 1, {@code stem}
     * channels, no bias) → BatchNorm → ReLU; then one stage per entry of {@code widths}, each of
     * {@code blocks} basic residual blocks whose first has stride 2; global average pool; dense to
     * the classes. A basic block is conv 3×3 (the block's stride, padding 1) → BN → ReLU → conv 3×3
     * (stride 1, padding 1) → BN, plus the shortcut — the identity, or conv 1×1 (the block's stride,
     * no bias) → BN where the stride or the width changes — then ReLU. No convolution has a bias;
     * BatchNorm is PyTorch's BatchNorm2d (momentum 0.1, ε 1e-5, affine).
     *
     * <p>Parameters in torchvision's module order, named as its {@code state_dict} with BatchNorm's
     * weight and bias called gamma and beta: {@code conv1.weight}, {@code bn1.gamma},
     * {@code bn1.beta}, then per block ({@code layer<stage>.<block>.}, both from 1 and 0)
     * {@code conv1.weight}, {@code bn1.gamma}, {@code bn1.beta}, {@code conv2.weight},
     * {@code bn2.gamma}, {@code bn2.beta} and, with a projection, {@code downsample.0.weight},
     * {@code downsample.1.gamma}, {@code downsample.1.beta}; last {@code fc.weight} and
     * {@code fc.bias}. Running statistics: {@code <bn>.mean} and {@code <bn>.var} of each BatchNorm
     * in the same order.
     */
    record ResNet(int size, int stem, int[] widths, int blocks, int classes) implements ModelSpec {

        /** The standard {@code resnet-small}: 28×28, stem 16, stages 16, 32, 64 of 2 blocks, 10 classes. */
        public ResNet() {
            this(28, 16, new int[] {16, 32, 64}, 2, 10);
        }

        public ResNet {
            if (size < 1) {
                throw new IllegalArgumentException("resnet size must be >= 1, got " + size);
            }
            if (stem < 1) {
                throw new IllegalArgumentException("resnet stem channels must be >= 1, got " + stem);
            }
            if (widths == null || widths.length == 0 || Arrays.stream(widths).anyMatch(w -> w < 1)) {
                throw new IllegalArgumentException("resnet stage widths must be one or more numbers >= 1, got "
                        + Arrays.toString(widths));
            }
            if (blocks < 1) {
                throw new IllegalArgumentException("resnet blocks per stage must be >= 1, got " + blocks);
            }
            if (classes < 2) {
                throw new IllegalArgumentException("classes must be >= 2, got " + classes);
            }
            widths = widths.clone();
        }

        @Override
        public int[] widths() {
            return widths.clone();
        }

        /** Input channels of block {@code b} of stage {@code s}. */
        public int inputChannels(int s, int b) {
            return b > 0 ? widths[s] : s == 0 ? stem : widths[s - 1];
        }

        /** Stride of block {@code b} (of any stage): 2 for the first, else 1. */
        public int stride(int b) {
            return b == 0 ? 2 : 1;
        }

        /** Whether the block's shortcut is a projection (conv 1×1 → BN): the stride or the width changes. */
        public boolean projects(int s, int b) {
            return stride(b) != 1 || inputChannels(s, b) != widths[s];
        }

        /** Side of the feature maps after stage {@code s} (each stage halves, rounding up). */
        public int sideAfter(int s) {
            int side = size;
            for (int i = 0; i <= s; i++) {
                side = (side - 1) / 2 + 1;
            }
            return side;
        }

        @Override
        public int[] inputShape() {
            return new int[] {1, size, size};
        }

        @Override
        public double labelSmoothing() {
            return 0;
        }

        /** One parameter tensor: name, shape, fan-in. */
        private record Entry(String name, int[] shape, int fanIn) {
        }

        private List<Entry> entries() {
            List<Entry> out = new ArrayList<>();
            conv(out, "conv1.weight", stem, 1, 3);
            bn(out, "bn1", stem);
            for (int s = 0; s < widths.length; s++) {
                for (int b = 0; b < blocks; b++) {
                    String p = "layer" + (s + 1) + "." + b + ".";
                    int in = inputChannels(s, b);
                    conv(out, p + "conv1.weight", widths[s], in, 3);
                    bn(out, p + "bn1", widths[s]);
                    conv(out, p + "conv2.weight", widths[s], widths[s], 3);
                    bn(out, p + "bn2", widths[s]);
                    if (projects(s, b)) {
                        conv(out, p + "downsample.0.weight", widths[s], in, 1);
                        bn(out, p + "downsample.1", widths[s]);
                    }
                }
            }
            int last = widths[widths.length - 1];
            out.add(new Entry("fc.weight", new int[] {classes, last}, last));
            out.add(new Entry("fc.bias", new int[] {classes}, last));
            return out;
        }

        private static void conv(List<Entry> out, String name, int channelsOut, int channelsIn, int kernel) {
            out.add(new Entry(name, new int[] {channelsOut, channelsIn, kernel, kernel}, channelsIn * kernel * kernel));
        }

        private static void bn(List<Entry> out, String name, int channels) {
            out.add(new Entry(name + ".gamma", new int[] {channels}, channels));
            out.add(new Entry(name + ".beta", new int[] {channels}, channels));
        }

        @Override
        public List<int[]> parameterShapes() {
            return entries().stream().map(Entry::shape).toList();
        }

        @Override
        public List<String> parameterNames() {
            return entries().stream().map(Entry::name).toList();
        }

        @Override
        public List<Integer> fanIns() {
            return entries().stream().map(Entry::fanIn).toList();
        }

        /** PyTorch's defaults: conv and dense uniform in ±1/√fan_in, BatchNorm's gamma 1 and beta 0. */
        @Override
        public List<HostTensor> initialParameters(long seed) {
            return batchNormDefaults(ModelSpec.super.initialParameters(seed), parameterNames(),
                    n -> n.endsWith(".gamma"), n -> n.endsWith(".beta"));
        }

        @Override
        public List<String> statisticNames() {
            List<String> names = new ArrayList<>();
            for (String n : parameterNames()) {
                if (n.endsWith(".gamma")) {
                    String bn = n.substring(0, n.length() - ".gamma".length());
                    names.add(bn + ".mean");
                    names.add(bn + ".var");
                }
            }
            return names;
        }

        @Override
        public List<int[]> statisticShapes() {
            List<int[]> shapes = new ArrayList<>();
            for (Entry e : entries()) {
                if (e.name().endsWith(".gamma")) {
                    shapes.add(e.shape().clone());
                    shapes.add(e.shape().clone());
                }
            }
            return shapes;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof ResNet r && size == r.size && stem == r.stem && Arrays.equals(widths, r.widths)
                    && blocks == r.blocks && classes == r.classes;
        }

        @Override
        public int hashCode() {
            return (Arrays.hashCode(widths) * 31 + size) * 31 + stem * 7 + blocks + classes;
        }

        @Override
        public String toString() {
            return equals(new ResNet()) ? "resnet-small" : "resnet " + size + "x" + size + " stem " + stem
                    + " stages " + Arrays.toString(widths).replace(", ", "-").replaceAll("[\\[\\]]", "")
                    + " blocks " + blocks + " classes " + classes;
        }
    }
}
