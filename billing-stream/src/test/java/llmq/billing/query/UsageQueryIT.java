package llmq.billing.query;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import llmq.avro.UsageEvent;
import llmq.billing.BillingService;
import llmq.common.json.Json;
import llmq.testsupport.Infra;
import llmq.testsupport.IntegrationTest;
import llmq.testsupport.KafkaIo;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.Test;

/**
 * Usage queries across two instances of billing-stream sharing the partitions: whichever instance
 * is asked, each tenant's usage comes from the instance whose store holds it (Streams metadata
 * lookup, then one forward), and both give the same answer.
 */
@IntegrationTest
class UsageQueryIT {

    private final Infra infra;
    private final HttpClient http = HttpClient.newHttpClient();

    UsageQueryIT(Infra infra) {
        this.infra = infra;
    }

    @Test
    void shouldAnswerEveryTenantsUsageFromEitherInstanceWithTheOwnersStore() throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        String app = "it-query-" + run;
        try (KafkaIo kafka = new KafkaIo(infra)) {
            kafka.startGroupAtEnd(app, List.of(infra.catalog().usage().name()));
            kafka.startGroupAtEnd(app + "-sink", List.of(infra.catalog().billing().name()));
            try (BillingService a = start(app, "a"); BillingService b = start(app, "b")) {
                KafkaIo.until(() -> running(a) && running(b) && owns(a) && owns(b), Boolean::booleanValue);
                assertThat(owns(a) && owns(b)).as("both instances hold partitions").isTrue();

                List<String> tenants = new ArrayList<>();
                Instant at = Instant.now().truncatedTo(ChronoUnit.MILLIS);
                for (int i = 0; i < 12; i++) {
                    String tenant = "query-" + i + "-" + run;
                    tenants.add(tenant);
                    for (int n = 0; n <= i % 3; n++) {
                        UsageEvent u = UsageEvent.newBuilder().setRequestId(UUID.randomUUID().toString())
                                .setTenantId(tenant).setModel("q-model").setEndpoint("sim").setPromptTokens(10 + i)
                                .setCompletionTokens(5).setLatencyMs(1).setAt(at).build();
                        kafka.send(infra.catalog().usage(), tenant, u);
                    }
                }

                Set<String> servedBy = new HashSet<>();
                for (int i = 0; i < tenants.size(); i++) {
                    long expected = i % 3 + 1;
                    String query = "/v1/usage?tenant=" + tenants.get(i) + "&granularity=hour&from="
                            + at.minus(Duration.ofHours(2)) + "&to=" + at.plus(Duration.ofHours(1));
                    JsonNode viaA = KafkaIo.until(() -> get(a, query), j -> requests(j) == expected);
                    JsonNode viaB = KafkaIo.until(() -> get(b, query), j -> requests(j) == expected);
                    assertThat(requests(viaA)).as("usage of %s via a", tenants.get(i)).isEqualTo(expected);
                    assertThat(viaB.path("buckets")).isEqualTo(viaA.path("buckets"));
                    assertThat(viaB.path("served_by").asText()).isEqualTo(viaA.path("served_by").asText());
                    servedBy.add(viaA.path("served_by").asText());
                }
                assertThat(servedBy).as("answers came from both instances' stores").hasSize(2);
            }
        }
    }

    private BillingService start(String app, String name) throws Exception {
        return BillingService.start(infra.settings(Map.of(
                "billing.application-id", app,
                "billing.state-dir", infra.newDirectory("query-" + name).toString(),
                "billing.sink.group-id", app + "-sink",
                "billing.admin.port", "0",
                "billing.cdc.enabled", "false")));
    }

    private static boolean running(BillingService s) {
        return s.app().streams().state() == KafkaStreams.State.RUNNING;
    }

    private static boolean owns(BillingService s) {
        return s.app().streams().metadataForLocalThreads().stream()
                .anyMatch(t -> t.activeTasks().stream().anyMatch(task -> task.taskId().subtopology() > 0
                        || !task.topicPartitions().isEmpty()));
    }

    private static long requests(JsonNode j) {
        return j.path("totals").path("USD").path("requests").asLong(-1);
    }

    private JsonNode get(BillingService s, String path) {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.adminPort() + path))
                    .GET().build(), HttpResponse.BodyHandlers.ofString());
            return Json.mapper().readTree(r.body());
        } catch (Exception e) {
            return Json.mapper().createObjectNode();
        }
    }
}
