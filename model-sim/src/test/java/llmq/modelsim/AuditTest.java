package llmq.modelsim;

import static llmq.modelsim.SimClient.chat;
import static llmq.modelsim.SimClient.config;
import static llmq.modelsim.SimClient.json;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import llmq.modelsim.audit.Audit;
import llmq.modelsim.tokens.TokenModel;
import llmq.modelsim.tokens.TokenModel.Message;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuditTest {

    private static final Clock CLOCK = Clock.fixed(Instant.parse("2025-01-01T00:00:00Z"), ZoneOffset.UTC);

    @Test
    void shouldCountOnlyServedCallsPerRequestIdAndTenant() {
        Audit audit = Audit.inMemory();
        audit.record("r1", "t1", "m", 200, 10, 5, false);
        audit.record("r1", "t1", "m", 200, 10, 5, true);
        audit.record("r2", "t2", "m", 200, 7, 3, false);
        audit.record("r3", "t2", "m", 429, 0, 0, false);
        audit.record(null, null, "m", 200, 1, 1, false);

        assertThat(audit.callCount()).isEqualTo(5);
        assertThat(audit.servedCount()).isEqualTo(4);
        assertThat(audit.callsByRequestId()).isEqualTo(Map.of("r1", 2, "r2", 1));
        assertThat(audit.usageByTenant().get("t1")).isEqualTo(new Audit.Usage(2, 20, 10, 30));
        assertThat(audit.usageByTenant().get("t2")).isEqualTo(new Audit.Usage(1, 7, 3, 10));
        assertThat(audit.usageByTenant().get(Audit.NO_TENANT)).isEqualTo(new Audit.Usage(1, 1, 1, 2));
        Audit.Summary summary = audit.summary();
        assertThat(summary.distinctRequestIds()).isEqualTo(2);
        assertThat(summary.duplicateRequestIds()).isEqualTo(1);
        assertThat(summary.servedWithoutRequestId()).isEqualTo(1);
        assertThat(summary.callsByStatus()).isEqualTo(Map.of(200, 4L, 429, 1L));
        assertThat(audit.entries()).extracting(Audit.Entry::seq).containsExactly(1L, 2L, 3L, 4L, 5L);
    }

    @Test
    void shouldForgetCountsOnResetButKeepSequenceIncreasing() {
        Audit audit = Audit.inMemory();
        audit.record("r1", "t1", "m", 200, 10, 5, false);
        audit.reset();

        assertThat(audit.servedCount()).isZero();
        assertThat(audit.entries()).isEmpty();
        assertThat(audit.callsByRequestId()).isEmpty();
        assertThat(audit.usageByTenant()).isEmpty();
        assertThat(audit.record("r1", "t1", "m", 200, 10, 5, false).seq()).isEqualTo(2);
        assertThat(audit.callsByRequestId()).isEqualTo(Map.of("r1", 1));
    }

    @Test
    void shouldRetainOnlyNewestEntriesButCountEveryCall() throws Exception {
        Audit audit = new Audit(null, 3, CLOCK);
        for (int i = 0; i < 10; i++) {
            audit.record("r" + i, "t", "m", 200, 1, 1, false);
        }

        assertThat(audit.entries()).extracting(Audit.Entry::seq).containsExactly(8L, 9L, 10L);
        assertThat(audit.entriesSince(8, 1)).extracting(Audit.Entry::seq).containsExactly(9L);
        assertThat(audit.servedCount()).isEqualTo(10);
        assertThat(audit.callsByRequestId()).hasSize(10);
    }

    @Test
    void shouldAppendEveryEntryAsAJsonLine(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("audit/model-sim.jsonl");
        try (Audit audit = new Audit(file, 10, CLOCK)) {
            audit.record("r1", "t1", "sim-small", 200, 10, 5, true);
            audit.record(null, null, null, 400, 0, 0, false);
            // flushed per line: readable while the audit is still open
            List<String> lines = Files.readAllLines(file);
            assertThat(lines).hasSize(2);
            JsonNode first = json(lines.get(0));
            assertThat(first.path("seq").asLong()).isEqualTo(1);
            assertThat(first.path("requestId").asText()).isEqualTo("r1");
            assertThat(first.path("tenant").asText()).isEqualTo("t1");
            assertThat(first.path("model").asText()).isEqualTo("sim-small");
            assertThat(first.path("status").asInt()).isEqualTo(200);
            assertThat(first.path("promptTokens").asInt()).isEqualTo(10);
            assertThat(first.path("completionTokens").asInt()).isEqualTo(5);
            assertThat(first.path("stream").asBoolean()).isTrue();
            assertThat(first.path("timestamp").asText()).isEqualTo("2025-01-01T00:00:00Z");
            assertThat(json(lines.get(1)).path("requestId").isNull()).isTrue();
        }
        try (Audit reopened = new Audit(file, 10, CLOCK)) {
            reopened.record("r2", "t1", "sim-small", 200, 1, 1, false);
        }
        assertThat(Files.readAllLines(file)).hasSize(3);
    }

    @Test
    void shouldAuditEveryCallAndServeSummaryOverHttp() throws Exception {
        try (ModelSimulator sim = ModelSimulator.start(config())) {
            SimClient client = new SimClient(sim);
            client.chat(chat("sim-small", "one"), "X-LLMQ-Request-Id", "r1", "X-LLMQ-Tenant", "acme");
            client.chat(chat("sim-small", "one"), "X-LLMQ-Request-Id", "r1", "X-LLMQ-Tenant", "acme");
            client.chat(chat("sim-large", "two").put("stream", true), "X-LLMQ-Request-Id", "r2",
                    "X-LLMQ-Tenant", "globex");
            client.postRaw("/v1/chat/completions", "{\"model\":\"sim-small\"}", "X-LLMQ-Request-Id", "r3",
                    "X-LLMQ-Tenant", "acme");

            TokenModel model = sim.tokenModel();
            TokenModel.Completion one = model.complete(List.of(Message.system("You are a test."), Message.user("one")),
                    null);
            TokenModel.Completion two = model.complete(List.of(Message.system("You are a test."), Message.user("two")),
                    null);
            assertThat(sim.audit().servedCount()).isEqualTo(3);
            assertThat(sim.audit().callsByRequestId()).isEqualTo(Map.of("r1", 2, "r2", 1));
            assertThat(sim.audit().usageByTenant().get("acme")).isEqualTo(new Audit.Usage(2,
                    2L * one.promptTokens(), 2L * one.completionTokens(), 2L * one.totalTokens()));

            JsonNode summary = json(client.get("/audit/summary"));
            assertThat(summary.path("calls").asLong()).isEqualTo(4);
            assertThat(summary.path("served").asLong()).isEqualTo(3);
            assertThat(summary.path("distinctRequestIds").asLong()).isEqualTo(2);
            assertThat(summary.path("duplicateRequestIds").asLong()).isEqualTo(1);
            assertThat(summary.path("callsByStatus").path("400").asLong()).isEqualTo(1);
            JsonNode globex = summary.path("tenants").path("globex");
            assertThat(globex.path("calls").asLong()).isEqualTo(1);
            assertThat(globex.path("promptTokens").asLong()).isEqualTo(two.promptTokens());
            assertThat(globex.path("completionTokens").asLong()).isEqualTo(two.completionTokens());

            JsonNode page = json(client.get("/audit?since=1&limit=2"));
            assertThat(page.path("lastSeq").asLong()).isEqualTo(4);
            assertThat(page.path("entries").findValuesAsText("seq")).containsExactly("2", "3");
            JsonNode streamed = page.path("entries").get(1);
            assertThat(streamed.path("requestId").asText()).isEqualTo("r2");
            assertThat(streamed.path("stream").asBoolean()).isTrue();
            assertThat(streamed.path("status").asInt()).isEqualTo(200);
            JsonNode rejected = json(client.get("/audit?since=3")).path("entries").get(0);
            assertThat(rejected.path("status").asInt()).isEqualTo(400);
            assertThat(rejected.path("requestId").asText()).isEqualTo("r3");
            assertThat(client.get("/audit?limit=0").statusCode()).isEqualTo(400);

            assertThat(client.delete("/audit").statusCode()).isEqualTo(204);
            assertThat(json(client.get("/audit/summary")).path("served").asLong()).isZero();
            assertThat(sim.audit().entries()).isEmpty();
        }
    }

    @Test
    void shouldWriteTheAuditFileConfiguredForTheSimulator(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("sim-audit.jsonl");
        try (ModelSimulator sim = ModelSimulator.start(config("modelsim.audit-file", file.toString()))) {
            new SimClient(sim).chat(chat("sim-small", "hi"), "X-LLMQ-Request-Id", "file-1");
            assertThat(Files.readAllLines(file)).singleElement()
                    .satisfies(line -> assertThat(json(line).path("requestId").asText()).isEqualTo("file-1"));
        }
    }
}
