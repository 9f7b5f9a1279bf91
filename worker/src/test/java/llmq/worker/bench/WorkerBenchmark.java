package llmq.worker.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.ValueAtPercentile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import llmq.avro.Priority;
import llmq.avro.QueuedRequest;
import llmq.common.config.Settings;
import llmq.common.json.Json;
import llmq.modelsim.ModelSimConfig;
import llmq.modelsim.ModelSimulator;
import llmq.modelsim.audit.Audit;
import llmq.testsupport.Infra;
import llmq.testsupport.KafkaIo;
import llmq.topics.catalog.TopicCatalog;
import llmq.worker.WorkerService;
import llmq.worker.testing.Requests;
import org.HdrHistogram.Histogram;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Throughput and overhead of one worker against a zero-latency model simulator, on the shared
 * test infrastructure (a real KRaft broker and the development registry in this JVM).
 *
 * <ol>
 *   <li>Throughput: {@code THROUGHPUT_CALLS} records spread over the four queues are produced
 *       before the worker starts; calls/s is the simulator's count of served calls over the time
 *       from its first to its last one, and records/s until the worker's committed offsets reach
 *       the end of the queues (every outcome durable).</li>
 *   <li>Overhead, open loop at {@code RATE}/s, well below capacity: the worker's own
 *       {@code llmq_worker_overhead} timer (record arrival from Kafka → HTTP request handed to the
 *       client), and record produced → simulator answered (includes the Kafka hop).</li>
 * </ol>
 *
 * <p>Run: {@code MAVEN_OPTS=-Djava.util.concurrent.ForkJoinPool.common.parallelism=2 mvn -o -q -pl worker
 * exec:java -Dexec.classpathScope=test -Dexec.mainClass=llmq.worker.bench.WorkerBenchmark} (Maven's JVM has
 * used the common pool before this class runs, so the property must come from the command line; see
 * docs/worker.md, "Sizing"). Prints the figures and writes them to {@code docs/benchmarks/worker.json}.
 * Not part of {@code mvn verify}. Knobs: {@code -Dbench.calls}, {@code -Dbench.rate},
 * {@code -Dbench.seconds}, {@code -Dbench.max-in-flight}.
 */
public final class WorkerBenchmark {

    private static final int THROUGHPUT_CALLS = Integer.getInteger("bench.calls", 20_000);
    private static final int RATE = Integer.getInteger("bench.rate", 400);
    private static final int OPEN_LOOP_SECONDS = Integer.getInteger("bench.seconds", 10);
    private static final int MAX_IN_FLIGHT = Integer.getInteger("bench.max-in-flight", 64);

