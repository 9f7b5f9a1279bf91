package llmq.router;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import llmq.avro.ChatMessage;
import llmq.avro.LlmRequest;
import llmq.avro.Priority;
import llmq.avro.RequestParams;
import llmq.common.json.Json;
import llmq.testsupport.Infra;
import llmq.testsupport.IntegrationTest;
import llmq.testsupport.KafkaIo;
import org.junit.jupiter.api.Test;

/** The router's read-only backlog view over HTTP, answered from its stores. */
@IntegrationTest
class BacklogViewIT {

    private final HttpClient http = HttpClient.newHttpClient();

    private JsonNode get(int port, String path) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        return Json.mapper().readTree(r.body());
    }

    @Test
    void shouldShowParkedBacklogAndARequestsPosition(Infra infra) throws Exception {
        String run = "view-" + UUID.randomUUID().toString().substring(0, 8);
        try (KafkaIo io = new KafkaIo(infra)) {
            List<String> inputs = new ArrayList<>();
            for (Priority p : Priority.values()) {
                inputs.add(infra.catalog().intake(p).name());
            }
            inputs.add(infra.catalog().events().name());
            inputs.add(infra.catalog().requests().name());
            io.startGroupAtEnd(run, inputs);
            try (RouterService router = RouterService.start(infra.settings(Map.of(
                    "router.application-id", run,
                    "router.state-dir", infra.newDirectory(run).toString(),
                    "router.admin.port", "0",
                    "router.queue.depth.low", "1")))) {
                // one partition holds all of them: same key hash is not needed, the view sums partitions
                List<String> ids = new ArrayList<>();
                for (int i = 0; i < 30; i++) {
                    String id = run + "-" + i;
                    ids.add(id);
                    LlmRequest r = LlmRequest.newBuilder().setId(id).setTenantId("acme").setModel("m")
                            .setMessages(List.of(new ChatMessage("user", "x", null))).setParams(RequestParams.newBuilder().build())
                            .setPriority(Priority.LOW).setSubmittedAt(Instant.now().plusMillis(i)).build();
                    io.send(infra.catalog().intake(Priority.LOW), id, r);
                }
                int port = router.adminPort();
                JsonNode backlog = KafkaIo.until(() -> {
                    try {
                        return get(port, "/v1/backlog");
                    } catch (Exception e) {
                        return Json.mapper().createObjectNode();
                    }
                }, n -> n.path("levels").path("low").path("parked").asLong() + n.path("levels").path("low").path("queued").asLong() == 30);
                long queued = backlog.path("levels").path("low").path("queued").asLong();
                assertThat(queued).as("one released per partition that holds any (depth 1): %s", backlog).isBetween(1L, 6L);
                assertThat(backlog.path("levels").path("low").path("parked").asLong()).isEqualTo(30 - queued);

                String last = ids.get(ids.size() - 1);
                JsonNode position = get(port, "/v1/requests/" + last + "/position");
                assertThat(position.path("state").asText()).isEqualTo("parked");
                assertThat(position.path("level").asText()).isEqualTo("low");
                assertThat(position.path("position").asLong()).isGreaterThanOrEqualTo(1);
                JsonNode unknown = get(port, "/v1/requests/" + UUID.randomUUID() + "/position");
                assertThat(unknown.path("error").path("type").asText()).isEqualTo("not_found");
            }
        }
    }
}
