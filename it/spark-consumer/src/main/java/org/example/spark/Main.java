package org.example.spark;

import io.github.agnosticsam.Engines;
import io.github.agnosticsam.model.Batch;
import io.github.agnosticsam.model.HostTensor;
import io.github.agnosticsam.model.ModelSpec;
import io.github.agnosticsam.optim.AgnosticSam;
import io.github.agnosticsam.optim.Optimizer;
import io.github.agnosticsam.optim.Sgd;
import io.github.agnosticsam.spark.SparkReplicas;
import io.github.agnosticsam.spi.Collective;
import io.github.agnosticsam.spi.Engine;
import io.github.agnosticsam.spi.EngineOptions;
import io.github.agnosticsam.spi.Network;
import io.github.agnosticsam.training.BadValuePolicy;
import io.github.agnosticsam.training.DataParallelTraining;
import io.github.agnosticsam.training.Training;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * Two replicas of an Agnostic-SAM training of the standard MLP as one Spark barrier stage (local
 * mode: the tasks are threads of this JVM, joined by the ring over loopback), each building its
 * engine in its task: their losses must fall, and their final parameters must equal those of
 * DataParallelTraining of two in this process bit for bit.
 */
public final class Main {
    static final int STEPS = 10;

    /** One replica: the same global batches on every replica, each steps its shard. */
    static final class Replica implements SparkReplicas.Job<double[]> {
        private static final long serialVersionUID = 1L;

        @Override
        public double[] run(int rank, int replicas, Collective ring) {
            ModelSpec model = ModelSpec.standard("mlp");
            try (Engine engine = Engines.load("djl", EngineOptions.DEFAULT);
                 Network network = engine.build(model, model.initialParameters(0));
                 Training training = Training.replica(network, optimizer(), BadValuePolicy.THROW, ring)) {
                SplittableRandom random = new SplittableRandom(0);
                double first = Double.NaN;
                double last = Double.NaN;
                for (int s = 0; s < STEPS; s++) {
                    Batch train = batch(model, 64, random);
                    Batch validation = batch(model, 16, random);
                    last = training.step(train.shard(rank, replicas, "train"),
                            validation.shard(rank, replicas, "validation")).loss();
                    first = s == 0 ? last : first;
                }
                return new double[] {first, last, checksum(network)};
            }
        }
    }

    public static void main(String[] args) {
        SparkConf conf = new SparkConf().setMaster("local[2]").setAppName("agnostic-sam spark consumer")
                .set("spark.ui.enabled", "false").set("spark.driver.host", "127.0.0.1")
                .set("spark.driver.bindAddress", "127.0.0.1").set("spark.barrier.sync.timeout", "120s");
        List<double[]> results;
        try (JavaSparkContext spark = new JavaSparkContext(conf)) {
            spark.setLogLevel("WARN");
            results = SparkReplicas.run(spark, 2, Duration.ofSeconds(60), new Replica());
        }
        double expected = inOneProcess();
        for (int r = 0; r < results.size(); r++) {
            double[] x = results.get(r);
            System.out.printf("replica %d: loss %.4f -> %.4f, parameter checksum %s%n", r, x[0], x[1], x[2]);
            if (!(x[1] < x[0]) || Double.doubleToRawLongBits(x[2]) != Double.doubleToRawLongBits(expected)) {
                System.err.printf("replica %d: the loss must fall and the checksum be %s (DataParallelTraining)%n", r,
                        expected);
                System.exit(1);
            }
        }
        System.out.println("two replicas in a Spark barrier stage: bit for bit DataParallelTraining of two");
    }

    private static double inOneProcess() {
        ModelSpec model = ModelSpec.standard("mlp");
        try (Engine engine = Engines.load("djl", EngineOptions.DEFAULT);
             Network a = engine.build(model, model.initialParameters(0));
             Network b = engine.build(model, model.initialParameters(0));
             DataParallelTraining training = DataParallelTraining.start(List.of(a, b), optimizer(),
                     BadValuePolicy.THROW)) {
            SplittableRandom random = new SplittableRandom(0);
            for (int s = 0; s < STEPS; s++) {
                training.step(batch(model, 64, random), batch(model, 16, random));
            }
            return checksum(a);
        }
    }

    static Optimizer optimizer() {
        return AgnosticSam.builder().base(Sgd.builder().lr(0.05).momentum(0.9).build()).rho1(0.1).rho2(0.05).build();
    }

    /** A position-weighted sum of every parameter: equal sums of equal parameters, bit for bit. */
    static double checksum(Network network) {
        double sum = 0;
        long i = 0;
        for (HostTensor t : network.parameters()) {
            for (double v : t.values()) {
                sum += v * (1 + (i++ % 7));
            }
        }
        return sum;
    }

    static Batch batch(ModelSpec model, int n, SplittableRandom random) {
        int width = 1;
        for (int d : model.inputShape()) {
            width *= d;
        }
        double[] x = new double[n * width];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = random.nextInt(model.classes());
            for (int j = 0; j < width; j++) {
                x[i * width + j] = random.nextDouble() * 0.5 + (j % model.classes() == y[i] ? 0.5 : 0);
            }
        }
        return new Batch(new HostTensor(new int[] {n, width}, x), y);
    }
}
