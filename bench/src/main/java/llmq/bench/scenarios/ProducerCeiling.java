package llmq.bench.scenarios;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import llmq.bench.RunContext;
import llmq.bench.rig.ChildJvm;
import llmq.bench.rig.CompilerPriority;
import llmq.bench.rig.Jit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;

/**
 * Kafka's own {@code ProducerPerformance} (a separate JVM, Kafka's tool) on a given broker: 1 KiB
 * records, {@code acks=all}, llmq's producer settings, a topic of 6 partitions; a warm-up round, not
 * counted, then the median of a few rounds. The baseline scenario measures it on an idle broker at the
 * start of a run; the throughput scenarios measure it again on their own broker just before they load
 * it, so each of their ratios divides by the ceiling of the same minutes (the shared machine's speed
 * drifts by tens of percent over a quarter of an hour).
 */
final class ProducerCeiling {

    /** The rounds counted (records/s each) and the median round. */
    record Measured(List<Double> rounds, KafkaTools.Producer median, int recordSize) {
        double recordsPerSecond() {
            return median.recordsPerSecond();
        }
    }

    private ProducerCeiling() {
    }

    static Measured measure(RunContext ctx, String bootstrap, int records, int recordSize, int rounds, String tag)
            throws Exception {
        String topic = topic(bootstrap, tag);
        List<KafkaTools.Producer> counted = new ArrayList<>();
        // round 0 warms the broker and its page cache up (rounds rose 48k → 67k → 96k records/s without it): not counted
        for (int round = ctx.quick() ? 1 : 0; round <= rounds; round++) {
            ctx.log("Kafka ProducerPerformance round %d of %d (0 = warm-up): %d records of %d bytes", round, rounds, records,
                    recordSize);
            KafkaTools.Producer one;
            // the warm-up round with this JVM's compilers (the broker's) at a raised priority, the counted ones at nice 0
            try (CompilerPriority boost = round == 0 ? CompilerPriority.boost() : null) {
                if (boost != null) {
                    ctx.log("  warm-up round with %s", boost);
                }
                one = once(ctx, bootstrap, topic, records, 0, recordSize, tag + "-" + round);
            }
            ctx.log("  %.0f records/s%s", one.recordsPerSecond(), round == 0 ? " (warm-up, not counted)" : "");
            if (round > 0) {
                counted.add(one);
            }
        }
        List<KafkaTools.Producer> sorted = new ArrayList<>(counted);
        sorted.sort(Comparator.comparingDouble(KafkaTools.Producer::recordsPerSecond));
        return new Measured(counted.stream().map(KafkaTools.Producer::recordsPerSecond).toList(), sorted.get(sorted.size() / 2),
                recordSize);
    }

    /** Creates the ceiling's topic (6 partitions, like llmq's) on {@code bootstrap} and returns its name. */
    static String topic(String bootstrap, String tag) throws Exception {
        String topic = "bench.ceiling-" + tag + "-" + UUID.randomUUID().toString().substring(0, 8);
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            admin.createTopics(List.of(new NewTopic(topic, 6, (short) 1))).all().get();
        }
        return topic;
    }

    /**
     * One run of ProducerPerformance: {@code records} of {@code recordSize} bytes to {@code topic}, as fast as it goes;
     * with {@code warmupRecords} > 0, the rate is that of the records after them (the tool's steady state), so the
     * fresh JVM's own JIT warm-up is not in it.
     */
    static KafkaTools.Producer once(RunContext ctx, String bootstrap, String topic, int records, int warmupRecords,
                                    int recordSize, String tag) throws Exception {
        List<String> args = new ArrayList<>(List.of("--topic", topic, "--num-records", Integer.toString(records),
                "--record-size", Integer.toString(recordSize), "--throughput", "-1",
                "--command-property", "bootstrap.servers=" + bootstrap, "acks=all", "enable.idempotence=true",
                "linger.ms=1", "compression.type=lz4"));
        if (warmupRecords > 0) {
            args.addAll(List.of("--warmup-records", Integer.toString(warmupRecords)));
        }
        // the system under test shares this JVM: its compiler threads, still working through the queue its load left,
        // would take a core from the tool (see Jit.awaitQuiet)
        Jit.Quiet quiet = Jit.awaitQuiet(0.1, Duration.ofMillis(500),
                Duration.ofSeconds(ctx.param("ceiling-quiet-cap-seconds", 10, 5)));
        ctx.log("  before ProducerPerformance %s: %s", tag, quiet);
        try (ChildJvm tool = ChildJvm.start(ChildJvm.ownClasspath(), List.of("-Xmx512m"), KafkaTools.PRODUCER_PERFORMANCE,
                args, ctx.scratch("producer-performance-" + tag),
                ctx.logs().resolve(ctx.scenario() + "-producer-performance-" + tag + ".log"))) {
            int rc = tool.await(Duration.ofSeconds(180));
            KafkaTools.Producer one = KafkaTools.producer(tool.output());
            if (rc != 0 || one == null) {
                throw new IllegalStateException("ProducerPerformance failed (exit " + rc + "):\n" + tool.output());
            }
            return one;
        }
    }
}
