package io.github.agnosticsam.conformance;

import io.github.agnosticsam.io.Json;
import io.github.agnosticsam.model.Activation;
import io.github.agnosticsam.model.Batch;
import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.model.ModelSpec;
import io.github.agnosticsam.optim.Adam;
import io.github.agnosticsam.optim.AgnosticSam;
import io.github.agnosticsam.optim.BaseOptimizer;
import io.github.agnosticsam.optim.Optimizer;
import io.github.agnosticsam.optim.Sam;
import io.github.agnosticsam.optim.Schedule;
import io.github.agnosticsam.optim.Sgd;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Reads case files of format versions 1 and 2 (docs/conformance-case.md). Omitted optional fields
 * take their defaults; unknown fields, duplicate keys, content after the JSON value and numbers
 * that are not finite as a double are errors. Every error names the JSON path.
 */
public final class CaseReader {
    /** Bounds the memory a case's tree takes (one BigDecimal per number). */
    private static final int MAX_CHARS = 256 << 20;

    private CaseReader() {
    }

    public static ConformanceCase read(Path file) throws CaseFormatException {
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException | RuntimeException e) {
            throw new CaseFormatException(file + ": cannot read: " + e.getMessage(), e);
        }
        return parse(text, file.toString());
    }

    /** Parses a case; {@code source} names it in error messages. */
    public static ConformanceCase parse(String json, String source) throws CaseFormatException {
        if (json.length() > MAX_CHARS) {
            throw new CaseFormatException(source + ": " + json.length() + " characters; a case file holds at most "
                    + MAX_CHARS);
        }
        if (json.isBlank()) {
            throw new CaseFormatException(source + ": empty; a case file holds one JSON object");
        }
        Object root;
        try {
            root = Json.parse(json);
        } catch (Json.JsonException e) {
            throw new CaseFormatException(source + ": not valid JSON " + e.getMessage(), e);
        }
        try {
            return new Parser().parseCase(root);
        } catch (IllegalArgumentException e) {
            throw new CaseFormatException(source + ": " + e.getMessage(), e);
        }
    }

    /** Walks the tree; every error is an IllegalArgumentException naming the JSON path. */
    private static final class Parser {
        /** Per-step arrays read so far (path and length), checked against the number of steps. */
        private final List<String> perStepPaths = new ArrayList<>();
        private final List<Integer> perStepLengths = new ArrayList<>();

        ConformanceCase parseCase(Object tree) {
            Map<String, Object> root = object(tree, "$");
            allowOnly(root, "$", Set.of("name", "model", "replicas", "initialParams", "initialStatistics", "optimizer",
                    "steps", "expected", "evaluation", "tolerance"));
            String name = text(required(root, "$", "name"), "$.name");
            ModelSpec model = model(required(root, "$", "model"));
            boolean hasStatistics = !model.statisticNames().isEmpty();
            List<HostTensor> init = tensors(required(root, "$", "initialParams"), "$.initialParams",
                    model.parameterShapes(), model.parameterNames());
            List<HostTensor> initialStatistics = model.initialStatistics();
            if (root.containsKey("initialStatistics")) {
                initialStatistics = statistics(root.get("initialStatistics"), "$.initialStatistics", model);
            }
            int replicas = 1;
            if (root.containsKey("replicas")) {
                Integer n = wholeInt(root.get("replicas"));
                if (n == null || n < 1) {
                    throw new IllegalArgumentException("$.replicas must be a whole number >= 1, got "
                            + Json.write(root.get("replicas")));
                }
                replicas = n;
            }
            Object opt = required(root, "$", "optimizer");
            Optimizer optimizer = optimizer(opt);
            boolean agnostic = optimizer instanceof AgnosticSam;

            List<Object> stepsNode = array(required(root, "$", "steps"), "$.steps");
            List<ConformanceCase.Step> steps = new ArrayList<>();
            for (int i = 0; i < stepsNode.size(); i++) {
                String path = "$.steps[" + i + "]";
                Map<String, Object> step = object(stepsNode.get(i), path);
                allowOnly(step, path, Set.of("train", "validation"));
                Batch train = batch(required(step, path, "train"), path + ".train", model, Set.of());
                Batch validation = null;
                if (agnostic) {
                    validation = batch(required(step, path, "validation"), path + ".validation", model, Set.of());
                } else if (step.containsKey("validation")) {
                    throw new IllegalArgumentException(path + ".validation is present, but only agnostic-sam "
                            + "steps have a validation batch");
                }
                divides(replicas, train, path + ".train");
                if (validation != null) {
                    divides(replicas, validation, path + ".validation");
                }
                steps.add(new ConformanceCase.Step(train, validation));
            }
            if (steps.isEmpty()) {
                throw new IllegalArgumentException("$.steps is empty");
            }
            for (int i = 0; i < perStepPaths.size(); i++) {
                if (perStepLengths.get(i) < steps.size()) {
                    throw new IllegalArgumentException(perStepPaths.get(i) + " has " + perStepLengths.get(i)
                            + " values, but there are " + steps.size() + " steps (one value per step)");
                }
            }

            List<Object> expectedNode = array(required(root, "$", "expected"), "$.expected");
            if (expectedNode.size() != steps.size()) {
                throw new IllegalArgumentException("$.expected has " + expectedNode.size() + " entries, but $.steps has "
                        + steps.size());
            }
            List<ConformanceCase.Expected> expected = new ArrayList<>();
            for (int i = 0; i < expectedNode.size(); i++) {
                String path = "$.expected[" + i + "]";
                Map<String, Object> e = object(expectedNode.get(i), path);
                allowOnly(e, path, Set.of("loss", "params", "statistics"));
                List<HostTensor> statistics = List.of();
                if (hasStatistics) {
                    statistics = statistics(required(e, path, "statistics"), path + ".statistics", model);
                } else if (e.containsKey("statistics")) {
                    statistics(e.get("statistics"), path + ".statistics", model); // throws: none to expect
                }
                expected.add(new ConformanceCase.Expected(number(required(e, path, "loss"), path + ".loss"),
                        tensors(required(e, path, "params"), path + ".params", model.parameterShapes(),
                                model.parameterNames()), statistics));
            }

            Optional<ConformanceCase.FinalEvaluation> evaluation = Optional.empty();
            if (root.containsKey("evaluation")) {
                evaluation = Optional.of(evaluation(root.get("evaluation"), model));
            }

            ConformanceCase.Tolerance tolerance = ConformanceCase.Tolerance.DEFAULT;
            if (root.containsKey("tolerance")) {
                Map<String, Object> t = object(root.get("tolerance"), "$.tolerance");
                allowOnly(t, "$.tolerance", Set.of("abs", "rel"));
                tolerance = new ConformanceCase.Tolerance(
                        nonNegative(optionalNumber(t, "$.tolerance", "abs", tolerance.abs()), "$.tolerance.abs"),
                        nonNegative(optionalNumber(t, "$.tolerance", "rel", tolerance.rel()), "$.tolerance.rel"));
            }
            return new ConformanceCase(name, model, init, initialStatistics, optimizer, steps, expected, evaluation,
                    tolerance, replicas);
        }

        /** A batch of a data-parallel case splits into equal shards. */
        private static void divides(int replicas, Batch batch, String path) {
            if (batch.size() % replicas != 0) {
                throw new IllegalArgumentException(path + " has " + batch.size() + " examples, which " + replicas
                        + " replicas cannot split into equal shards ($.replicas)");
            }
        }

        private ModelSpec model(Object tree) {
            String path = "$.model";
            Map<String, Object> node = object(tree, path);
            String type = text(required(node, path, "type"), path + ".type");
            try {
                switch (type) {
                    case "mlp" -> {
                        allowOnly(node, path, Set.of("type", "layers", "activation", "batchNorm", "loss",
                                "labelSmoothing"));
                        loss(node, path);
                        List<Object> layersNode = array(required(node, path, "layers"), path + ".layers");
                        int[] layers = new int[layersNode.size()];
                        for (int i = 0; i < layers.length; i++) {
                            layers[i] = wholeNumber(layersNode.get(i), path + ".layers[" + i + "]");
                        }
                        String activation = text(required(node, path, "activation"), path + ".activation");
                        double smoothing = optionalNumber(node, path, "labelSmoothing", 0);
                        return new ModelSpec.Mlp(layers, Activation.fromId(activation), smoothing,
                                bool(node, path, "batchNorm", false));
                    }
                    case "cnn" -> {
                        allowOnly(node, path, Set.of("type", "size", "channels", "classes", "loss"));
                        loss(node, path);
                        int size = wholeNumber(required(node, path, "size"), path + ".size");
                        List<Object> channels = array(required(node, path, "channels"), path + ".channels");
                        if (channels.size() != 2) {
                            throw new IllegalArgumentException(path + ".channels must be an array of 2 (the channels "
                                    + "of the two convolutions), got " + describe(channels));
                        }
                        int classes = wholeNumber(required(node, path, "classes"), path + ".classes");
                        return new ModelSpec.Cnn(size, wholeNumber(channels.get(0), path + ".channels[0]"),
                                wholeNumber(channels.get(1), path + ".channels[1]"), classes);
                    }
                    case "resnet" -> {
                        allowOnly(node, path, Set.of("type", "size", "stem", "widths", "blocks", "classes", "loss"));
                        loss(node, path);
                        List<Object> widthsNode = array(required(node, path, "widths"), path + ".widths");
                        int[] widths = new int[widthsNode.size()];
                        for (int i = 0; i < widths.length; i++) {
                            widths[i] = wholeNumber(widthsNode.get(i), path + ".widths[" + i + "]");
                        }
                        return new ModelSpec.ResNet(wholeNumber(required(node, path, "size"), path + ".size"),
                                wholeNumber(required(node, path, "stem"), path + ".stem"), widths,
                                wholeNumber(required(node, path, "blocks"), path + ".blocks"),
                                wholeNumber(required(node, path, "classes"), path + ".classes"));
                    }
                    default -> throw new IllegalArgumentException(path + ".type must be \"mlp\", \"cnn\" or \"resnet\", "
                            + "got \"" + type + "\"");
                }
            } catch (IllegalArgumentException e) {
                if (e.getMessage().startsWith("$")) {
                    throw e;
                }
                throw new IllegalArgumentException(path + ": " + e.getMessage(), e);
            }
        }

        private static void loss(Map<String, Object> model, String path) {
            if (model.containsKey("loss")) {
                String loss = text(model.get("loss"), path + ".loss");
                if (!loss.equals("softmax-cross-entropy")) {
                    throw new IllegalArgumentException(path + ".loss must be \"softmax-cross-entropy\", got \""
                            + loss + "\"");
                }
            }
        }

        private Optimizer optimizer(Object tree) {
            String path = "$.optimizer";
            Map<String, Object> node = object(tree, path);
            String name = text(required(node, path, "name"), path + ".name");
            BaseOptimizer base;
            try {
                switch (name) {
                    case "base" -> {
                        allowOnly(node, path, Set.of("name", "base"));
                        return base(required(node, path, "base"));
                    }
                    case "sam" -> {
                        allowOnly(node, path, Set.of("name", "rho", "adaptive", "eta", "base"));
                        base = base(required(node, path, "base"));
                        return new Sam(base, schedule(required(node, path, "rho"), path + ".rho"),
                                bool(node, path, "adaptive", false), optionalNumber(node, path, "eta", 0.01));
                    }
                    case "agnostic-sam" -> {
                        allowOnly(node, path, Set.of("name", "rho1", "rho2", "variant", "adaptive", "eta", "base"));
                        base = base(required(node, path, "base"));
                        String variant = node.containsKey("variant") ? text(node.get("variant"), path + ".variant") : "exact";
                        if (!variant.equals("exact") && !variant.equals("fast")) {
                            throw new IllegalArgumentException(path + ".variant must be \"exact\" or \"fast\", got \""
                                    + variant + "\"");
                        }
                        return new AgnosticSam(base,
                                schedule(required(node, path, "rho1"), path + ".rho1"),
                                schedule(required(node, path, "rho2"), path + ".rho2"),
                                variant.equals("exact") ? AgnosticSam.Variant.EXACT : AgnosticSam.Variant.FAST,
                                bool(node, path, "adaptive", false), optionalNumber(node, path, "eta", 0.01));
                    }
                    default -> throw new IllegalArgumentException(path + ".name must be \"base\", \"sam\" or "
                            + "\"agnostic-sam\", got \"" + name + "\"");
                }
            } catch (IllegalArgumentException e) {
                if (e.getMessage().startsWith("$")) {
                    throw e;
                }
                throw new IllegalArgumentException(path + ": " + e.getMessage(), e);
            }
        }

        private BaseOptimizer base(Object tree) {
            String path = "$.optimizer.base";
            Map<String, Object> node = object(tree, path);
            String name = text(required(node, path, "name"), path + ".name");
            Schedule lr = schedule(required(node, path, "lr"), path + ".lr");
            switch (name) {
                case "sgd" -> {
                    allowOnly(node, path, Set.of("name", "lr", "momentum", "weightDecay", "nesterov"));
                    return new Sgd(lr, optionalNumber(node, path, "momentum", 0),
                            optionalNumber(node, path, "weightDecay", 0), bool(node, path, "nesterov", false));
                }
                case "adam", "adamw" -> {
                    allowOnly(node, path, Set.of("name", "lr", "beta1", "beta2", "epsilon", "weightDecay"));
                    boolean decoupled = name.equals("adamw");
                    return new Adam(lr, optionalNumber(node, path, "beta1", 0.9),
                            optionalNumber(node, path, "beta2", 0.999), optionalNumber(node, path, "epsilon", 1e-8),
                            optionalNumber(node, path, "weightDecay", decoupled ? 0.01 : 0), decoupled);
                }
                default -> throw new IllegalArgumentException(path + ".name must be \"sgd\", \"adam\" or \"adamw\", "
                        + "got \"" + name + "\"");
            }
        }

        /**
         * A number (a constant) or an array of one value ≥ 0 per step ({@link Schedule#perStep}); the
         * array's length is checked once the steps are known.
         */
        private Schedule schedule(Object tree, String path) {
            if (!(tree instanceof List)) {
                return Schedule.constant(number(tree, path));
            }
            List<Object> node = array(tree, path);
            if (node.isEmpty()) {
                throw new IllegalArgumentException(path + " is an empty array; give a number or one value per step");
            }
            double[] values = new double[node.size()];
            for (int i = 0; i < values.length; i++) {
                values[i] = nonNegative(number(node.get(i), path + "[" + i + "]"), path + "[" + i + "]");
            }
            perStepPaths.add(path);
            perStepLengths.add(values.length);
            return Schedule.perStep(values);
        }

        /**
         * A batch: {@code x} has one flat array per example (the model's input values in row-major
         * order), {@code y} one class per example. {@code more} names further fields the object may
         * hold (read by the caller).
         */
        private Batch batch(Object tree, String path, ModelSpec model, Set<String> more) {
            Map<String, Object> node = object(tree, path);
            Set<String> allowed = new TreeSet<>(more);
            allowed.addAll(Set.of("x", "y"));
            allowOnly(node, path, allowed);
            List<Object> x = array(required(node, path, "x"), path + ".x");
            List<Object> y = array(required(node, path, "y"), path + ".y");
            if (x.size() != y.size()) {
                throw new IllegalArgumentException(path + " has " + x.size() + " rows of x but " + y.size() + " labels");
            }
            if (x.isEmpty()) {
                throw new IllegalArgumentException(path + ".x is empty; batch sizes must be >= 1");
            }
            int[] input = model.inputShape();
            int width = Math.toIntExact(HostTensor.size(input));
            double[] values = tensor(x, path + ".x", new int[] {x.size(), width}).values();
            int[] shape = new int[input.length + 1];
            shape[0] = x.size();
            System.arraycopy(input, 0, shape, 1, input.length);
            int[] labels = new int[y.size()];
            for (int i = 0; i < labels.length; i++) {
                Integer label = wholeInt(y.get(i));
                if (label == null || label < 0 || label >= model.classes()) {
                    throw new IllegalArgumentException(path + ".y[" + i + "] must be a class in [0, " + model.classes()
                            + "), got " + Json.write(y.get(i)));
                }
                labels[i] = label;
            }
            return new Batch(new HostTensor(shape, values), labels);
        }

        private ConformanceCase.FinalEvaluation evaluation(Object tree, ModelSpec model) {
            String path = "$.evaluation";
            Batch batch = batch(tree, path, model, Set.of("loss", "correct"));
            Map<String, Object> node = object(tree, path);
            double loss = number(required(node, path, "loss"), path + ".loss");
            int correct = wholeNumber(required(node, path, "correct"), path + ".correct");
            if (correct < 0 || correct > batch.size()) {
                throw new IllegalArgumentException(path + ".correct must be in [0, " + batch.size() + "] (the batch "
                        + "size), got " + correct);
            }
            return new ConformanceCase.FinalEvaluation(batch, loss, correct);
        }

        /** Running statistics; an error for a model that has none. */
        private List<HostTensor> statistics(Object node, String path, ModelSpec model) {
            if (model.statisticNames().isEmpty()) {
                throw new IllegalArgumentException(path + " is present, but " + model + " has no running statistics");
            }
            return tensors(node, path, model.statisticShapes(), model.statisticNames());
        }

        private List<HostTensor> tensors(Object tree, String path, List<int[]> shapes, List<String> names) {
            List<Object> node = array(tree, path);
            if (node.size() != shapes.size()) {
                throw new IllegalArgumentException(path + " has " + node.size() + " tensors, but the model has "
                        + shapes.size() + " (" + String.join(", ", names) + ")");
            }
            List<HostTensor> out = new ArrayList<>();
            for (int i = 0; i < shapes.size(); i++) {
                out.add(tensor(node.get(i), path + "[" + i + "]", shapes.get(i)));
            }
            return out;
        }

        /** A nested array of numbers of exactly the given shape. */
        private HostTensor tensor(Object node, String path, int[] shape) {
            HostTensor t = HostTensor.zeros(shape);
            fill(node, path, shape, 0, t.values(), new int[] {0});
            return t;
        }

        private void fill(Object node, String path, int[] shape, int depth, double[] out, int[] at) {
            if (depth == shape.length) {
                out[at[0]++] = number(node, path);
                return;
            }
            if (!(node instanceof List<?> list) || list.size() != shape[depth]) {
                throw new IllegalArgumentException(path + " must be an array of " + shape[depth] + " (shape "
                        + Arrays.toString(shape) + "), got " + describe(node));
            }
            for (int i = 0; i < list.size(); i++) {
                fill(list.get(i), path + "[" + i + "]", shape, depth + 1, out, at);
            }
        }

        /** The kind of a parsed JSON value, as messages name it. */
        private static String describe(Object node) {
            if (node instanceof List<?> list) {
                return "an array of " + list.size();
            }
            return node instanceof Map ? "object" : node instanceof String ? "string" : node instanceof BigDecimal
                    ? "number" : node instanceof Boolean ? "boolean" : "null";
        }

        /** A member that is present and not null. */
        private static Object required(Map<String, Object> parent, String path, String field) {
            Object n = parent.get(field);
            if (n == null) {
                throw new IllegalArgumentException(path + "." + field + " is required");
            }
            return n;
        }

        @SuppressWarnings("unchecked") // Json.parse makes every object a Map<String, Object>
        private static Map<String, Object> object(Object node, String path) {
            if (!(node instanceof Map)) {
                throw new IllegalArgumentException(path + " must be an object, got " + describe(node));
            }
            return (Map<String, Object>) node;
        }

        @SuppressWarnings("unchecked") // and every array a List<Object>
        private static List<Object> array(Object node, String path) {
            if (!(node instanceof List)) {
                throw new IllegalArgumentException(path + " must be an array, got " + describe(node));
            }
            return (List<Object>) node;
        }

        private static void allowOnly(Map<String, Object> node, String path, Set<String> allowed) {
            for (String f : node.keySet()) {
                if (!allowed.contains(f)) {
                    throw new IllegalArgumentException(path + "." + f + " is not a known field here (known: "
                            + String.join(", ", new TreeSet<>(allowed)) + ")");
                }
            }
        }

        private static String text(Object node, String path) {
            if (!(node instanceof String text)) {
                throw new IllegalArgumentException(path + " must be a string, got " + describe(node));
            }
            return text;
        }

        /** A number that is finite as a double (1e400 is not: it would read as Infinity). */
        private static double number(Object node, String path) {
            if (!(node instanceof BigDecimal n)) {
                throw new IllegalArgumentException(path + " must be a number, got " + describe(node));
            }
            double v = n.doubleValue();
            if (!Double.isFinite(v)) {
                throw new IllegalArgumentException(path + " is not finite as a double (it reads as " + v
                        + "); numbers must lie within ±" + Double.MAX_VALUE);
            }
            return v;
        }

        /** The value of a number in int range written without fraction digits (2, not 2.0 or 1e2), else null. */
        private static Integer wholeInt(Object node) {
            if (node instanceof BigDecimal n && n.scale() == 0 && n.unscaledValue().bitLength() < Integer.SIZE) {
                return n.intValue();
            }
            return null;
        }

        private static int wholeNumber(Object node, String path) {
            Integer v = wholeInt(node);
            if (v == null) {
                throw new IllegalArgumentException(path + " must be a whole number, got " + Json.write(node));
            }
            return v;
        }

        private static double nonNegative(double v, String path) {
            if (!(v >= 0) || Double.isInfinite(v)) {
                throw new IllegalArgumentException(path + " must be a finite number >= 0, got " + v);
            }
            return v;
        }

        private static double optionalNumber(Map<String, Object> parent, String path, String field,
                double fallback) {
            return parent.containsKey(field) ? number(parent.get(field), path + "." + field) : fallback;
        }

        private static boolean bool(Map<String, Object> parent, String path, String field, boolean fallback) {
            if (!parent.containsKey(field)) {
                return fallback;
            }
            Object n = parent.get(field);
            if (!(n instanceof Boolean b)) {
                throw new IllegalArgumentException(path + "." + field + " must be true or false, got " + describe(n));
            }
            return b;
        }
    }
}
