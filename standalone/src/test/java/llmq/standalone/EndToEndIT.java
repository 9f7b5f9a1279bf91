package llmq.standalone;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import llmq.common.config.Settings;
import llmq.testsupport.ApiClient;
import llmq.modelsim.tokens.TokenModel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The whole pipeline on a real broker and a real PostgreSQL, as the standalone run starts it:
 * HTTP in, priority topic, router, queue, worker, model simulator, result, usage, billing row.
 */
class EndToEndIT {

    static Stack stack;
    static ApiClient api;

    @BeforeAll
    static void start() throws Exception {
        Path dir = Path.of("target", "e2e-" + UUID.randomUUID().toString().substring(0, 8));
        stack = Stack.start(dir, Stack.Ports.ephemeral(), Settings.of(Map.of()));
        api = new ApiClient(stack.ingestUrl(), stack.apiKey());
    }

    @AfterAll
    static void stop() {
        if (stack != null) {
            stack.close();
        }
    }

    private static String body(String priority, String content, String idempotencyKey) {
        return "{\"model\":\"sim-small\",\"priority\":\"" + priority + "\",\"max_tokens\":40,"
                + (idempotencyKey == null ? "" : "\"idempotency_key\":\"" + idempotencyKey + "\",")
                + "\"messages\":[{\"role\":\"user\",\"content\":\"" + content + "\"}]}";
    }

    /** Usage rows of the given request ids: request id → {prompt, completion}. */
    private static Map<String, int[]> usageRows(List<String> ids) throws Exception {
        Map<String, int[]> rows = new HashMap<>();
        try (Connection c = stack.postgres().db().connect();
             PreparedStatement ps = c.prepareStatement("SELECT request_id, prompt_tokens, completion_tokens "
                     + "FROM usage_records WHERE request_id = ANY (?)")) {
            ps.setArray(1, c.createArrayOf("text", ids.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    rows.put(rs.getString(1), new int[] {rs.getInt(2), rs.getInt(3)});
                }
            }
        }
        return rows;
    }

    private static Map<String, int[]> awaitUsageRows(List<String> ids, int expected) throws Exception {
        Map<String, int[]> rows = Map.of();
        for (int i = 0; i < 600 && rows.size() < expected; i++) {
            rows = usageRows(ids);
            Thread.sleep(100);
        }
        return rows;
    }

    @Test
    void shouldCompleteAndBillOneHundredRequestsAcrossAllPriorities() throws Exception {
        String[] levels = {"realtime", "high", "normal", "low"};
        Map<String, String> contentById = new HashMap<>();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            String content = "e2e question " + i;
            ApiClient.Reply r = api.post(body(levels[i % 4], content, null));
            assertThat(r.status()).as("submission %d", i).isEqualTo(202);
            assertThat(r.body().path("priority").asText()).isEqualTo(levels[i % 4]);
            ids.add(r.body().path("id").asText());
            contentById.put(r.body().path("id").asText(), content);
        }

        TokenModel tokens = stack.model().tokenModel();
        for (String id : ids) {
            JsonNode done = api.await(id, ApiClient::completed, Duration.ofSeconds(60));
            assertThat(done.path("status").asText()).as("status of %s: %s", id, done).isEqualTo("completed");
            TokenModel.Completion expected = tokens.complete(List.of(TokenModel.Message.user(contentById.get(id))), 40);
            assertThat(done.path("result").path("output").asText()).isEqualTo(expected.text());
            assertThat(done.path("result").path("usage").path("completion_tokens").asInt())
                    .isEqualTo(expected.completionTokens());
        }

        Map<String, int[]> rows = awaitUsageRows(ids, 100);
        assertThat(rows).hasSize(100).containsOnlyKeys(ids);
        Map<String, Integer> calls = stack.model().audit().callsByRequestId();
        for (String id : ids) {
            assertThat(calls.get(id)).as("model calls for %s", id).isEqualTo(1);
            TokenModel.Completion expected = tokens.complete(List.of(TokenModel.Message.user(contentById.get(id))), 40);
            assertThat(rows.get(id)).containsExactly(expected.promptTokens(), expected.completionTokens());
        }
        assertThat(ids.stream().filter(calls::containsKey).count()).isEqualTo(100);
    }

    @Test
    void shouldCallTheModelOnceForTwoSubmissionsWithOneIdempotencyKey() throws Exception {
        String key = "order-" + UUID.randomUUID();
        ApiClient.Reply first = api.post(body("normal", "pay invoice " + key, key));
        ApiClient.Reply second = api.post(body("normal", "pay invoice " + key, key));
        assertThat(first.status()).isEqualTo(202);
        // the retry is answered with the original request, not a new one
        assertThat(second.status()).isEqualTo(200);
        String a = first.body().path("id").asText();
        assertThat(second.body().path("id").asText()).isEqualTo(a);
        assertThat(second.body().path("idempotent_replay").asBoolean()).isTrue();

        JsonNode original = api.await(a, ApiClient::completed, Duration.ofSeconds(60));
        assertThat(original.path("status").asText()).isEqualTo("completed");
        awaitUsageRows(List.of(a), 1);
        Thread.sleep(500); // a second row, if one were coming, would have the same path to travel
        assertThat(usageRows(List.of(a))).containsOnlyKeys(a);
        assertThat(stack.model().audit().callsByRequestId().get(a)).isEqualTo(1);
    }
}
