package io.github.agnosticsam.engine.djl;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Blocks;
import ai.djl.nn.ParallelBlock;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.pooling.Pool;
import io.github.agnosticsam.model.ModelSpec;
import java.util.List;

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
                    net.add(mlp.activation() == io.github.agnosticsam.model.Activation.RELU ? Activation.reluBlock()
                            : Activation.tanhBlock());
                }
            }
            return net;
        }
        if (spec instanceof ModelSpec.ResNet resnet) {
            return resnet(resnet);
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

    /**
     * The residual CNN. Blocks list their parameters depth first in the order they were added, so
     * adding each block's main path before its shortcut gives ModelSpec.ResNet's (torchvision's)
     * order, and the BatchNorms' running statistics come in the same order.
     */
    private static Block resnet(ModelSpec.ResNet spec) {
        SequentialBlock net = new SequentialBlock()
                .add(conv3x3(spec.stem(), 1)).add(new TorchBatchNorm()).add(Activation.reluBlock());
        int[] widths = spec.widths();
        for (int s = 0; s < widths.length; s++) {
            for (int b = 0; b < spec.blocks(); b++) {
                int stride = spec.stride(b);
                Block main = new SequentialBlock()
                        .add(conv3x3(widths[s], stride)).add(new TorchBatchNorm()).add(Activation.reluBlock())
                        .add(conv3x3(widths[s], 1)).add(new TorchBatchNorm());
                Block shortcut = spec.projects(s, b)
                        ? new SequentialBlock().add(Conv2d.builder().setKernelShape(new Shape(1, 1))
                                .optStride(new Shape(stride, stride)).setFilters(widths[s]).optBias(false).build())
                                .add(new TorchBatchNorm())
                        : Blocks.identityBlock();
                net.add(new ParallelBlock(list -> new NDList(list.get(0).singletonOrThrow()
                        .add(list.get(1).singletonOrThrow())), List.of(main, shortcut)));
                net.add(Activation.reluBlock());
            }
        }
        return net.add(Pool.globalAvgPool2dBlock()).add(Blocks.batchFlattenBlock())
                .add(Linear.builder().setUnits(spec.classes()).build());
    }

    private static Block conv3x3(int filters, int stride) {
        return Conv2d.builder().setKernelShape(new Shape(3, 3)).optPadding(new Shape(1, 1))
                .optStride(new Shape(stride, stride)).setFilters(filters).optBias(false).build();
    }

    private static Block conv(int filters) {
        return Conv2d.builder().setKernelShape(new Shape(5, 5)).optPadding(new Shape(2, 2)).setFilters(filters).build();
    }

    private static Block pool() {
        return Pool.maxPool2dBlock(new Shape(2, 2), new Shape(2, 2));
    }
}
