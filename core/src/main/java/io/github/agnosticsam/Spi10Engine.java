package io.github.agnosticsam;

import io.github.agnosticsam.spi.UnsupportedFeatureException;
import java.util.List;

/**
 * An engine built against SPI 1.0 knows the model descriptions of 1.0 only: an MLP without
 * BatchNorm and the standard CNN. The descriptions added since (BatchNorm, CNNs of other sizes)
 * would reach its code as the old ones and be built wrongly, so they are refused here as
 * unsupported, which the kit and the command line report as skipped.
 */
final class Spi10Engine implements Engine {
    private final Engine engine;

    Spi10Engine(Engine engine) {
        this.engine = engine;
    }

    @Override
    public String name() {
        return engine.name();
    }

    @Override
    public String device() {
        return engine.device();
    }

    @Override
    public Network build(ModelSpec model, List<HostTensor> initialParameters) {
        boolean batchNorm = model instanceof ModelSpec.Mlp mlp && mlp.batchNorm();
        boolean sizedCnn = model instanceof ModelSpec.Cnn cnn && !cnn.equals(new ModelSpec.Cnn());
        boolean resnet = model instanceof ModelSpec.ResNet;
        if (batchNorm || sizedCnn || resnet) {
            throw new UnsupportedFeatureException("engine '" + engine.name() + "' was built against SPI 1.0, which has "
                    + "no " + (batchNorm ? "BatchNorm MLP" : resnet ? "residual CNN" : "CNN of other sizes") + " ("
                    + model + "): build it "
                    + "against SPI " + io.github.agnosticsam.spi.EngineProvider.SPI_VERSION + " to train it");
        }
        return new Named(engine.build(model, initialParameters), engine.name());
    }

    /**
     * A network of a 1.0 engine under the name the user loaded it by (SPI 1.0 has no
     * {@code engineName()}, so a checkpoint would otherwise say "unknown").
     */
    private record Named(Network network, String engineName) implements Network {
        @Override
        public ModelSpec model() {
            return network.model();
        }

        @Override
        public List<HostTensor> parameters() {
            return network.parameters();
        }

        @Override
        public void setParameters(List<HostTensor> values) {
            network.setParameters(values);
        }

        @Override
        public List<HostTensor> runningStatistics() {
            return network.runningStatistics();
        }

        @Override
        public void setRunningStatistics(List<HostTensor> values) {
            network.setRunningStatistics(values);
        }

        @Override
        public Evaluation evaluate(Batch batch) {
            return network.evaluate(batch);
        }

        @Override
        public io.github.agnosticsam.spi.CompiledStep compile(io.github.agnosticsam.spi.StepProgram program) {
            return network.compile(program);
        }

        @Override
        public void close() {
            network.close();
        }
    }

    @Override
    public void close() {
        engine.close();
    }
}
