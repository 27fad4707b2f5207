package io.github.agnosticsam.engine.djl;

import static io.github.agnosticsam.engine.djl.SharpnessAwareTrainerTest.IN;
import static io.github.agnosticsam.engine.djl.SharpnessAwareTrainerTest.bnBlock;
import static io.github.agnosticsam.engine.djl.SharpnessAwareTrainerTest.features;
import static io.github.agnosticsam.engine.djl.SharpnessAwareTrainerTest.labels;
import static io.github.agnosticsam.engine.djl.SharpnessAwareTrainerTest.trainer;
import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.Trainer;
import ai.djl.training.dataset.ArrayDataset;
import io.github.agnosticsam.optim.Adam;
import io.github.agnosticsam.optim.AgnosticSam;
import io.github.agnosticsam.optim.Optimizer;
import io.github.agnosticsam.optim.Schedule;
import io.github.agnosticsam.training.Checkpoint;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.Event;
import org.tensorflow.proto.Summary;

/**
 * A DJL user's TensorBoard log: one listener in the training config, read back with TensorFlow's
 * own {@code Event} classes; a run restored from a checkpoint continues the stream.
 */
class TensorBoardTrainingListenerTest {
    private static final Optimizer OPTIMIZER = AgnosticSam.builder()
            .base(Adam.builder().lr(Schedule.cosine(0.01, 8)).build()).rho1(0.2).rho2(0.1).build();

    @TempDir
    Path dir;

    /** tag → step → value, of every scalar in a run's folder. */
    static Map<String, Map<Long, Float>> scalars(Path run) throws IOException {
        Map<String, Map<Long, Float>> out = new TreeMap<>();
        List<Path> files;
        try (Stream<Path> s = Files.list(run)) {
            files = s.filter(p -> p.getFileName().toString().startsWith("events.out.tfevents.")).sorted().toList();
        }
        for (Path f : files) {
            ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(f)).order(ByteOrder.LITTLE_ENDIAN);
            while (b.hasRemaining()) {
                long length = b.getLong();
                b.getInt();
                byte[] data = new byte[(int) length];
                b.get(data);
                b.getInt();
                Event e = Event.parseFrom(data);
                for (Summary.Value v : e.getSummary().getValueList()) {
                    if (v.getValueCase() == Summary.Value.ValueCase.SIMPLE_VALUE) {
                        Float before = out.computeIfAbsent(v.getTag(), t -> new TreeMap<>()).put(e.getStep(),
                                v.getSimpleValue());
                        assertThat(before).as(v.getTag() + " at step " + e.getStep() + " once").isNull();
                    } else if (v.getValueCase() == Summary.Value.ValueCase.HISTO) {
                        out.computeIfAbsent(v.getTag(), t -> new TreeMap<>()).put(e.getStep(),
                                (float) v.getHisto().getNum());
                    }
                }
            }
        }
        return out;
    }

    private static void epoch(SharpnessAwareTrainer sam, ArrayDataset set, int epoch) throws Exception {
        Engine.getInstance().setRandomSeed(100 + epoch);
        sam.fit(1, set, null, ValidationSampler.uniform(set, 200 + epoch));
    }

    @Test
    void oneListenerLogsTheStepsTheEvaluationsAndTheParametersAndARestoredRunContinues() throws Exception {
        int n = 64;
        SplittableRandom random = new SplittableRandom(5);
        float[] x = features(random, n);
        float[] y = labels(random, n);
        Path whole = dir.resolve("whole");
        Path resumed = dir.resolve("resumed");
        Path checkpoints = dir.resolve("checkpoints");
        try (NDManager data = NDManager.newBaseManager()) {
            ArrayDataset set = new ArrayDataset.Builder().setData(data.create(x, new Shape(n, IN)))
                    .optLabels(data.create(y, new Shape(n))).setSampling(16, true).build();
            float trainLoss;
            try (Model model = Model.newInstance("a")) {
                model.setBlock(bnBlock());
                try (Trainer t = trainer(model, new CheckpointListener(checkpoints),
                        new TensorBoardTrainingListener(whole, OPTIMIZER, 2));
                        SharpnessAwareTrainer sam = SharpnessAwareTrainer.of(t, OPTIMIZER)) {
                    epoch(sam, set, 1);
                    epoch(sam, set, 2);
                    trainLoss = t.getTrainingResult().getTrainLoss();
                }
            }
            Map<String, Map<Long, Float>> logged = scalars(whole);
            assertThat(logged.get("train/loss").keySet()).containsExactly(2L, 4L, 6L, 8L);
            assertThat(logged.get("train/lr").get(2L)).isEqualTo((float) Schedule.cosine(0.01, 8).at(1));
            assertThat(logged.get("train/rho1").get(8L)).isEqualTo(0.2f);
            assertThat(logged.get("train/skipped").values()).containsOnly(0f);
            assertThat(logged.get("epoch/train_loss")).containsOnlyKeys(4L, 8L);
            assertThat(logged.get("epoch/train_loss").get(8L)).isEqualTo(trainLoss);
            assertThat(logged.keySet()).anyMatch(tag -> tag.startsWith("parameters/"));

            // The same run resumed from the checkpoint after epoch 1 into a copy of the log cut there.
            Files.createDirectories(resumed);
            try (Stream<Path> s = Files.list(whole)) {
                for (Path f : s.toList()) {
                    Files.copy(f, resumed.resolve(f.getFileName()));
                }
            }
            try (Model model = Model.newInstance("b")) {
                model.setBlock(bnBlock());
                try (Trainer t = trainer(model, new TensorBoardTrainingListener(resumed, OPTIMIZER, 2));
                        SharpnessAwareTrainer sam = SharpnessAwareTrainer.of(t, OPTIMIZER)) {
                    sam.restore(Checkpoint.read(checkpoints.resolve("epoch-1.safetensors")));
                    epoch(sam, set, 2);
                }
            }
            Map<String, Map<Long, Float>> again = scalars(resumed); // each step once (checked while read)
            assertThat(again.get("train/loss")).isEqualTo(logged.get("train/loss"));
            assertThat(again.get("epoch/train_loss")).isEqualTo(logged.get("epoch/train_loss"));
        }
    }

    @Test
    void withoutASharpnessAwareTrainerAnEpochLogsNothing() {
        try (Model model = Model.newInstance("m")) {
            model.setBlock(bnBlock());
            try (Trainer t = trainer(model, new TensorBoardTrainingListener(dir.resolve("none"), OPTIMIZER, 1))) {
                t.notifyListeners(l -> l.onEpoch(t));
            }
        }
        assertThat(dir.resolve("none")).doesNotExist();
    }
}
