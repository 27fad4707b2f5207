package io.github.agnosticsam.conformance;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.agnosticsam.Activation;
import io.github.agnosticsam.Adam;
import io.github.agnosticsam.AgnosticSam;
import io.github.agnosticsam.BaseOptimizer;
import io.github.agnosticsam.Batch;
import io.github.agnosticsam.HostTensor;
import io.github.agnosticsam.ModelSpec;
import io.github.agnosticsam.Optimizer;
import io.github.agnosticsam.Sam;
import io.github.agnosticsam.Schedule;
import io.github.agnosticsam.Sgd;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * Reads case files of format version 1 (spec/conformance-case.md). Omitted optional fields take
 * their defaults; unknown fields are errors, since they are usually typos.
 */
public final class CaseReader {
    private static final ObjectMapper JSON = new ObjectMapper();

    static {
        JSON.getFactory().setStreamReadConstraints(StreamReadConstraints.builder()
                .maxDocumentLength(256L << 20).build());
    }

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
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new CaseFormatException(source + ": not valid JSON: " + e.getOriginalMessage()
                    + (e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ")"), e);
        }
        try {
            return new Parser().parseCase(root);
        } catch (IllegalArgumentException e) {
            throw new CaseFormatException(source + ": " + e.getMessage(), e);
        }
    }

    /** Walks the tree; every error is an IllegalArgumentException naming the JSON path. */
    private static final class Parser {
        ConformanceCase parseCase(JsonNode root) {
            object(root, "$");
            allowOnly(root, "$", Set.of("name", "model", "initialParams", "optimizer", "steps", "expected",
                    "tolerance"));
            String name = text(required(root, "$", "name"), "$.name");
            ModelSpec.Mlp model = model(required(root, "$", "model"));
            List<HostTensor> init = tensors(required(root, "$", "initialParams"), "$.initialParams", model);
            JsonNode opt = required(root, "$", "optimizer");
            Optimizer optimizer = optimizer(opt);
            boolean agnostic = optimizer instanceof AgnosticSam;

            JsonNode stepsNode = array(required(root, "$", "steps"), "$.steps");
            List<ConformanceCase.Step> steps = new ArrayList<>();
            for (int i = 0; i < stepsNode.size(); i++) {
                String path = "$.steps[" + i + "]";
                JsonNode step = object(stepsNode.get(i), path);
                allowOnly(step, path, Set.of("train", "validation"));
                Batch train = batch(required(step, path, "train"), path + ".train", model);
                Batch validation = null;
                if (agnostic) {
                    validation = batch(required(step, path, "validation"), path + ".validation", model);
                } else if (step.has("validation")) {
                    throw new IllegalArgumentException(path + ".validation is present, but only agnostic-sam "
                            + "steps have a validation batch");
                }
                steps.add(new ConformanceCase.Step(train, validation));
            }
            if (steps.isEmpty()) {
                throw new IllegalArgumentException("$.steps is empty");
            }

            JsonNode expectedNode = array(required(root, "$", "expected"), "$.expected");
            if (expectedNode.size() != steps.size()) {
                throw new IllegalArgumentException("$.expected has " + expectedNode.size() + " entries, but $.steps has "
                        + steps.size());
            }
            List<ConformanceCase.Expected> expected = new ArrayList<>();
            for (int i = 0; i < expectedNode.size(); i++) {
                String path = "$.expected[" + i + "]";
                JsonNode e = object(expectedNode.get(i), path);
                allowOnly(e, path, Set.of("loss", "params"));
                expected.add(new ConformanceCase.Expected(number(required(e, path, "loss"), path + ".loss"),
                        tensors(required(e, path, "params"), path + ".params", model)));
            }

            ConformanceCase.Tolerance tolerance = ConformanceCase.Tolerance.DEFAULT;
            if (root.has("tolerance")) {
                JsonNode t = object(root.get("tolerance"), "$.tolerance");
                allowOnly(t, "$.tolerance", Set.of("abs", "rel"));
                tolerance = new ConformanceCase.Tolerance(
                        nonNegative(optionalNumber(t, "$.tolerance", "abs", tolerance.abs()), "$.tolerance.abs"),
                        nonNegative(optionalNumber(t, "$.tolerance", "rel", tolerance.rel()), "$.tolerance.rel"));
            }
            return new ConformanceCase(name, model, init, optimizer, steps, expected, tolerance);
        }

        private ModelSpec.Mlp model(JsonNode node) {
            String path = "$.model";
            object(node, path);
            allowOnly(node, path, Set.of("type", "layers", "activation", "loss", "labelSmoothing"));
            String type = text(required(node, path, "type"), path + ".type");
            if (!type.equals("mlp")) {
                throw new IllegalArgumentException(path + ".type must be \"mlp\", got \"" + type + "\"");
            }
            JsonNode layersNode = array(required(node, path, "layers"), path + ".layers");
            int[] layers = new int[layersNode.size()];
            for (int i = 0; i < layers.length; i++) {
                JsonNode w = layersNode.get(i);
                if (!w.canConvertToInt() || !w.isIntegralNumber()) {
                    throw new IllegalArgumentException(path + ".layers[" + i + "] must be a whole number, got " + w);
                }
                layers[i] = w.intValue();
            }
            String activation = text(required(node, path, "activation"), path + ".activation");
            if (node.has("loss")) {
                String loss = text(node.get("loss"), path + ".loss");
                if (!loss.equals("softmax-cross-entropy")) {
                    throw new IllegalArgumentException(path + ".loss must be \"softmax-cross-entropy\", got \""
                            + loss + "\"");
                }
            }
            double smoothing = optionalNumber(node, path, "labelSmoothing", 0);
            try {
                return new ModelSpec.Mlp(layers, Activation.fromId(activation), smoothing);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(path + ": " + e.getMessage(), e);
            }
        }

        private Optimizer optimizer(JsonNode node) {
            String path = "$.optimizer";
            object(node, path);
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
                        return new Sam(base, Schedule.constant(number(required(node, path, "rho"), path + ".rho")),
                                bool(node, path, "adaptive", false), optionalNumber(node, path, "eta", 0.01));
                    }
                    case "agnostic-sam" -> {
                        allowOnly(node, path, Set.of("name", "rho1", "rho2", "variant", "adaptive", "eta", "base"));
                        base = base(required(node, path, "base"));
                        String variant = node.has("variant") ? text(node.get("variant"), path + ".variant") : "exact";
                        if (!variant.equals("exact") && !variant.equals("fast")) {
                            throw new IllegalArgumentException(path + ".variant must be \"exact\" or \"fast\", got \""
                                    + variant + "\"");
                        }
                        return new AgnosticSam(base,
                                Schedule.constant(number(required(node, path, "rho1"), path + ".rho1")),
                                Schedule.constant(number(required(node, path, "rho2"), path + ".rho2")),
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

        private BaseOptimizer base(JsonNode node) {
            String path = "$.optimizer.base";
            object(node, path);
            String name = text(required(node, path, "name"), path + ".name");
            double lr = number(required(node, path, "lr"), path + ".lr");
            switch (name) {
                case "sgd" -> {
                    allowOnly(node, path, Set.of("name", "lr", "momentum", "weightDecay", "nesterov"));
                    return new Sgd(Schedule.constant(lr), optionalNumber(node, path, "momentum", 0),
                            optionalNumber(node, path, "weightDecay", 0), bool(node, path, "nesterov", false));
                }
                case "adam", "adamw" -> {
                    allowOnly(node, path, Set.of("name", "lr", "beta1", "beta2", "epsilon", "weightDecay"));
                    boolean decoupled = name.equals("adamw");
                    return new Adam(Schedule.constant(lr), optionalNumber(node, path, "beta1", 0.9),
                            optionalNumber(node, path, "beta2", 0.999), optionalNumber(node, path, "epsilon", 1e-8),
                            optionalNumber(node, path, "weightDecay", decoupled ? 0.01 : 0), decoupled);
                }
                default -> throw new IllegalArgumentException(path + ".name must be \"sgd\", \"adam\" or \"adamw\", "
                        + "got \"" + name + "\"");
            }
        }

        private Batch batch(JsonNode node, String path, ModelSpec.Mlp model) {
            object(node, path);
            allowOnly(node, path, Set.of("x", "y"));
            JsonNode x = array(required(node, path, "x"), path + ".x");
            JsonNode y = array(required(node, path, "y"), path + ".y");
            if (x.size() != y.size()) {
                throw new IllegalArgumentException(path + " has " + x.size() + " rows of x but " + y.size() + " labels");
            }
            if (x.size() == 0) {
                throw new IllegalArgumentException(path + ".x is empty; batch sizes must be >= 1");
            }
            int in = model.layers()[0];
            HostTensor features = tensor(x, path + ".x", new int[] {x.size(), in});
            int[] labels = new int[y.size()];
            for (int i = 0; i < labels.length; i++) {
                JsonNode label = y.get(i);
                if (!label.isIntegralNumber() || label.intValue() < 0 || label.intValue() >= model.classes()) {
                    throw new IllegalArgumentException(path + ".y[" + i + "] must be a class in [0, " + model.classes()
                            + "), got " + label);
                }
                labels[i] = label.intValue();
            }
            return new Batch(features, labels);
        }

        private List<HostTensor> tensors(JsonNode node, String path, ModelSpec.Mlp model) {
            array(node, path);
            List<int[]> shapes = model.parameterShapes();
            if (node.size() != shapes.size()) {
                throw new IllegalArgumentException(path + " has " + node.size() + " tensors, but " + model + " has "
                        + shapes.size() + " (W0, b0, W1, b1, ...)");
            }
            List<HostTensor> out = new ArrayList<>();
            for (int i = 0; i < shapes.size(); i++) {
                out.add(tensor(node.get(i), path + "[" + i + "]", shapes.get(i)));
            }
            return out;
        }

        /** A nested array of numbers of exactly the given shape. */
        private HostTensor tensor(JsonNode node, String path, int[] shape) {
            HostTensor t = HostTensor.zeros(shape);
            fill(node, path, shape, 0, t.values(), new int[] {0});
            return t;
        }

        private void fill(JsonNode node, String path, int[] shape, int depth, double[] out, int[] at) {
            if (depth == shape.length) {
                out[at[0]++] = number(node, path);
                return;
            }
            if (!node.isArray() || node.size() != shape[depth]) {
                throw new IllegalArgumentException(path + " must be an array of " + shape[depth] + " (shape "
                        + java.util.Arrays.toString(shape) + "), got " + describe(node));
            }
            for (int i = 0; i < node.size(); i++) {
                fill(node.get(i), path + "[" + i + "]", shape, depth + 1, out, at);
            }
        }

        private static String describe(JsonNode node) {
            return node.isArray() ? "an array of " + node.size() : node.getNodeType().toString().toLowerCase();
        }

        private static JsonNode required(JsonNode parent, String path, String field) {
            JsonNode n = parent.get(field);
            if (n == null || n.isNull()) {
                throw new IllegalArgumentException(path + "." + field + " is required");
            }
            return n;
        }

        private static JsonNode object(JsonNode node, String path) {
            if (!node.isObject()) {
                throw new IllegalArgumentException(path + " must be an object, got " + describe(node));
            }
            return node;
        }

        private static JsonNode array(JsonNode node, String path) {
            if (!node.isArray()) {
                throw new IllegalArgumentException(path + " must be an array, got " + describe(node));
            }
            return node;
        }

        private static void allowOnly(JsonNode node, String path, Set<String> allowed) {
            for (Iterator<String> it = node.fieldNames(); it.hasNext();) {
                String f = it.next();
                if (!allowed.contains(f)) {
                    throw new IllegalArgumentException(path + "." + f + " is not a known field here (known: "
                            + String.join(", ", new java.util.TreeSet<>(allowed)) + ")");
                }
            }
        }

        private static String text(JsonNode node, String path) {
            if (!node.isTextual()) {
                throw new IllegalArgumentException(path + " must be a string, got " + describe(node));
            }
            return node.textValue();
        }

        private static double number(JsonNode node, String path) {
            if (!node.isNumber()) {
                throw new IllegalArgumentException(path + " must be a number, got " + describe(node));
            }
            return node.doubleValue();
        }

        private static double nonNegative(double v, String path) {
            if (!(v >= 0) || Double.isInfinite(v)) {
                throw new IllegalArgumentException(path + " must be a finite number >= 0, got " + v);
            }
            return v;
        }

        private static double optionalNumber(JsonNode parent, String path, String field, double fallback) {
            return parent.has(field) ? number(parent.get(field), path + "." + field) : fallback;
        }

        private static boolean bool(JsonNode parent, String path, String field, boolean fallback) {
            if (!parent.has(field)) {
                return fallback;
            }
            JsonNode n = parent.get(field);
            if (!n.isBoolean()) {
                throw new IllegalArgumentException(path + "." + field + " must be true or false, got " + describe(n));
            }
            return n.booleanValue();
        }
    }
}
