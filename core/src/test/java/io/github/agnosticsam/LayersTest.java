package io.github.agnosticsam;

import io.github.agnosticsam.spi.Network;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import io.github.agnosticsam.spi.UpwardDependency;
import org.junit.jupiter.api.Test;

/**
 * The core's packages are layers (module-info lists them): each may use only the layers below it,
 * and no two packages depend on each other, directly or around a loop. Read from the compiled
 * classes, so a dependency in code counts and one in a comment does not.
 */
class LayersTest {
    private static final String BASE = "io.github.agnosticsam";
    private static final JavaClasses CORE = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages(BASE);

    /** Top to bottom; a layer may use only the layers listed after it. */
    static final ArchRule LAYERS = layeredArchitecture().consideringOnlyDependenciesInLayers()
            .layer("engines").definedBy(BASE)
            .layer("tensorboard").definedBy(BASE + ".tensorboard..")
            .layer("training").definedBy(BASE + ".training..")
            .layer("diagnostics").definedBy(BASE + ".diagnostics..")
            .layer("algorithm").definedBy(BASE + ".algorithm..")
            .layer("support").definedBy(BASE + ".spi.support..")
            .layer("optim").definedBy(BASE + ".optim..")
            .layer("spi").definedBy(BASE + ".spi")
            .layer("model").definedBy(BASE + ".model..")
            .layer("io").definedBy(BASE + ".io..")
            .layer("internal").definedBy(BASE + ".internal..")
            .whereLayer("engines").mayNotBeAccessedByAnyLayer()
            .whereLayer("tensorboard").mayNotBeAccessedByAnyLayer()
            .whereLayer("training").mayOnlyBeAccessedByLayers("engines", "tensorboard")
            .whereLayer("diagnostics").mayNotBeAccessedByAnyLayer()
            .whereLayer("algorithm").mayOnlyBeAccessedByLayers("training")
            .whereLayer("support").mayOnlyBeAccessedByLayers("training", "diagnostics", "algorithm")
            .whereLayer("optim").mayOnlyBeAccessedByLayers("tensorboard", "training", "algorithm")
            .whereLayer("spi").mayOnlyBeAccessedByLayers("engines", "tensorboard", "training", "diagnostics", "algorithm", "support",
                    "optim")
            .whereLayer("model").mayOnlyBeAccessedByLayers("engines", "tensorboard", "training", "diagnostics", "algorithm",
                    "support", "spi", "optim")
            .whereLayer("io").mayOnlyBeAccessedByLayers("training", "diagnostics", "algorithm", "support", "spi",
                    "optim", "model")
            .whereLayer("internal").mayOnlyBeAccessedByLayers("engines", "tensorboard", "training", "diagnostics", "algorithm",
                    "support", "spi", "optim", "model", "io");

    @Test
    void eachPackageUsesOnlyTheLayersBelowIt() {
        LAYERS.check(CORE);
    }

    @Test
    void noTwoPackagesDependOnEachOther() {
        slices().matching(BASE + ".(**)").should().beFreeOfCycles().check(CORE);
    }

    @Test
    void everyPackageIsALayer() {
        // A new package must be placed among the layers above (and in module-info's list).
        Set<String> packages = new TreeSet<>();
        for (JavaClass c : CORE) {
            packages.add(c.getPackageName());
        }
        assertThat(packages).containsExactlyInAnyOrder(BASE, BASE + ".tensorboard", BASE + ".training", BASE + ".diagnostics",
                BASE + ".algorithm", BASE + ".spi.support", BASE + ".optim", BASE + ".spi", BASE + ".model",
                BASE + ".io", BASE + ".internal");
    }

    @Test
    void theRulesBiteOnAnUpwardDependency() throws Exception {
        // The core's classes and one planted class of the SPI package that uses the training layer.
        Path planted = Path.of(UpwardDependency.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                .resolve("io/github/agnosticsam/spi/UpwardDependency.class");
        Path main = Path.of(Engines.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        JavaClasses withPlanted = new ClassFileImporter().importPaths(main, planted);
        assertThatThrownBy(() -> LAYERS.check(withPlanted)).isInstanceOf(AssertionError.class)
                .hasMessageContaining("UpwardDependency");
        assertThatThrownBy(() -> slices().matching(BASE + ".(**)").should().beFreeOfCycles().check(withPlanted))
                .isInstanceOf(AssertionError.class).hasMessageContaining("UpwardDependency");
    }
}
