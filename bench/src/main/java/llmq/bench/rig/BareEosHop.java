package llmq.bench.rig;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import llmq.bench.load.BenchClock;
import llmq.bench.load.OpenLoop;
import llmq.bench.stats.Latencies;
import llmq.bench.stats.WindowedLatency;
import llmq.topics.streams.StreamsSettings;
import org.HdrHistogram.Histogram;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Repartitioned;

/**
 * The floor under the router's latency: a pass-through Kafka Streams app with llmq's own Streams
 * settings ({@link StreamsSettings}: exactly-once v2, the same commit interval), fed open-loop at a
 * fixed rate; latency = read-committed receipt downstream − intended send time. With
 * {@code repartition} the records are re-keyed through a repartition topic on the way, as the
 * router re-keys admitted requests from dedup key to request id, so they wait for two
 * transactions instead of one.
 */
public final class BareEosHop {

    /** The series name in the windows {@link #measure} fills. */
    public static final String SERIES = "hop";

    private BareEosHop() {
    }

    /**
     * The pass-through topology {@code in} → {@code out}; with {@code repartition}, re-keyed through a
     * repartition topic on the way (two transactions, the router's shape).
     */
    static Topology topology(String in, String out, boolean repartition) {
        StreamsBuilder b = new StreamsBuilder();
        KStream<String, byte[]> s = b.stream(in, Consumed.with(Serdes.String(), Serdes.ByteArray()).withName("bare-source"));
        if (repartition) {
            s = s.selectKey((k, v) -> "r" + k, Named.as("bare-rekey"))
                    .repartition(Repartitioned.<String, byte[]>as("bare-rekeyed")
                            .withKeySerde(Serdes.String()).withValueSerde(Serdes.ByteArray()));
        }
        s.to(out, Produced.with(Serdes.String(), Serdes.ByteArray()).withName("bare-sink"));
        return b.build();
    }

    /**
     * Starts {@code topology} as Streams application {@code applicationId} with llmq's Streams
     * settings and returns it once RUNNING (closed again if it does not get there within a minute).
     */
    static KafkaStreams startRunning(Kafka kafka, String applicationId, Path stateDir, Duration commitInterval,
                                     Topology topology) throws InterruptedException {
        Properties properties = new Properties();
        properties.putAll(StreamsSettings.build(kafka.config(), applicationId, stateDir, commitInterval, 1, "bench", Map.of()));
        KafkaStreams streams = new KafkaStreams(topology, properties);
        streams.start();
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (streams.state() != KafkaStreams.State.RUNNING) {
            if (System.nanoTime() > deadline) {
                KafkaStreams.State state = streams.state();
                streams.close(Duration.ofSeconds(10));
                throw new IllegalStateException("bare Streams app " + applicationId + " did not reach RUNNING: " + state);
            }
            Thread.sleep(50);
        }
        return streams;
    }

    /**
     * Runs one app for {@code warmup + measure} at {@code rate}/s and returns the latencies of the
     * records intended after the warm-up (microseconds).
     */
    public static Histogram measure(Kafka kafka, Path stateDir, int partitions, Duration commitInterval,
                                    boolean repartition, double rate, Duration warmup, Duration measure) throws Exception {
        return measure(kafka, stateDir, partitions, commitInterval, repartition, rate, warmup, measure, null);
    }

    /**
     * As {@link #measure(Kafka, Path, int, Duration, boolean, double, Duration, Duration)}, and also
     * records each latency in {@code windows} (series {@value #SERIES}, by receipt time) when it is
     * not null.
     */
    public static Histogram measure(Kafka kafka, Path stateDir, int partitions, Duration commitInterval,
                                    boolean repartition, double rate, Duration warmup, Duration measure,
                                    WindowedLatency windows) throws Exception {
        String run = (repartition ? "bench-eos2-" : "bench-eos1-") + UUID.randomUUID().toString().substring(0, 8);
        String in = run + "-in";
        String out = run + "-out";
        try (Admin admin = kafka.admin()) {
            admin.createTopics(List.of(new NewTopic(in, partitions, (short) 1), new NewTopic(out, partitions, (short) 1)))
                    .all().get();
        }
        Histogram h = Latencies.histogram();
        try (KafkaStreams streams = startRunning(kafka, run, stateDir, commitInterval, topology(in, out, repartition))) {
            AtomicBoolean done = new AtomicBoolean();
            AtomicLong from = new AtomicLong(Long.MAX_VALUE);
            Thread reader = new Thread(() -> {
                try (KafkaConsumer<String, byte[]> c = kafka.tail(List.of(out))) {
                    while (!done.get()) {
                        for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(10))) {
                            long now = BenchClock.nowMicros();
                            long intended = ByteBuffer.wrap(r.value()).getLong();
                            if (intended >= from.get()) {
                                synchronized (h) {
                                    h.recordValue(Latencies.clamp(now - intended));
                                }
                                if (windows != null) {
                                    windows.record(SERIES, now / 1000, now - intended);
                                }
                            }
                        }
                    }
                }
            }, "bench-eos-reader");
            reader.setDaemon(true);
            reader.start();
            Thread.sleep(500);
            try (KafkaProducer<String, byte[]> producer = kafka.producer()) {
                from.set(BenchClock.nowMicros() + warmup.toNanos() / 1000);
                OpenLoop.run(rate, warmup.plus(measure), (i, intended) -> producer.send(
                        new ProducerRecord<>(in, "k" + i, ByteBuffer.allocate(8).putLong(intended).array())));
            }
            Thread.sleep(commitInterval.toMillis() * 4 + 1500);
            done.set(true);
            reader.join(10_000);
            streams.close(Duration.ofSeconds(20));
        }
        return h;
    }
}
