package io.github.agnosticsam.engine.djl;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.agnosticsam.conformance.SyntheticBatches;
import io.github.agnosticsam.model.Batch;
import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.model.ModelSpec;
import io.github.agnosticsam.optim.Adam;
import io.github.agnosticsam.optim.AgnosticSam;
import io.github.agnosticsam.spi.Device;
import io.github.agnosticsam.spi.EngineOptions;
import io.github.agnosticsam.training.BadValuePolicy;
import io.github.agnosticsam.training.Training;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * djl's flat vector pads each tensor's segment with zeros up to 64 elements. Nothing reads them, so
 * their gradient is 0 and they must stay 0 under every update — AdamW's decoupled decay, ASAM's
 * |θ|+η scaling, a skipped step — or they would turn up in the norms (split drops them, so only the
 * raw vector shows it).
 */
class FlatPaddingTest {

    @Test
    void thePaddingStaysZero() {
        ModelSpec spec = new ModelSpec.Mlp(new int[] {5, 7, 3}, io.github.agnosticsam.model.Activation.TANH, 0); // 35, 7, 21, 3
        AgnosticSam asam = AgnosticSam.builder().base(Adam.adamW().lr(0.05).build()).rho1(0.5).rho2(0.2)
                .adaptive(true).build();
        try (DjlEngine engine = DjlEngine.create(new EngineOptions(Device.CPU, 1, Map.of(DjlEngine.STORAGE, "flat")));
                DjlNetwork net = (DjlNetwork) engine.build(spec, spec.initialParameters(4));
                Training t = Training.start(net, asam, BadValuePolicy.SKIP)) {
            SplittableRandom random = new SplittableRandom(5);
            for (int s = 0; s < 6; s++) {
                Batch train = SyntheticBatches.learnable(spec, 8, random);
                Batch validation = SyntheticBatches.learnable(spec, 4, random);
                if (s == 3) { // a step that is skipped: a NaN input
                    double[] x = train.features().values().clone();
                    x[0] = Double.NaN;
                    train = new Batch(new HostTensor(train.features().shape(), x), train.labels());
                }
                t.step(train, validation).loss();
            }
            assertThat(t.skippedSteps()).isEqualTo(1);
            float[] raw = net.parameterTensors().get(0).toFloatArray();
            assertThat(raw).hasSize(4 * 64);
            int[] sizes = {35, 7, 21, 3};
            for (int i = 0; i < sizes.length; i++) {
                for (int j = sizes[i]; j < 64; j++) {
                    assertThat(raw[i * 64 + j]).as("padding %d of segment %d", j, i).isEqualTo(0f);
                }
                assertThat(raw[i * 64]).as("segment %d trained", i).isNotEqualTo(0f);
            }
        }
    }
}
