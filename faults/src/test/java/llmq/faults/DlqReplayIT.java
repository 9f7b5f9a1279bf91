package llmq.faults;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import llmq.common.config.Settings;
import llmq.modelsim.faults.FaultSettings;
import llmq.standalone.Stack;
import llmq.testsupport.ApiClient;
import llmq.testsupport.KafkaIo;
import org.junit.jupiter.api.Test;

/**
 * Requests dead-lettered during a model outage complete when the dead letters are replayed
 * after the outage, and each is billed once.
 */
class DlqReplayIT {

    private static long billed(Stack stack, List<String> ids) {
        try (Connection c = stack.postgres().db().connect();
             PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM usage_records WHERE request_id = ANY (?)")) {
            ps.setArray(1, c.createArrayOf("text", ids.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        } catch (Exception e) {
            return -1;
        }
    }

    @Test
    void shouldCompleteAndBillOnceRequestsDeadLetteredDuringAModelOutageWhenReplayed() throws Exception {
        Path dir = Path.of("target", "dlq-" + UUID.randomUUID().toString().substring(0, 8));
        Settings settings = Settings.of(Map.of(
                "worker.retry.max-retries", "1",
                "worker.retry.initial-backoff", "100ms",
                "worker.retry.max-backoff", "200ms",
                // while every endpoint's circuit is open the worker holds requests rather than burn their
                // attempts; a short open period keeps this test quick
                "worker.circuit.open-duration", "500ms"));
        try (Stack stack = Stack.start(dir, Stack.Ports.ephemeral(), settings)) {
            ApiClient api = new ApiClient(stack.ingestUrl(), stack.apiKey());
            stack.model().faults().set(FaultSettings.NONE.withServerErrorRate(1.0));
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                ApiClient.Reply r = api.post("{\"model\":\"sim-small\",\"messages\":[{\"role\":\"user\",\"content\":\"outage " + i + "\"}]}");
                assertThat(r.status()).isEqualTo(202);
                ids.add(r.body().path("id").asText());
            }
            for (String id : ids) {
                JsonNode failed = api.await(id, n -> "failed".equals(n.path("status").asText()), Duration.ofSeconds(60));
                assertThat(failed.path("status").asText()).as("%s during the outage: %s", id, failed).isEqualTo("failed");
            }
            assertThat(stack.model().audit().callsByRequestId().keySet()).doesNotContainAnyElementsOf(ids);
            String listed = Cli.run(stack.kafka().bootstrapServers(), stack.registryUrl(), "dlq", "list", "--since", "1h");
            assertThat(listed).contains("server_error=20");

            stack.model().faults().clear();
            String out = Cli.run(stack.kafka().bootstrapServers(), stack.registryUrl(),
                    "dlq", "replay", "--since", "1h", "--reason", "server_error", "--name", "after-outage");
            assertThat(out).contains("20 published");

            for (String id : ids) {
                JsonNode done = api.await(id, ApiClient::completed, Duration.ofSeconds(60));
                assertThat(done.path("status").asText()).as("%s after the replay: %s", id, done).isEqualTo("completed");
            }
            assertThat(KafkaIo.until(() -> billed(stack, ids), n -> n == 20)).isEqualTo(20);
            Map<String, Integer> served = stack.model().audit().callsByRequestId();
            for (String id : ids) {
                assertThat(served.get(id)).as("successful model calls for %s", id).isEqualTo(1);
            }
            // replaying the same dead letters again would run them again: the dedup window does not
            // apply to deliberate re-runs; billing still bills each request id once
            Cli.run(stack.kafka().bootstrapServers(), stack.registryUrl(),
                    "dlq", "replay", "--since", "1h", "--reason", "server_error", "--name", "again");
            Thread.sleep(3000);
            assertThat(billed(stack, ids)).isEqualTo(20);
        }
    }
}
