package llmq.faults;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import llmq.common.config.Settings;
import llmq.standalone.Stack;
import llmq.testsupport.ApiClient;
import llmq.testsupport.KafkaIo;
import org.junit.jupiter.api.Test;

/**
 * A lost {@code usage_records} table is rebuilt by replaying {@code llm.billing} into the sink:
 * the rows after the rebuild are identical to the rows before (same checksum), and replaying
 * again changes nothing.
 */
class BillingRebuildIT {

    private static String checksum(Stack stack) throws Exception {
        try (Connection c = stack.postgres().db().connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY request_id), '')) "
                     + "FROM usage_records t")) {
            rs.next();
            return rs.getLong(1) + ":" + rs.getString(2);
        }
    }

    private static long rows(Stack stack) {
        try (Connection c = stack.postgres().db().connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM usage_records")) {
            rs.next();
            return rs.getLong(1);
        } catch (Exception e) {
            return -1;
        }
    }

    @Test
    void shouldRebuildALostUsageTableIdenticallyByReplayingTheBillingTopic() throws Exception {
        Path dir = Path.of("target", "rebuild-" + UUID.randomUUID().toString().substring(0, 8));
        try (Stack stack = Stack.start(dir, Stack.Ports.ephemeral(), Settings.of(Map.of()))) {
            ApiClient api = new ApiClient(stack.ingestUrl(), stack.apiKey());
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                ApiClient.Reply r = api.post("{\"model\":\"" + (i % 2 == 0 ? "sim-small" : "sim-large")
                        + "\",\"messages\":[{\"role\":\"user\",\"content\":\"bill me " + i + "\"}]}");
                assertThat(r.status()).isEqualTo(202);
                ids.add(r.body().path("id").asText());
            }
            for (String id : ids) {
                assertThat(api.await(id, ApiClient::completed, Duration.ofSeconds(60)).path("status").asText()).isEqualTo("completed");
            }
            assertThat(KafkaIo.until(() -> rows(stack), n -> n == 40)).isEqualTo(40);
            String before = checksum(stack);

            try (Connection c = stack.postgres().db().connect(); Statement st = c.createStatement()) {
                st.execute("TRUNCATE usage_records");
            }
            assertThat(rows(stack)).isZero();
            String out = Cli.run(stack.kafka().bootstrapServers(), stack.registryUrl(),
                    "replay", "--topic", "llm.billing", "--from", "earliest", "--name", "rebuild-1");
            assertThat(out).contains("40 published");
            assertThat(KafkaIo.until(() -> rows(stack), n -> n == 40)).isEqualTo(40);
            assertThat(checksum(stack)).isEqualTo(before);

            // a second replay of the same range leaves the table as it is
            Cli.run(stack.kafka().bootstrapServers(), stack.registryUrl(),
                    "replay", "--topic", "llm.billing", "--from", "earliest", "--name", "rebuild-2");
            Thread.sleep(2000); // the sink would have written within its batch interval; nothing may change
            assertThat(checksum(stack)).isEqualTo(before);
        }
    }
}
