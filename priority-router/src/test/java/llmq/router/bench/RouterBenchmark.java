package llmq.router.bench;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import llmq.avro.ChatMessage;
import llmq.avro.EventType;
import llmq.avro.LlmRequest;
import llmq.avro.Priority;
import llmq.avro.QueuedRequest;
import llmq.avro.RequestEvent;
import llmq.avro.RequestParams;
import llmq.common.json.Json;
import llmq.router.RouterService;
import llmq.testsupport.Infra;
import llmq.topics.catalog.TopicCatalog;
import org.HdrHistogram.Histogram;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Produced;

/**
 * Priority isolation of the router, measured (not asserted): realtime requests arriving open-loop
 * at a fixed rate, accepted → released (visible to a read-committed worker) p50/p99, with and
 * without a deep parked low-priority backlog, beside a bare exactly-once Streams hop with the same
 * commit interval on the same broker in the same run.
 *
 * <p>Run: {@code mvn -o -q -pl priority-router exec:java -Dexec.classpathScope=test
 * -Dexec.mainClass=llmq.router.bench.RouterBenchmark [-Dexec.args="--backlog 100000 --rate 1000 --seconds 15"]}.
 * Prints a table and writes {@code docs/benchmarks/router.json}.
 */
public final class RouterBenchmark {

    private static final String COMMIT = "20";

    private RouterBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> a = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            a.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        int backlog = Integer.parseInt(a.getOrDefault("backlog", "100000"));
        int rate = Integer.parseInt(a.getOrDefault("rate", "1000"));
        int seconds = Integer.parseInt(a.getOrDefault("seconds", "15"));
        Path out = Path.of(a.getOrDefault("out", "../docs/benchmarks/router.json"));
        Infra infra = Infra.get();

        Histogram bare = bareEosHop(infra, rate, seconds);
        Histogram idle = router(infra, 0, rate, seconds);
        Histogram loaded = router(infra, backlog, rate, seconds);

        System.out.printf("%nrouter priority isolation — realtime at %d/s for %d s, commit interval %s ms%n", rate, seconds, COMMIT);
        System.out.printf("%-44s %8s %8s %8s %8s%n", "scenario", "count", "p50 ms", "p99 ms", "max ms");
        row("bare exactly-once Streams hop (baseline)", bare);
        row("router, no backlog: accepted → released", idle);
        row("router, " + backlog + " low parked: accepted → released", loaded);
        System.out.printf("ratio p99 (backlog / baseline): %.2f   ratio p99 (backlog / no backlog): %.2f%n",
                loaded.getValueAtPercentile(99) / (double) bare.getValueAtPercentile(99),
                loaded.getValueAtPercentile(99) / (double) idle.getValueAtPercentile(99));

