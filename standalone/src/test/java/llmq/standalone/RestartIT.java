package llmq.standalone;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import llmq.avro.LlmResult;
import llmq.common.config.Settings;
import llmq.testsupport.ApiClient;
import llmq.schemas.registry.HttpSchemaRegistryClient;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;

/** A standalone run restarted on the same data directory keeps its requests, results and schema ids. */
class RestartIT {

    @Test
    void shouldKeepStatusResultsAndSchemaIdsAcrossARestart() throws Exception {
        Path dir = Path.of("target", "restart-" + UUID.randomUUID().toString().substring(0, 8));
        String id;
        String output;
        String key;
        try (Stack first = Stack.start(dir, Stack.Ports.ephemeral(), Settings.of(Map.of()))) {
            key = first.apiKey();
            ApiClient api = new ApiClient(first.ingestUrl(), key);
            ApiClient.Reply r = api.post("{\"model\":\"sim-large\",\"messages\":[{\"role\":\"user\",\"content\":\"remember me\"}]}");
            assertThat(r.status()).isEqualTo(202);
            id = r.body().path("id").asText();
            JsonNode done = api.await(id, ApiClient::completed, Duration.ofSeconds(60));
            assertThat(done.path("status").asText()).isEqualTo("completed");
            output = done.path("result").path("output").asText();
        }

        try (Stack second = Stack.start(dir, Stack.Ports.ephemeral(), Settings.of(Map.of()))) {
            assertThat(second.apiKey()).isEqualTo(key);
            ApiClient api = new ApiClient(second.ingestUrl(), key);
            JsonNode again = api.await(id, ApiClient::completed, Duration.ofSeconds(60));
            assertThat(again.path("status").asText()).isEqualTo("completed");
            assertThat(again.path("result").path("output").asText()).isEqualTo(output);

            // the result written before the restart names a schema id the registry still resolves
            int schemaId = firstResultSchemaId(second, id);
            assertThat(new HttpSchemaRegistryClient(second.registryUrl()).schemaById(schemaId))
                    .isEqualTo(LlmResult.getClassSchema());

            ApiClient.Reply fresh = api.post("{\"model\":\"sim-small\",\"messages\":[{\"role\":\"user\",\"content\":\"new\"}]}");
            assertThat(fresh.status()).isEqualTo(202);
            assertThat(api.await(fresh.body().path("id").asText(), ApiClient::completed, Duration.ofSeconds(60))
                    .path("status").asText()).isEqualTo("completed");
        }
    }

    private static int firstResultSchemaId(Stack stack, String requestId) {
        Map<String, Object> c = new HashMap<>(stack.settings().withPrefix("none"));
        c.put("bootstrap.servers", stack.kafka().bootstrapServers());
        c.put("group.id", "restart-it-" + UUID.randomUUID());
        c.put("auto.offset.reset", "earliest");
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(c, new StringDeserializer(), new ByteArrayDeserializer())) {
            consumer.subscribe(List.of("llm.results"));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    if (requestId.equals(r.key())) {
                        return ByteBuffer.wrap(r.value(), 1, 4).getInt();
                    }
                }
            }
        }
        throw new AssertionError("no result record for " + requestId);
    }
}
