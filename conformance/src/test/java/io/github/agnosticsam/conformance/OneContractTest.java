package io.github.agnosticsam.conformance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import io.github.agnosticsam.conformance.reference.ReferenceEngine;
import io.github.agnosticsam.spi.Engine;
import io.github.agnosticsam.spi.EngineOptions;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;

/** A part of the kit runs on its own: a class that implements one contract runs that contract's tests and no other. */
class OneContractTest {

    /** The reference engine, checked for its checkpoints only. Not run by surefire: its name does not end in Test. */
    static class CheckpointsOnly extends EngineUnderTest implements CheckpointsContract {
        @Override
        protected Engine createEngine() {
            return new ReferenceEngine(EngineOptions.DEFAULT);
        }

        @Override
        protected double relativeRounding() {
            return 1e-12;
        }
    }

    @Test
    void aClassWithOneContractRunsThatContractsTestsAndPassesThem() {
        Set<String> passed = new TreeSet<>();
        Set<String> other = new TreeSet<>();
        LauncherFactory.create().execute(LauncherDiscoveryRequestBuilder.request()
                .selectors(selectClass(CheckpointsOnly.class)).build(), new TestExecutionListener() {
                    @Override
                    public void executionFinished(TestIdentifier test, TestExecutionResult result) {
                        if (test.isTest()) {
                            boolean ok = result.getStatus() == TestExecutionResult.Status.SUCCESSFUL;
                            (ok ? passed : other).add(test.getUniqueId());
                        }
                    }
                });
        List<String> methods = Arrays.stream(CheckpointsContract.class.getDeclaredMethods())
                .filter(m -> m.isAnnotationPresent(Test.class) || m.isAnnotationPresent(TestFactory.class))
                .map(m -> ":" + m.getName() + "()]").toList();
        assertThat(methods).as("the checkpoint contract's test methods").hasSize(6);
        assertThat(other).as("tests not passed").isEmpty();
        // 5 tests and 10 dynamic ones (5 optimizers, each also with a skipped step), all of the contract
        assertThat(passed).hasSize(15).allSatisfy(id -> assertThat(methods).anySatisfy(m -> assertThat(id).contains(m)));
    }
}
