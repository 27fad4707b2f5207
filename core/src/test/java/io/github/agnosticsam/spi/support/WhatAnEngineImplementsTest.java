package io.github.agnosticsam.spi.support;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.agnosticsam.spi.CompiledStep;
import io.github.agnosticsam.spi.Engine;
import io.github.agnosticsam.spi.EngineProvider;
import io.github.agnosticsam.spi.Network;
import io.github.agnosticsam.spi.Tensors;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * What an engine author writes, counted from the code: README's "Writing an engine" states these
 * figures, and this test fails when the SPI or the support layer changes them without the README.
 */
class WhatAnEngineImplementsTest {

    @Test
    void anEagerEngineWrites33MethodsAndMayOverride12() {
        Count c = Count.of(EngineProvider.class, Engine.class, Tensors.class, EagerNetwork.class);
        assertThat(c.required()).as("required: provider 4, engine 4, algebra 11, EagerNetwork 14").isEqualTo(33);
        assertThat(c.optional()).as("optional: spiVersion, axpy, allFiniteSegments, 7 hooks of EagerNetwork, "
                + "hasExactHessianVectorProducts with the exactProducts hook").isEqualTo(12);
    }

    @Test
    void aGraphEngineWrites28MethodsAndMayOverride14() {
        Count c = Count.of(EngineProvider.class, Engine.class, Tensors.class, AbstractNetwork.class,
                AbstractCompiledStep.class);
        assertThat(c.required()).as("required: provider 4, engine 4, algebra 11, network 6, step 3").isEqualTo(28);
        assertThat(c.optional()).as("optional: spiVersion, axpy, allFiniteSegments, 7 network hooks (newStep of a "
                + "replica), 2 step hooks, hasExactHessianVectorProducts and hessianVectorProduct").isEqualTo(14);
    }

    /**
     * Per type an engine implements or extends: its abstract methods (required) and the overridable
     * ones with a body (optional), each decided by its most derived declaration. A final or private
     * method, a static one, and the support layer's implementation of the user API ({@link Network},
     * {@link CompiledStep}) are not the author's to write.
     */
    private record Count(int required, int optional) {
        static Count of(Class<?>... types) {
            int required = 0;
            int optional = 0;
            for (Class<?> type : types) {
                Map<String, Boolean> decided = new LinkedHashMap<>(); // key -> required (null: not counted)
                for (Class<?> c : hierarchy(type)) {
                    for (Method m : c.getDeclaredMethods()) {
                        String key = m.getName() + Arrays.toString(m.getParameterTypes());
                        if (!m.isSynthetic() && !decided.containsKey(key)) {
                            decided.put(key, kind(c, m));
                        }
                    }
                }
                required += (int) decided.values().stream().filter(Boolean.TRUE::equals).count();
                optional += (int) decided.values().stream().filter(Boolean.FALSE::equals).count();
            }
            return new Count(required, optional);
        }

        /** True: the author writes it; false: may override it; null: not the author's. */
        private static Boolean kind(Class<?> c, Method m) {
            int mod = m.getModifiers();
            if (Modifier.isStatic(mod) || Modifier.isFinal(mod) || Modifier.isPrivate(mod)
                    || !(Modifier.isPublic(mod) || Modifier.isProtected(mod))) {
                return null;
            }
            if (Modifier.isAbstract(mod)) {
                return true;
            }
            boolean support = !c.isInterface();
            return support && (declares(Network.class, m) || declares(CompiledStep.class, m)) ? null : false;
        }

        private static boolean declares(Class<?> api, Method m) {
            try {
                api.getMethod(m.getName(), m.getParameterTypes());
                return true;
            } catch (NoSuchMethodException e) {
                return false;
            }
        }

        /** The type, its superclasses, then every interface they implement, most derived first. */
        private static List<Class<?>> hierarchy(Class<?> type) {
            List<Class<?>> out = new ArrayList<>();
            for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
                out.add(c);
            }
            for (int i = 0; i < out.size(); i++) {
                for (Class<?> s : out.get(i).getInterfaces()) {
                    if (!out.contains(s)) {
                        out.add(s);
                    }
                }
            }
            return out;
        }
    }
}
