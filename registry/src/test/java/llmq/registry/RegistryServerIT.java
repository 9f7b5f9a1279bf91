package llmq.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Map;
import llmq.avro.LlmRequest;
import llmq.avro.UsageEvent;
import llmq.common.kafka.KafkaConfig;
import llmq.embedded.kafka.EmbeddedKafka;
import llmq.schemas.compat.Compatibility;
import llmq.schemas.registry.HttpSchemaRegistryClient;
import llmq.schemas.registry.SchemaRegistryException;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The development registry's REST API against a real broker, as a Confluent client sees it. */
class RegistryServerIT {

    @TempDir
    static Path dir;
    static EmbeddedKafka kafka;
    static KafkaConfig kc;
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void startBroker() throws Exception {
        kafka = EmbeddedKafka.start(dir.resolve("kafka"), 0, 0, Map.of());
        kc = new KafkaConfig(kafka.bootstrapServers(), "http://unused", Map.of());
    }

    @AfterAll
    static void stopBroker() {
        kafka.close();
    }

    private static RegistryServer start(String topic) throws Exception {
        return RegistryServer.start(new RegistryConfig("127.0.0.1", 0, topic, Compatibility.BACKWARD), kc);
    }

    private HttpResponse<String> call(RegistryServer r, String method, String path, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(r.url() + path))
                .header("Content-Type", "application/vnd.schemaregistry.v1+json");
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String wrap(Schema s) {
        return JSON.createObjectNode().put("schema", s.toString()).toString();
    }

    @Test
    void shouldRegisterFetchAndListLikeConfluent() throws Exception {
        try (RegistryServer r = start("_schemas_api")) {
            HttpSchemaRegistryClient client = new HttpSchemaRegistryClient(r.url());
            int id = client.register("llm.requests-value", LlmRequest.getClassSchema());
            assertThat(client.register("llm.requests-value", LlmRequest.getClassSchema())).isEqualTo(id);
            // the same schema under another subject keeps its global id
            assertThat(client.register("llm.requests.high-value", LlmRequest.getClassSchema())).isEqualTo(id);
            int other = client.register("llm.usage-value", UsageEvent.getClassSchema());
            assertThat(other).isNotEqualTo(id);

            assertThat(new HttpSchemaRegistryClient(r.url()).schemaById(id)).isEqualTo(LlmRequest.getClassSchema());
            assertThat(client.subjects()).contains("llm.requests-value", "llm.requests.high-value", "llm.usage-value");
            assertThat(client.latest("llm.usage-value")).get().satisfies(v -> {
                assertThat(v.version()).isEqualTo(1);
                assertThat(v.id()).isEqualTo(other);
            });

            JsonNode lookup = JSON.readTree(call(r, "POST", "/subjects/llm.usage-value", wrap(UsageEvent.getClassSchema())).body());
            assertThat(lookup.path("id").asInt()).isEqualTo(other);
            assertThat(lookup.path("version").asInt()).isEqualTo(1);
            assertThat(call(r, "GET", "/subjects/llm.usage-value/versions", null).body()).isEqualTo("[1]");
            assertThat(JSON.readTree(call(r, "GET", "/schemas/ids/" + id + "/versions", null).body())).hasSize(2);
        }
    }

    @Test
    void shouldRejectIncompatibleChangeWith409AndAcceptCompatibleOne() throws Exception {
        Schema v1 = SchemaBuilder.record("Thing").namespace("t").fields().requiredString("a").endRecord();
        Schema compatible = SchemaBuilder.record("Thing").namespace("t").fields().requiredString("a")
                .name("b").type().intType().intDefault(0).endRecord();
        Schema incompatible = SchemaBuilder.record("Thing").namespace("t").fields().requiredString("a")
                .requiredInt("c").endRecord();
        try (RegistryServer r = start("_schemas_compat")) {
            HttpSchemaRegistryClient client = new HttpSchemaRegistryClient(r.url());
            client.register("thing-value", v1);
            assertThatThrownBy(() -> client.register("thing-value", incompatible))
                    .isInstanceOf(SchemaRegistryException.class)
                    .satisfies(e -> assertThat(((SchemaRegistryException) e).status()).isEqualTo(409))
                    .hasMessageContaining("incompatible");
            HttpResponse<String> check = call(r, "POST", "/compatibility/subjects/thing-value/versions/latest", wrap(incompatible));
            assertThat(JSON.readTree(check.body()).path("is_compatible").asBoolean()).isFalse();
            client.register("thing-value", compatible);
            assertThat(client.latest("thing-value")).get().extracting(v -> v.version()).isEqualTo(2);

            // NONE lets anything through
            assertThat(call(r, "PUT", "/config/thing-value", "{\"compatibility\":\"NONE\"}").statusCode()).isEqualTo(200);
            client.register("thing-value", incompatible);
            assertThat(client.latest("thing-value")).get().extracting(v -> v.version()).isEqualTo(3);
        }
    }

    @Test
    void shouldAnswerErrorsInConfluentShape() throws Exception {
        try (RegistryServer r = start("_schemas_errors")) {
            HttpResponse<String> missing = call(r, "GET", "/schemas/ids/999", null);
            assertThat(missing.statusCode()).isEqualTo(404);
            assertThat(JSON.readTree(missing.body()).path("error_code").asInt()).isEqualTo(40403);
            HttpResponse<String> noSubject = call(r, "GET", "/subjects/nope/versions", null);
            assertThat(JSON.readTree(noSubject.body()).path("error_code").asInt()).isEqualTo(40401);
            HttpResponse<String> bad = call(r, "POST", "/subjects/x-value/versions", "{\"schema\":\"{not avro\"}");
            assertThat(bad.statusCode()).isEqualTo(422);
            assertThat(JSON.readTree(bad.body()).path("error_code").asInt()).isEqualTo(42201);
            HttpResponse<String> proto = call(r, "POST", "/subjects/x-value/versions",
                    "{\"schemaType\":\"PROTOBUF\",\"schema\":\"syntax = 'proto3';\"}");
            assertThat(proto.statusCode()).isEqualTo(422);
            assertThat(proto.body()).contains("PROTOBUF");
        }
    }

    @Test
    void shouldKeepSchemasAndIdsAcrossARestart() throws Exception {
        int id;
        try (RegistryServer r = start("_schemas_restart")) {
            HttpSchemaRegistryClient client = new HttpSchemaRegistryClient(r.url());
            client.register("llm.requests-value", LlmRequest.getClassSchema());
            id = client.register("llm.usage-value", UsageEvent.getClassSchema());
        }
        try (RegistryServer again = start("_schemas_restart")) {
            HttpSchemaRegistryClient client = new HttpSchemaRegistryClient(again.url());
            assertThat(client.schemaById(id)).isEqualTo(UsageEvent.getClassSchema());
            assertThat(client.register("llm.usage-value", UsageEvent.getClassSchema())).isEqualTo(id);
            assertThat(client.subjects()).containsExactlyInAnyOrder("llm.requests-value", "llm.usage-value");
        }
    }
}
