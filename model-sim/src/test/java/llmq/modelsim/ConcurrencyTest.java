package llmq.modelsim;

import static llmq.modelsim.SimClient.chat;
import static llmq.modelsim.SimClient.config;
import static llmq.modelsim.SimClient.events;
import static llmq.modelsim.SimClient.json;
import static llmq.modelsim.SimClient.reassemble;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import llmq.modelsim.tokens.TokenModel;
import llmq.modelsim.tokens.TokenModel.Message;
import org.junit.jupiter.api.Test;

/**
 * Hundreds of slow calls at once on two HTTP threads: this only works if a waiting call holds no
 * thread. Correctness is asserted; the elapsed time is printed for information only.
 */
class ConcurrencyTest {

    private static final int CALLS = 300;

    @Test
    void shouldServe300ConcurrentDelayedCallsWithoutAThreadPerCall() throws Exception {
        try (ModelSimulator sim = ModelSimulator.start(config("modelsim.ttft", "200ms", "modelsim.threads", "2",
                "modelsim.scheduler-threads", "1", "modelsim.jitter", "0.1"))) {
            SimClient client = new SimClient(sim);
            long start = System.nanoTime();
            List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
            for (int i = 0; i < CALLS; i++) {
                calls.add(client.chatAsync(chat("sim-small", "call " + i), "X-LLMQ-Request-Id", "c-" + i,
                        "X-LLMQ-Tenant", "t" + (i % 3)));
            }
            CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).get(120, TimeUnit.SECONDS);
            long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            System.out.printf("%d concurrent calls with 200 ms latency took %d ms (peak in flight %d)%n",
                    CALLS, elapsedMs, sim.peakInFlight());

            for (int i = 0; i < CALLS; i++) {
                HttpResponse<String> response = calls.get(i).join();
                assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
                TokenModel.Completion expected = sim.tokenModel().complete(
                        List.of(Message.system("You are a test."), Message.user("call " + i)), null);
                JsonNode body = json(response);
                assertThat(body.path("choices").get(0).path("message").path("content").asText())
                        .isEqualTo(expected.text());
                assertThat(body.path("usage").path("completion_tokens").asInt()).isEqualTo(expected.completionTokens());
            }
            assertThat(sim.audit().servedCount()).isEqualTo(CALLS);
            assertThat(sim.audit().callsByRequestId()).hasSize(CALLS).allSatisfy((id, n) -> assertThat(n).isOne());
            // More calls waited at once than there are threads: waiting holds no thread.
            assertThat(sim.peakInFlight()).isGreaterThan(2 + 1);
            assertThat(sim.inFlight()).isZero();
        }
    }

    @Test
    void shouldStream300ConcurrentCallsWithPerTokenLatency() throws Exception {
        try (ModelSimulator sim = ModelSimulator.start(config("modelsim.ttft", "50ms", "modelsim.per-token", "5ms",
                "modelsim.stream.chunk-tokens", "4", "modelsim.threads", "2", "modelsim.scheduler-threads", "2"))) {
            SimClient client = new SimClient(sim);
            long start = System.nanoTime();
            List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
            for (int i = 0; i < CALLS; i++) {
                calls.add(client.chatAsync(chat("sim-small", "stream " + i).put("stream", true)));
            }
            CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).get(120, TimeUnit.SECONDS);
            System.out.printf("%d concurrent streams took %d ms (peak in flight %d)%n", CALLS,
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start), sim.peakInFlight());

            for (int i = 0; i < CALLS; i++) {
                HttpResponse<String> response = calls.get(i).join();
                assertThat(response.statusCode()).isEqualTo(200);
                List<String> events = events(response.body());
                assertThat(events.get(events.size() - 1)).isEqualTo("[DONE]");
                assertThat(reassemble(events)).isEqualTo(sim.tokenModel().complete(
                        List.of(Message.system("You are a test."), Message.user("stream " + i)), null).text());
            }
            assertThat(sim.audit().servedCount()).isEqualTo(CALLS);
            assertThat(sim.peakInFlight()).isGreaterThan(2 + 2);
        }
    }
}
