package llmq.topics;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import llmq.avro.ChatMessage;
import llmq.avro.DeadLetter;
import llmq.avro.LlmRequest;
import llmq.avro.Priority;
import llmq.avro.RequestParams;
import llmq.avro.UsageEvent;
import llmq.cli.LlmqCli;
import llmq.common.kafka.KafkaConfig;
import llmq.embedded.kafka.EmbeddedKafka;
import llmq.registry.RegistryConfig;
import llmq.registry.RegistryServer;
import llmq.schemas.compat.Compatibility;
import llmq.schemas.registry.HttpSchemaRegistryClient;
import llmq.topics.catalog.TopicCatalog;
import llmq.topics.catalog.TopicSerdes;
import llmq.topics.provision.TopicProvisioner;
import llmq.topics.replay.Replayer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** llmq replay, dlq, lag and reset-offsets against a real broker and registry. */
class ReplayCommandsIT {

    @TempDir
    static Path dir;
    static EmbeddedKafka kafka;
    static RegistryServer registry;
    static TopicSerdes serdes;
    static final TopicCatalog CATALOG = TopicCatalog.defaults();

    @BeforeAll
    static void start() throws Exception {
        kafka = EmbeddedKafka.start(dir.resolve("kafka"), 0, 0, Map.of());
        KafkaConfig kc = new KafkaConfig(kafka.bootstrapServers(), "http://unused", Map.of());
        registry = RegistryServer.start(new RegistryConfig("127.0.0.1", 0, "_llmq_schemas", Compatibility.BACKWARD), kc);
        serdes = new TopicSerdes(new HttpSchemaRegistryClient(registry.url()));
        try (Admin admin = admin()) {
            new TopicProvisioner(admin, CATALOG).apply();
        }
    }

    @AfterAll
    static void stop() {
        registry.close();
        kafka.close();
    }