    private WorkerBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        // effective only when this JVM has not used the common pool yet (plain java, not exec:java)
        if (System.getProperty("java.util.concurrent.ForkJoinPool.common.parallelism") == null) {
            System.setProperty("java.util.concurrent.ForkJoinPool.common.parallelism", "2");
        }
        int status = 0;
        try {
            run();
        } catch (Exception | AssertionError e) {
            e.printStackTrace();
            status = 1;
        }
        // the broker's threads are not daemons: end the JVM (the infrastructure's shutdown hook cleans up)
        System.exit(status);
    }

    private static void run() throws Exception {
        Infra infra = Infra.get();
        TopicCatalog catalog = infra.catalog();
        List<String> queues = catalog.all().stream().map(t -> t.name()).filter(n -> n.startsWith("llm.queue.")).toList();
        ObjectNode out = Json.mapper().createObjectNode();
        out.put("benchmark", "worker");
        out.put("at", Instant.now().toString());
        out.put("machine", Runtime.getRuntime().availableProcessors() + " cores, JDK " + System.getProperty("java.version"));
        out.put("max_in_flight", MAX_IN_FLIGHT);
        out.put("load_average_at_start", Files.readString(Path.of("/proc/loadavg")).trim());

        try (ModelSimulator sim = ModelSimulator.start(ModelSimConfig.from(Settings.of(Map.of(
                ModelSimConfig.PORT, "0", ModelSimConfig.THREADS, "4", ModelSimConfig.AUDIT_RETAIN, "200000"))));
             KafkaIo io = new KafkaIo(infra);
             KafkaProducer<String, byte[]> producer = producer(infra)) {

            // 1. throughput with a deep backlog
            String group = "bench-worker-" + UUID.randomUUID();
            io.startGroupAtEnd(group, queues);
            for (int i = 0; i < THROUGHPUT_CALLS; i++) {
                QueuedRequest q = Requests.queued("bench-" + (i % 8), Priority.values()[i % 4], "throughput " + i,
                        Instant.now().truncatedTo(ChronoUnit.MILLIS));
                String topic = catalog.queue(q.getPriority()).name();
                producer.send(new ProducerRecord<>(topic, q.getRequest().getId(),
                        infra.serdes().value(QueuedRequest.class).serialize(topic, q)));
            }
            producer.flush();
            long startNanos = System.nanoTime();
            try (WorkerService worker = WorkerService.start(settings(infra, sim, group))) {
                KafkaIo.until(() -> sim.audit().servedCount(), n -> n >= THROUGHPUT_CALLS);
                long servedAt = System.nanoTime();
                io.awaitCaughtUp(group, queues);
                long durableAt = System.nanoTime();
                List<Audit.Entry> entries = sim.audit().entries();
                Instant first = entries.get(0).timestamp();
                Instant last = entries.get(entries.size() - 1).timestamp();
                double callsPerSecond = entries.size() / (Duration.between(first, last).toNanos() / 1e9);
                double durablePerSecond = THROUGHPUT_CALLS / ((durableAt - startNanos) / 1e9);
                ObjectNode t = out.putObject("throughput");
                t.put("calls", THROUGHPUT_CALLS);
                t.put("calls_per_second", Math.round(callsPerSecond));
                t.put("records_per_second_until_committed_incl_startup", Math.round(durablePerSecond));
                t.put("seconds_to_serve_all_incl_startup", round((servedAt - startNanos) / 1e9));
                Timer overhead = worker.metrics().overheadTimer();
                t.put("poll_to_send_mean_ms_incl_wait_for_a_slot", round(overhead.mean(TimeUnit.MILLISECONDS)));
                System.out.printf("throughput: %d calls in %.2f s from first to last call = %.0f calls/s; "
                                + "all outcomes committed %.2f s after start (%.0f records/s incl. start-up)%n",
                        THROUGHPUT_CALLS, Duration.between(first, last).toNanos() / 1e9, callsPerSecond,
                        (durableAt - startNanos) / 1e9, durablePerSecond);
            }

            // 2. overhead, open loop well below capacity
            sim.audit().reset();
            String group2 = "bench-worker-" + UUID.randomUUID();
            io.startGroupAtEnd(group2, queues);
            Map<String, Instant> producedAt = new ConcurrentHashMap<>();
            try (WorkerService worker = WorkerService.start(settings(infra, sim, group2))) {
                // let the consumer join and get its partitions before measuring
                Thread.sleep(3_000);
                int total = RATE * OPEN_LOOP_SECONDS;
                long intervalNanos = TimeUnit.SECONDS.toNanos(1) / RATE;
                long next = System.nanoTime();
                for (int i = 0; i < total; i++) {
                    long wait = next - System.nanoTime();
                    if (wait > 0) {
                        // parked, not spinning: on two cores a spinning producer would steal a core from the worker
                        java.util.concurrent.locks.LockSupport.parkNanos(wait);
                    }
                    next += intervalNanos;
                    QueuedRequest q = Requests.queued("bench-" + (i % 8), Priority.values()[i % 4], "latency " + i,
                            Instant.now().truncatedTo(ChronoUnit.MILLIS));
                    String topic = catalog.queue(q.getPriority()).name();
                    byte[] value = infra.serdes().value(QueuedRequest.class).serialize(topic, q);
                    producedAt.put(q.getRequest().getId(), Instant.now());
                    producer.send(new ProducerRecord<>(topic, q.getRequest().getId(), value));
                }
                producer.flush();
                KafkaIo.until(() -> sim.audit().servedCount(), n -> n >= total);
                Histogram e2e = new Histogram(TimeUnit.SECONDS.toMicros(60), 3);
                for (Audit.Entry e : sim.audit().entries()) {
                    Instant p = producedAt.get(e.requestId());
                    if (p != null) {
                        e2e.recordValue(Math.max(0, Duration.between(p, e.timestamp()).toNanos() / 1_000));
                    }
                }
                Map<Double, Double> overhead = new HashMap<>();
                for (ValueAtPercentile v : worker.metrics().overheadTimer().takeSnapshot().percentileValues()) {
                    overhead.put(v.percentile(), v.value(TimeUnit.MILLISECONDS));
                }
                ObjectNode o = out.putObject("overhead");
                o.put("rate_per_second", RATE);
                o.put("calls", e2e.getTotalCount());
                o.put("worker_overhead_p50_ms", round(overhead.get(0.5)));
                o.put("worker_overhead_p99_ms", round(overhead.get(0.99)));
                o.put("worker_overhead_what", "record returned by poll -> HTTP request handed to the JDK client");
                o.put("produced_to_model_p50_ms", round(e2e.getValueAtPercentile(50) / 1000.0));
                o.put("produced_to_model_p99_ms", round(e2e.getValueAtPercentile(99) / 1000.0));
                o.put("produced_to_model_max_ms", round(e2e.getMaxValue() / 1000.0));
                o.put("produced_to_model_what", "producer send -> simulator answered (zero latency): Kafka hop + worker");
                System.out.printf("overhead at %d/s: worker (poll -> HTTP request sent) p50 %.3f ms, p99 %.3f ms; "
                                + "record produced -> model p50 %.2f ms, p99 %.2f ms, max %.2f ms (%d calls)%n",
                        RATE, overhead.get(0.5), overhead.get(0.99), e2e.getValueAtPercentile(50) / 1000.0,
                        e2e.getValueAtPercentile(99) / 1000.0, e2e.getMaxValue() / 1000.0, e2e.getTotalCount());
            }
        }
        out.put("load_average_at_end", Files.readString(Path.of("/proc/loadavg")).trim());
        Path file = docs().resolve("benchmarks").resolve("worker.json");
        Files.createDirectories(file.getParent());
        Files.writeString(file, Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(out) + "\n");
        System.out.println("written to " + file);
    }

    private static Settings settings(Infra infra, ModelSimulator sim, String group) {
        return infra.settings(Map.of(
                "worker.group-id", group,
                "worker.id", "bench",
                "worker.admin.port", "0",
                "worker.health.interval", "0",
                "worker.max-in-flight", Integer.toString(MAX_IN_FLIGHT),
                "worker.endpoint.url", sim.baseUrl(),
                "worker.endpoint.name", "sim"));
    }

    private static KafkaProducer<String, byte[]> producer(Infra infra) {
        Map<String, Object> p = new HashMap<>(infra.kafkaConfig().producer("bench-producer"));
        p.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        return new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
    }

    /** The project's docs/ directory: found from the working directory upwards. */
    private static Path docs() {
        Path dir = Path.of(System.getProperty("user.dir")).toAbsolutePath();
        for (Path d = dir; d != null; d = d.getParent()) {
            if (Files.isDirectory(d.resolve("docs")) && Files.isDirectory(d.resolve("worker"))) {
                return d.resolve("docs");
            }
        }
        return dir.resolve("docs");
    }

    private static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }
}
