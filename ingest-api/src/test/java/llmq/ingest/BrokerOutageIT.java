package llmq.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import llmq.avro.ApiKey;
import llmq.avro.LlmRequest;
import llmq.avro.Priority;
import llmq.avro.Tenant;
import llmq.common.auth.ApiKeys;
import llmq.common.config.Settings;
import llmq.common.kafka.KafkaConfig;
import llmq.embedded.kafka.EmbeddedKafka;
import llmq.ingest.support.Api;
import llmq.registry.RegistryConfig;
import llmq.registry.RegistryServer;
import llmq.schemas.compat.Compatibility;
import llmq.schemas.registry.HttpSchemaRegistryClient;
import llmq.testsupport.Infra;
import llmq.testsupport.IntegrationTest;
import llmq.topics.catalog.TopicCatalog;
import llmq.topics.catalog.TopicSerdes;
import llmq.topics.provision.TopicProvisioner;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Back-pressure against a broker of this test's own, stopped and restarted on the same port and data:
 * while it is down every submission is answered 503 with {@code Retry-After} within the Kafka timeout
 * and none of them is written; every request answered 202 — before the outage and after it — is on its
 * topic once the broker is back.
 */
@IntegrationTest
class BrokerOutageIT {

    private static Path data;
    private static int port;
    private static int controllerPort;
    private static EmbeddedKafka kafka;
    private static RegistryServer registry;
    private static IngestApi ingest;
    private static Api api;
    private static String key;
    private static final TopicCatalog catalog = TopicCatalog.defaults();
    private static TopicSerdes serdes;

    @BeforeAll
    static void start(Infra infra) throws Exception {
        data = infra.newDirectory("outage-kafka");
        port = EmbeddedKafka.freePort();
        controllerPort = EmbeddedKafka.freePort();
        kafka = EmbeddedKafka.start(data, port, controllerPort, Map.of());
        KafkaConfig kc = new KafkaConfig(kafka.bootstrapServers(), "http://unused", Map.of());
        registry = RegistryServer.start(new RegistryConfig("127.0.0.1", 0, "_llmq_schemas", Compatibility.BACKWARD), kc);
        try (Admin admin = Admin.create(kc.common("outage-admin"))) {
            new TopicProvisioner(admin, catalog).apply();
        }
        String tenant = "outage-" + UUID.randomUUID().toString().substring(0, 6);
        ApiKeys.Generated k = ApiKeys.generate();
        key = k.key();
        serdes = new TopicSerdes(new HttpSchemaRegistryClient(registry.url()));
        try (KafkaProducer<String, byte[]> p = new KafkaProducer<>(new KafkaConfig(kafka.bootstrapServers(), registry.url(), Map.of())
                .producer("outage-setup"), new StringSerializer(), new ByteArraySerializer())) {
            p.send(new ProducerRecord<>(catalog.configTenants().name(), tenant, serdes.value(Tenant.class).serialize(
                    catalog.configTenants().name(), Tenant.newBuilder().setId(tenant).setName(tenant)
                            .setDefaultPriority(Priority.NORMAL).setMaxPriority(Priority.HIGH).setUpdatedAt(Instant.now()).build()))).get();
            p.send(new ProducerRecord<>(catalog.configApiKeys().name(), k.id(), serdes.value(ApiKey.class).serialize(
                    catalog.configApiKeys().name(), ApiKey.newBuilder().setId(k.id()).setTenantId(tenant)
                            .setKeyHash(ApiKeys.hash(k.key())).setCreatedAt(Instant.now()).build()))).get();
        }
        ingest = IngestApi.start(Settings.of(Map.of(
                "kafka.bootstrap.servers", kafka.bootstrapServers(),
                "registry.url", registry.url(),
                "ingest.port", "0",
                "ingest.kafka-timeout", "1s",
                "ingest.status.application-id", "outage-status-" + UUID.randomUUID(),
                "ingest.status.state-dir", infra.newDirectory("outage-status").toString())));
        api = new Api(ingest.url());
    }

    @AfterAll
    static void stop() {
        if (ingest != null) {
            ingest.close();
        }
        if (registry != null) {
            registry.close();
        }
        if (kafka != null) {
            kafka.close();
        }
    }

    private static HttpResponse<String> submit(String content) {
        return api.post("/v1/requests", key, Api.request("sim-small", content));
    }

    @Test
    void shouldAnswer503WithRetryAfterWhileTheBrokerIsDownAndLoseNoAcceptedRequest() throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        List<String> accepted = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            HttpResponse<String> r = submit("before-" + run + "-" + i);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
            accepted.add(Api.json(r).path("id").asText());
        }

        kafka.close();
        List<String> refused = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            String content = "during-" + run + "-" + i;
            long t0 = System.nanoTime();
            HttpResponse<String> r = submit(content);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            System.out.printf("submission %d with the broker down: %d after %d ms%n", i, r.statusCode(), ms);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(503);
            assertThat(r.headers().firstValue("Retry-After")).isPresent();
            assertThat(Api.json(r).path("error").path("type").asText()).isEqualTo("unavailable");
            refused.add(content);
        }

        kafka = EmbeddedKafka.start(data, port, controllerPort, Map.of());
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        int recovered = 0;
        int during = 0;
        while (recovered < 10 && System.nanoTime() < deadline) {
            HttpResponse<String> r = submit("after-" + run + "-" + during++);
            if (r.statusCode() == 202) {
                accepted.add(Api.json(r).path("id").asText());
                recovered++;
            } else {
                assertThat(r.statusCode()).as("while the broker comes back: %s", r.body()).isEqualTo(503);
            }
        }
        assertThat(recovered).as("accepted again after the restart").isEqualTo(10);

        Map<String, String> onTopic = read(catalog.intake(Priority.NORMAL).name());
        for (String id : accepted) {
            assertThat(onTopic).as("request %s answered 202 is on its topic", id).containsKey(id);
        }
        for (String content : refused) {
            assertThat(onTopic.values()).as("a request answered 503 is not written").noneMatch(v -> v.contains(content));
        }
        System.out.printf("%d accepted (20 expected), all on llm.requests.normal; %d refused with 503, none written%n",
                accepted.size(), refused.size());
    }

    /** Every request on {@code topic}: id → its message. */
    private static Map<String, String> read(String topic) {
        Map<String, Object> c = new HashMap<>(new KafkaConfig(kafka.bootstrapServers(), registry.url(), Map.of()).common("outage-reader"));
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        Map<String, String> out = new HashMap<>();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(c, new StringDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = new ArrayList<>();
            consumer.partitionsFor(topic, Duration.ofSeconds(30)).forEach(p -> partitions.add(new TopicPartition(topic, p.partition())));
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions, Duration.ofSeconds(30));
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp)) && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    LlmRequest req = serdes.value(LlmRequest.class).deserialize(topic, r.value());
                    out.put(req.getId(), req.getMessages().get(0).getContent());
                }
            }
        }
        return out;
    }
}
