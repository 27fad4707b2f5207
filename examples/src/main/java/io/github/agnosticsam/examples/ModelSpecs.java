package io.github.agnosticsam.examples;

import io.github.agnosticsam.model.ModelSpec;

/** The models the command line offers. */
final class ModelSpecs {
    private ModelSpecs() {
    }

    static ModelSpec check(String name) {
        return ModelSpec.standard(name);
    }

    static boolean isImage(ModelSpec spec) {
        return spec.inputShape().length == 3;
    }
}
