package io.github.agnosticsam.algorithm;

import io.github.agnosticsam.io.Json;
import io.github.agnosticsam.optim.Adam;
import io.github.agnosticsam.optim.AgnosticSam;
import io.github.agnosticsam.optim.BaseOptimizer;
import io.github.agnosticsam.optim.Optimizer;
import io.github.agnosticsam.optim.Sam;
import io.github.agnosticsam.optim.Schedule;
import io.github.agnosticsam.optim.Sgd;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An optimizer written down as JSON values, for checkpoints: every field that changes a step, with
 * schedules as their kind and parameters. Two optimizers step alike exactly when their
 * descriptions are equal; {@link #firstDifference} names where two differ.
 */
public final class Configurations {
    private Configurations() {
    }

    public static Map<String, Object> of(Optimizer optimizer) {
        if (optimizer instanceof BaseOptimizer b) {
            return base(b);
        }
        Map<String, Object> m = new LinkedHashMap<>();
        if (optimizer instanceof Sam s) {
            m.put("kind", s.adaptive() ? "asam" : "sam");
            m.put("rho", schedule("rho", s.rho()));
            m.put("eta", s.eta());
            m.put("base", base(s.base()));
            return m;
        }
        AgnosticSam a = (AgnosticSam) optimizer;
        m.put("kind", a.adaptive() ? "agnostic-asam" : "agnostic-sam");
        m.put("variant", a.variant().name());
        m.put("rho1", schedule("rho1", a.rho1()));
        m.put("rho2", schedule("rho2", a.rho2()));
        m.put("eta", a.eta());
        m.put("base", base(a.base()));
        return m;
    }

    private static Map<String, Object> base(BaseOptimizer base) {
        Map<String, Object> m = new LinkedHashMap<>();
        if (base instanceof Sgd s) {
            m.put("kind", "sgd");
            m.put("lr", schedule("lr", s.lr()));
            m.put("momentum", s.momentum());
            m.put("weightDecay", s.weightDecay());
            m.put("nesterov", s.nesterov());
        } else {
            Adam a = (Adam) base;
            m.put("kind", a.decoupledWeightDecay() ? "adamw" : "adam");
            m.put("lr", schedule("lr", a.lr()));
            m.put("beta1", a.beta1());
            m.put("beta2", a.beta2());
            m.put("epsilon", a.epsilon());
            m.put("weightDecay", a.weightDecay());
        }
        return m;
    }

    /** A schedule's kind and parameters; a schedule of another class (a lambda) cannot be written down. */
    static Map<String, Object> schedule(String name, Schedule schedule) {
        Map<String, Object> m = new LinkedHashMap<>();
        if (schedule instanceof Schedule.Constant c) {
            m.put("kind", "constant");
            m.put("value", c.value());
        } else if (schedule instanceof Schedule.Cosine c) {
            m.put("kind", "cosine");
            m.put("base", c.base());
            m.put("totalSteps", c.totalSteps());
        } else if (schedule instanceof Schedule.PerStep p) {
            m.put("kind", "perStep");
            List<Object> values = new ArrayList<>();
            for (double v : p.values()) {
                values.add(v);
            }
            m.put("values", values);
        } else if (schedule instanceof Schedule.Scaled s) {
            m.put("kind", "scaled");
            m.put("schedule", schedule(name, s.schedule()));
            m.put("factor", s.factor());
        } else {
            throw new IllegalArgumentException("the " + name + " schedule (" + schedule.getClass().getName()
                    + ") cannot be written into a checkpoint: only Schedule.constant, cosine, perStep and times "
                    + "describe themselves; a lambda does not");
        }
        return m;
    }

    /**
     * Where two descriptions first differ, as "base.lr.totalSteps is 1000 in the checkpoint, 2000
     * here", or null when they are equal. Values compare by their JSON text.
     */
    public static String firstDifference(Object a, String aName, Object b, String bName) {
        Map<String, String> left = flatten(a);
        Map<String, String> right = flatten(b);
        Set<String> paths = new LinkedHashSet<>(left.keySet());
        paths.addAll(right.keySet());
        for (String path : paths) {
            String x = left.getOrDefault(path, "absent");
            String y = right.getOrDefault(path, "absent");
            if (!x.equals(y)) {
                return path + " is " + x + " " + aName + ", " + y + " " + bName;
            }
        }
        return null;
    }

    /** Leaves by path ("base.lr.kind"), each as its JSON text. */
    private static Map<String, String> flatten(Object value) {
        Map<String, String> out = new LinkedHashMap<>();
        flatten("", Json.parse(Json.write(value)), out); // one canonical form for maps built or read
        return out;
    }

    private static void flatten(String path, Object value, Map<String, String> out) {
        if (value instanceof Map<?, ?> m && !m.isEmpty()) {
            m.forEach((k, v) -> flatten(path.isEmpty() ? (String) k : path + "." + k, v, out));
        } else if (value instanceof List<?> l && !l.isEmpty()) {
            for (int i = 0; i < l.size(); i++) {
                flatten(path + "[" + i + "]", l.get(i), out);
            }
        } else {
            out.put(path.isEmpty() ? "(the whole configuration)" : path, Json.write(value));
        }
    }
}
