package io.github.agnosticsam.engine.tensorflow;

import io.github.agnosticsam.model.Activation;
import io.github.agnosticsam.model.ModelSpec;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.op.linalg.MatMul;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * The standard models and their loss as functions of parameter operands, in the parameter layout of
 * the neutral description (PyTorch's: dense [out, in], conv [out, in, kh, kw], inputs NCHW).
 * TensorFlow's CPU convolution wants NHWC, so the CNN transposes on the way in and back before
 * flattening, which keeps the dense layer's input in PyTorch's (C, H, W) order.
 */
final class GraphModels {
    private GraphModels() {
    }

    static Operand<TFloat32> logits(Ops tf, ModelSpec spec, List<Operand<TFloat32>> p, Operand<TFloat32> x,
            TfLayers layers) {
        if (spec instanceof ModelSpec.Mlp mlp) {
            Operand<TFloat32> h = x;
            int[] widths = mlp.layers();
            int k = 0;
            for (int l = 0; l + 1 < widths.length; l++) {
                boolean hidden = l + 2 < widths.length;
                Operand<TFloat32> w = p.get(k++);
                if (hidden && mlp.batchNorm()) {
                    // No bias: BatchNorm's beta takes its place.
                    Operand<TFloat32> gamma = p.get(k++);
                    Operand<TFloat32> beta = p.get(k++);
                    h = layers.batchNorm(tf.linalg.matMul(h, w, MatMul.transposeB(true)), gamma, beta);
                } else {
                    h = dense(tf, h, w, p.get(k++));
                }
                if (hidden) {
                    h = mlp.activation() == Activation.RELU ? tf.nn.relu(h) : tf.math.tanh(h);
                }
            }
            return h;
        }
        if (spec instanceof ModelSpec.ResNet resnet) {
            return resnet(tf, resnet, p, x, layers);
        }
        ModelSpec.Cnn cnn = (ModelSpec.Cnn) spec;
        Operand<TFloat32> h = tf.linalg.transpose(x, tf.constant(new int[] {0, 2, 3, 1}));
        h = pool(tf, tf.nn.relu(conv(tf, h, p.get(0), p.get(1))));
        h = pool(tf, tf.nn.relu(conv(tf, h, p.get(2), p.get(3))));
        h = tf.linalg.transpose(h, tf.constant(new int[] {0, 3, 1, 2}));
        h = tf.reshape(h, tf.constant(new int[] {-1, cnn.flattened()}));
        return dense(tf, h, p.get(4), p.get(5));
    }

    /**
     * The residual CNN in NHWC. Parameters are taken in ModelSpec.ResNet's order, and each block
     * normalises its main path before its shortcut, so the i-th {@code batchNorm} call is the i-th
     * BatchNorm of the description (its running statistics' order). Padding is explicit: TensorFlow's
     * "SAME" pads a stride-2 convolution of an even side only at the bottom and right, PyTorch's
     * padding 1 on every side.
     */
    private static Operand<TFloat32> resnet(Ops tf, ModelSpec.ResNet spec, List<Operand<TFloat32>> p,
            Operand<TFloat32> x, TfLayers layers) {
        int[] k = {0};
        java.util.function.Supplier<Operand<TFloat32>> next = () -> p.get(k[0]++);
        Operand<TFloat32> h = tf.linalg.transpose(x, tf.constant(new int[] {0, 2, 3, 1}));
        h = tf.nn.relu(layers.batchNorm(conv(tf, h, next.get(), 1, 1), next.get(), next.get()));
        int[] widths = spec.widths();
        for (int s = 0; s < widths.length; s++) {
            for (int b = 0; b < spec.blocks(); b++) {
                int stride = spec.stride(b);
                Operand<TFloat32> out = tf.nn.relu(layers.batchNorm(conv(tf, h, next.get(), stride, 1), next.get(),
                        next.get()));
                out = layers.batchNorm(conv(tf, out, next.get(), 1, 1), next.get(), next.get());
                Operand<TFloat32> shortcut = spec.projects(s, b)
                        ? layers.batchNorm(conv(tf, h, next.get(), stride, 0), next.get(), next.get())
                        : h;
                h = tf.nn.relu(tf.math.add(out, shortcut));
            }
        }
        h = tf.math.mean(h, tf.constant(new int[] {1, 2}));
        Operand<TFloat32> w = next.get();
        return dense(tf, h, w, next.get());
    }

    /** A convolution without bias, NHWC, weights [out, in, kh, kw], padding on every side as PyTorch's. */
    private static Operand<TFloat32> conv(Ops tf, Operand<TFloat32> h, Operand<TFloat32> w, int stride, int padding) {
        Operand<TFloat32> filter = tf.linalg.transpose(w, tf.constant(new int[] {2, 3, 1, 0}));
        if (padding > 0) {
            h = tf.pad(h, tf.constant(new int[][] {{0, 0}, {padding, padding}, {padding, padding}, {0, 0}}),
                    tf.constant(0f));
        }
        return tf.nn.conv2d(h, filter, List.of(1L, (long) stride, (long) stride, 1L), "VALID");
    }

    private static Operand<TFloat32> dense(Ops tf, Operand<TFloat32> h, Operand<TFloat32> w, Operand<TFloat32> b) {
        return tf.math.add(tf.linalg.matMul(h, w, MatMul.transposeB(true)), b);
    }

    private static Operand<TFloat32> conv(Ops tf, Operand<TFloat32> h, Operand<TFloat32> w, Operand<TFloat32> b) {
        Operand<TFloat32> filter = tf.linalg.transpose(w, tf.constant(new int[] {2, 3, 1, 0}));
        return tf.math.add(tf.nn.conv2d(h, filter, List.of(1L, 1L, 1L, 1L), "SAME"), b);
    }

    private static Operand<TFloat32> pool(Ops tf, Operand<TFloat32> h) {
        return tf.nn.maxPool(h, tf.constant(new int[] {1, 2, 2, 1}), tf.constant(new int[] {1, 2, 2, 1}), "VALID");
    }

    /** Mean softmax cross-entropy with label smoothing s: targets (1 − s)·onehot + s/C. */
    static Operand<TFloat32> loss(Ops tf, Operand<TFloat32> logits, Operand<TInt32> labels, int classes,
            double smoothing) {
        Operand<TFloat32> targets = tf.oneHot(labels, tf.constant(classes),
                tf.constant((float) (1 - smoothing + smoothing / classes)), tf.constant((float) (smoothing / classes)));
        Operand<TFloat32> perExample = tf.reduceSum(tf.math.mul(targets, tf.nn.logSoftmax(logits)), tf.constant(1));
        return tf.math.neg(tf.math.mean(perExample, tf.constant(0)));
    }
}