        ObjectNode doc = Json.mapper().createObjectNode();
        doc.put("benchmark", "router-priority-isolation");
        doc.put("date", Instant.now().toString());
        doc.put("machine", Runtime.getRuntime().availableProcessors() + " cores, " + (Runtime.getRuntime().maxMemory() >> 20)
                + " MiB max heap, JDK " + System.getProperty("java.version"));
        doc.put("rate_per_second", rate);
        doc.put("seconds", seconds);
        doc.put("commit_interval_ms", Integer.parseInt(COMMIT));
        doc.put("low_backlog", backlog);
        ArrayNode rows = doc.putArray("results");
        rows.add(json("bare_eos_hop", bare));
        rows.add(json("router_no_backlog", idle));
        rows.add(json("router_with_backlog", loaded));
        doc.put("p99_ratio_backlog_to_baseline", loaded.getValueAtPercentile(99) / (double) bare.getValueAtPercentile(99));
        doc.put("p99_ratio_backlog_to_no_backlog", loaded.getValueAtPercentile(99) / (double) idle.getValueAtPercentile(99));
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.writeString(out, Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(doc));
        System.out.println("wrote " + out.toAbsolutePath().normalize());
        infra.close();
        System.exit(0);
    }

    private static void row(String name, Histogram h) {
        System.out.printf("%-44s %8d %8.1f %8.1f %8.1f%n", name, h.getTotalCount(), h.getValueAtPercentile(50) / 1000.0,
                h.getValueAtPercentile(99) / 1000.0, h.getMaxValue() / 1000.0);
    }

    private static ObjectNode json(String name, Histogram h) {
        ObjectNode n = Json.mapper().createObjectNode();
        n.put("scenario", name);
        n.put("count", h.getTotalCount());
        n.put("p50_ms", h.getValueAtPercentile(50) / 1000.0);
        n.put("p99_ms", h.getValueAtPercentile(99) / 1000.0);
        n.put("max_ms", h.getMaxValue() / 1000.0);
        return n;
    }

    /** A passthrough exactly-once Streams app; latency = read-committed receive − intended send. */
    private static Histogram bareEosHop(Infra infra, int rate, int seconds) throws Exception {
        String run = "bare-" + UUID.randomUUID().toString().substring(0, 6);
        try (var admin = infra.admin()) {
            admin.createTopics(List.of(new NewTopic(run + "-in", 6, (short) 1), new NewTopic(run + "-out", 6, (short) 1))).all().get();
        }
        StreamsBuilder b = new StreamsBuilder();
        b.stream(run + "-in", Consumed.with(Serdes.String(), Serdes.ByteArray())).to(run + "-out", Produced.with(Serdes.String(), Serdes.ByteArray()));
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, run);
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, infra.bootstrapServers());
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, COMMIT);
        p.put(StreamsConfig.STATE_DIR_CONFIG, infra.newDirectory(run).toString());
        p.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, 1);
        try (KafkaStreams streams = new KafkaStreams(b.build(), p)) {
            streams.start();
            while (streams.state() != KafkaStreams.State.RUNNING) {
                Thread.sleep(50);
            }
            Histogram h = new Histogram(60_000_000L, 3);
            AtomicBoolean done = new AtomicBoolean();
            Thread reader = new Thread(() -> {
                try (KafkaConsumer<String, byte[]> c = consumer(infra, run + "-out")) {
                    while (!done.get()) {
                        for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(20))) {
                            long sent = ByteBuffer.wrap(r.value()).getLong();
                            h.recordValue(Math.max(0, System.currentTimeMillis() * 1000 - sent));
                        }
                    }
                }
            });
            reader.start();
            Thread.sleep(2000);
            try (KafkaProducer<String, byte[]> producer = producer(infra)) {
                openLoop(rate, seconds, (i, intendedMicros) -> producer.send(new ProducerRecord<>(run + "-in", "k" + i,
                        ByteBuffer.allocate(8).putLong(intendedMicros).array())));
            }
            Thread.sleep(2000);
            done.set(true);
            reader.join();
            return h;
        }
    }

    /**
     * Realtime requests through a running router; a stand-in worker starts whatever reaches the
     * realtime queue (emitting STARTED, so the queue never fills) and leaves the low queue alone, so
     * the low backlog stays parked.
     */
    private static Histogram router(Infra infra, int lowBacklog, int rate, int seconds) throws Exception {
        String run = "bench-" + UUID.randomUUID().toString().substring(0, 6);
        TopicCatalog catalog = infra.catalog();
        Map<String, String> s = new HashMap<>();
        s.put("router.application-id", run);
        s.put("router.state-dir", infra.newDirectory(run).toString());
        s.put("router.admin.port", "0");
        s.put("router.commit-interval", COMMIT + "ms");
        s.put("router.aging.enabled", "false");
        Histogram h = new Histogram(60_000_000L, 3);
        try (KafkaProducer<String, byte[]> producer = producer(infra)) {
            // start the new app at the end of the shared topics
            try (var admin = infra.admin()) {
                Map<org.apache.kafka.common.TopicPartition, org.apache.kafka.clients.consumer.OffsetAndMetadata> offsets = new HashMap<>();
                for (String topic : List.of(catalog.intake(Priority.REALTIME).name(), catalog.intake(Priority.HIGH).name(),
                        catalog.intake(Priority.NORMAL).name(), catalog.intake(Priority.LOW).name(), catalog.events().name(),
                        catalog.requests().name())) {
                    var ends = admin.listOffsets(admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions().stream()
                            .collect(java.util.stream.Collectors.toMap(pi -> new org.apache.kafka.common.TopicPartition(topic, pi.partition()),
                                    pi -> org.apache.kafka.clients.admin.OffsetSpec.latest()))).all().get();
                    ends.forEach((tp, info) -> offsets.put(tp, new org.apache.kafka.clients.consumer.OffsetAndMetadata(info.offset())));
                }
                admin.alterConsumerGroupOffsets(run, offsets).all().get();
            }
            try (RouterService router = RouterService.start(infra.settings(s))) {
                while (!router.app().awaitRunning(Duration.ofSeconds(1))) {
                    Thread.sleep(50);
                }
                if (lowBacklog > 0) {
                    long t0 = System.nanoTime();
                    for (int i = 0; i < lowBacklog; i++) {
                        LlmRequest r = request(run + "-low-" + i, "batch-tenant", Priority.LOW, Instant.now());
                        producer.send(new ProducerRecord<>(catalog.intake(Priority.LOW).name(), r.getId(),
                                infra.serdes().value(LlmRequest.class).serialize(catalog.intake(Priority.LOW).name(), r)));
                    }
                    producer.flush();
                    long parked = 0;
                    while (parked < lowBacklog - 16L * catalog.partitions()) {
                        Thread.sleep(500);
                        parked = (long) router.metrics().parked(Priority.LOW);
                    }
                    System.out.printf("%d low requests parked in %.1f s%n", parked, (System.nanoTime() - t0) / 1e9);
                }
                AtomicBoolean done = new AtomicBoolean();
                Thread worker = new Thread(() -> {
                    try (KafkaConsumer<String, byte[]> c = consumer(infra, catalog.queue(Priority.REALTIME).name());
                         KafkaProducer<String, byte[]> events = producer(infra)) {
                        while (!done.get()) {
                            for (ConsumerRecord<String, byte[]> rec : c.poll(Duration.ofMillis(10))) {
                                long now = System.currentTimeMillis();
                                QueuedRequest q = infra.serdes().value(QueuedRequest.class).deserialize(rec.topic(), rec.value());
                                if (!q.getRequest().getId().startsWith(run)) {
                                    continue;
                                }
                                h.recordValue(Math.max(0, (now - q.getRequest().getSubmittedAt().toEpochMilli()) * 1000));
                                RequestEvent started = RequestEvent.newBuilder().setRequestId(q.getRequest().getId())
                                        .setTenantId(q.getRequest().getTenantId()).setType(EventType.STARTED)
                                        .setAt(Instant.ofEpochMilli(now)).setAttempt(q.getAttempt()).build();
                                events.send(new ProducerRecord<>(catalog.events().name(), started.getRequestId(),
                                        infra.serdes().value(RequestEvent.class).serialize(catalog.events().name(), started)));
                            }
                        }
                    }
                });
                worker.start();
                Thread.sleep(1000);
                String topic = catalog.intake(Priority.REALTIME).name();
                openLoop(rate, seconds, (i, intendedMicros) -> {
                    LlmRequest r = request(run + "-rt-" + i, "tenant-" + (i % 10), Priority.REALTIME,
                            Instant.ofEpochMilli(intendedMicros / 1000));
                    producer.send(new ProducerRecord<>(topic, r.getId(), infra.serdes().value(LlmRequest.class).serialize(topic, r)));
                });
                Thread.sleep(3000);
                done.set(true);
                worker.join();
            }
        }
        return h;
    }

    /** Calls {@code send} for request i at its intended time (start + i / rate); never waits for the broker. */
    private static void openLoop(int rate, int seconds, Sender send) throws InterruptedException {
        long start = System.nanoTime();
        long startMicros = System.currentTimeMillis() * 1000;
        long n = (long) rate * seconds;
        for (long i = 0; i < n; i++) {
            long due = start + i * 1_000_000_000L / rate;
            long wait = due - System.nanoTime();
            if (wait > 0) {
                Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
            }
            send.send(i, startMicros + i * 1_000_000L / rate);
        }
    }

    @FunctionalInterface
    private interface Sender {
        void send(long i, long intendedMicros);
    }

    private static LlmRequest request(String id, String tenant, Priority level, Instant submitted) {
        return LlmRequest.newBuilder().setId(id).setTenantId(tenant).setModel("sim-small")
                .setMessages(List.of(new ChatMessage("user", "benchmark request", null)))
                .setParams(RequestParams.newBuilder().setMaxTokens(64).build())
                .setPriority(level).setSubmittedAt(submitted).setSource("bench").build();
    }

    private static KafkaProducer<String, byte[]> producer(Infra infra) {
        Map<String, Object> p = new HashMap<>(infra.kafkaConfig().producer("bench-" + UUID.randomUUID()));
        p.put("linger.ms", 0);
        return new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
    }

    private static KafkaConsumer<String, byte[]> consumer(Infra infra, String topic) {
        Map<String, Object> c = new HashMap<>(infra.kafkaConfig().consumer("bench-" + UUID.randomUUID(), "bench-" + UUID.randomUUID()));
        c.put("auto.offset.reset", "latest");
        c.put("fetch.max.wait.ms", 5);
        KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(c, new StringDeserializer(), new ByteArrayDeserializer());
        consumer.subscribe(List.of(topic));
        while (consumer.assignment().isEmpty()) {
            consumer.poll(Duration.ofMillis(50));
        }
        return consumer;
    }
}
