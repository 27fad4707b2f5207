package io.github.agnosticsam.engine.djl;

import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Blocks;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.pooling.Pool;
import io.github.agnosticsam.ModelSpec;

/**
 * The neutral model descriptions as DJL blocks, with parameters in the description's order and
 * shapes, and running statistics (BatchNorm's) in the order of its statistic names.
 */
final class StandardModels {
    private StandardModels() {
    }

    static Block block(ModelSpec spec) {
        SequentialBlock net = new SequentialBlock();
        if (spec instanceof ModelSpec.Mlp mlp) {
            int[] layers = mlp.layers();
            for (int i = 1; i < layers.length; i++) {
                boolean hidden = i + 1 < layers.length;
                boolean normalised = hidden && mlp.batchNorm();
                // BatchNorm's beta takes the place of the dense layer's bias.
                net.add(Linear.builder().setUnits(layers[i]).optBias(!normalised).build());
                if (normalised) {
                    net.add(new TorchBatchNorm());
                }
                if (hidden) {
                    net.add(mlp.activation() == io.github.agnosticsam.Activation.RELU ? Activation.reluBlock()
                            : Activation.tanhBlock());
                }
            }
            return net;
        }
        if (!(spec instanceof ModelSpec.Cnn cnn)) {
            throw new io.github.agnosticsam.spi.UnsupportedFeatureException("the djl engine builds the standard models; "
                    + "for your own DJL Block use SharpnessAwareTrainer, not " + spec);
        }
        // DJL flattens NCHW in (C, H, W) order, as PyTorch does: the dense weights need no reordering.
        return net.add(conv(cnn.channels1())).add(Activation.reluBlock()).add(pool())
                .add(conv(cnn.channels2())).add(Activation.reluBlock()).add(pool())
                .add(Blocks.batchFlattenBlock())
                .add(Linear.builder().setUnits(cnn.classes()).build());
    }

    private static Block conv(int filters) {
        return Conv2d.builder().setKernelShape(new Shape(5, 5)).optPadding(new Shape(2, 2)).setFilters(filters).build();
    }

    private static Block pool() {
        return Pool.maxPool2dBlock(new Shape(2, 2), new Shape(2, 2));
    }
}