    static Admin admin() {
        return Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()));
    }

    private static String cli(String... args) {
        List<String> all = new ArrayList<>(List.of("--bootstrap-servers", kafka.bootstrapServers(), "--set", "registry.url=" + registry.url()));
        all.addAll(List.of(args));
        StringWriter out = new StringWriter();
        int rc = LlmqCli.run(all.toArray(String[]::new), new PrintWriter(out, true), new PrintWriter(out, true));
        assertThat(rc).as("exit code of llmq %s:%n%s", String.join(" ", args), out).isZero();
        return out.toString();
    }

    private static void send(String topic, String key, byte[] value) throws Exception {
        try (KafkaProducer<String, byte[]> p = new KafkaProducer<>(Map.of("bootstrap.servers", kafka.bootstrapServers()),
                new StringSerializer(), new ByteArraySerializer())) {
            p.send(new ProducerRecord<>(topic, key, value)).get();
        }
    }

    private static UsageEvent usage(String id, String tenant) {
        return UsageEvent.newBuilder().setRequestId(id).setTenantId(tenant).setModel("m").setEndpoint("e")
                .setPromptTokens(1).setCompletionTokens(2).setLatencyMs(3).setAt(Instant.now()).build();
    }

    private static Map<TopicPartition, Long> ends() throws Exception {
        try (Admin admin = admin()) {
            Map<TopicPartition, OffsetSpec> request = new HashMap<>();
            for (var t : CATALOG.all()) {
                for (int p = 0; p < t.partitions(); p++) {
                    request.put(new TopicPartition(t.name(), p), OffsetSpec.latest());
                }
            }
            Map<TopicPartition, Long> out = new HashMap<>();
            admin.listOffsets(request, new ListOffsetsOptions(IsolationLevel.READ_UNCOMMITTED)).all().get()
                    .forEach((tp, i) -> out.put(tp, i.offset()));
            return out;
        }
    }

    private static List<ConsumerRecord<String, byte[]>> readAll(String topic) {
        List<ConsumerRecord<String, byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(Map.of("bootstrap.servers", kafka.bootstrapServers(),
                "group.id", "reader-" + System.nanoTime(), "auto.offset.reset", "earliest"), new StringDeserializer(),
                new ByteArrayDeserializer())) {
            c.subscribe(List.of(topic));
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            int empty = 0;
            while (System.nanoTime() < deadline && empty < 10) {
                var records = c.poll(Duration.ofMillis(200));
                records.forEach(out::add);
                empty = records.isEmpty() && !out.isEmpty() ? empty + 1 : 0;
            }
        }
        return out;
    }

    @Test
    void shouldCountWithoutChangingAnyOffsetOrTopicOnADryRun() throws Exception {
        for (int i = 0; i < 6; i++) {
            send("llm.usage", "dry-" + (i % 2), serdes.value(UsageEvent.class).serialize("llm.usage", usage("dry-" + i, "dry-" + (i % 2))));
        }
        Map<TopicPartition, Long> before = ends();
        List<String> groupsBefore;
        try (Admin admin = admin()) {
            groupsBefore = admin.listConsumerGroups().all().get().stream().map(g -> g.groupId()).toList();
        }
        String out = cli("replay", "--topic", "llm.usage", "--from", "earliest", "--dry-run", "--filter", "tenant=dry-1");
        assertThat(out).contains("dry run").contains("3 matched").contains("dry-1").contains("would be published");
        assertThat(ends()).isEqualTo(before);
        try (Admin admin = admin()) {
            assertThat(admin.listConsumerGroups().all().get().stream().map(g -> g.groupId()).toList())
                    .containsExactlyInAnyOrderElementsOf(groupsBefore);
        }
    }

    @Test
    void shouldRepublishTheFilteredRangeMarkedAsAReplayAndRecordItsProgress() throws Exception {
        for (int i = 0; i < 4; i++) {
            String tenant = i % 2 == 0 ? "keep" : "skip";
            send("llm.usage", tenant, serdes.value(UsageEvent.class).serialize("llm.usage", usage("rp-" + i, tenant)));
        }
        String out = cli("replay", "--topic", "llm.usage", "--from", "earliest", "--filter", "tenant=keep", "--name", "usage-keep");
        assertThat(out).contains("replay usage-keep");
        List<ConsumerRecord<String, byte[]>> marked = readAll("llm.usage").stream()
                .filter(r -> r.headers().lastHeader(Replayer.REPLAY_HEADER) != null
                        && "usage-keep".equals(new String(r.headers().lastHeader(Replayer.REPLAY_HEADER).value(), StandardCharsets.UTF_8)))
                .toList();
        assertThat(marked).hasSize(2).allSatisfy(r -> assertThat(r.key()).isEqualTo("keep"));
        try (Admin admin = admin()) {
            Map<TopicPartition, OffsetAndMetadata> progress = admin.listConsumerGroupOffsets(Replayer.group("usage-keep"))
                    .partitionsToOffsetAndMetadata().get();
            assertThat(progress).isNotEmpty();
        }
        // running it again with the same name resumes where it stopped: its own output is not replayed
        String again = cli("replay", "--topic", "llm.usage", "--from", "earliest", "--filter", "tenant=keep", "--name", "usage-keep");
        assertThat(again).contains("0 published");
    }

    @Test
    void shouldRedriveADeadLetteredRequestIntoItsLevelAsAReRunOnAnotherModel() throws Exception {
        LlmRequest req = LlmRequest.newBuilder().setId("dead-1").setTenantId("acme").setModel("broken-model")
                .setMessages(List.of(new ChatMessage("user", "hi", null))).setParams(RequestParams.newBuilder().build())
                .setPriority(Priority.HIGH).setSubmittedAt(Instant.now()).build();
        DeadLetter dl = DeadLetter.newBuilder().setRequestId("dead-1").setTenantId("acme").setStage("worker")
                .setSourceTopic("llm.queue.high").setSourcePartition(0).setSourceOffset(7).setRequest(req)
                .setErrorClass("server_error").setErrorMessage("HTTP 500").setAttempts(4).setPriority(Priority.HIGH)
                .setAt(Instant.now()).build();
        send("llm.dlq", "dead-1", serdes.value(DeadLetter.class).serialize("llm.dlq", dl));

        assertThat(cli("dlq", "list", "--reason", "server_error")).contains("dead-1").contains("server_error=1");
        assertThat(cli("dlq", "show", "dead-1")).contains("broken-model");
        cli("dlq", "replay", "--reason", "server_error", "--model", "good-model", "--name", "dlq-1");

        List<ConsumerRecord<String, byte[]>> high = readAll("llm.requests.high").stream()
                .filter(r -> r.headers().lastHeader(Replayer.RERUN_HEADER) != null).toList();
        assertThat(high).singleElement().satisfies(r -> {
            LlmRequest again = serdes.value(LlmRequest.class).deserialize(r.topic(), r.value());
            assertThat(again.getId()).isEqualTo("dead-1");
            assertThat(again.getModel()).isEqualTo("good-model");
            assertThat(r.key()).isEqualTo("dead-1");
        });
    }

    @Test
    void shouldMoveAStoppedGroupsOffsetsOnlyWhenNotADryRun() throws Exception {
        try (KafkaProducer<String, byte[]> p = new KafkaProducer<>(Map.of("bootstrap.servers", kafka.bootstrapServers()),
                new StringSerializer(), new ByteArraySerializer())) {
            p.send(new ProducerRecord<>("llm.results", 0, "x", new byte[] {1})).get();
        }
        try (Admin admin = admin()) {
            admin.alterConsumerGroupOffsets("llmq-test-group", Map.of(new TopicPartition("llm.results", 0), new OffsetAndMetadata(0))).all().get();
        }
        String dry = cli("reset-offsets", "--group", "llmq-test-group", "--to", "latest", "--dry-run");
        assertThat(dry).contains("dry run: nothing changed");
        try (Admin admin = admin()) {
            assertThat(admin.listConsumerGroupOffsets("llmq-test-group").partitionsToOffsetAndMetadata().get()
                    .get(new TopicPartition("llm.results", 0)).offset()).isZero();
        }
        cli("reset-offsets", "--group", "llmq-test-group", "--to", "latest", "--yes");
        try (Admin admin = admin()) {
            assertThat(admin.listConsumerGroupOffsets("llmq-test-group").partitionsToOffsetAndMetadata().get()
                    .get(new TopicPartition("llm.results", 0)).offset()).isPositive();
        }
        assertThat(cli("lag", "--group", "llmq-test-group")).contains("llm.results");
    }

    @Test
    void shouldRefuseToReplayEventsWithoutATarget() {
        StringWriter out = new StringWriter();
        int rc = LlmqCli.run(new String[] {"--bootstrap-servers", kafka.bootstrapServers(), "--set", "registry.url=" + registry.url(),
            "replay", "--topic", "llm.events", "--from", "earliest"}, new PrintWriter(out, true), new PrintWriter(out, true));
        assertThat(rc).isNotZero();
        assertThat(out.toString()).contains("derived");
    }
}
