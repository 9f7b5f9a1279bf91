package llmq.modelsim;

import static llmq.modelsim.SimClient.chat;
import static llmq.modelsim.SimClient.config;
import static llmq.modelsim.SimClient.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import llmq.modelsim.audit.Audit;
import llmq.modelsim.faults.FaultSettings;
import org.junit.jupiter.api.Test;

class FaultInjectionTest {

    @Test
    void shouldAnswer429WithRetryAfterWhenRateLimitRateIsOne() throws Exception {
        try (ModelSimulator sim = ModelSimulator.start(config("modelsim.fail.rate-limit-rate", "1.0",
                "modelsim.fail.retry-after", "2500ms"))) {
            HttpResponse<String> response = new SimClient(sim).chat(chat("sim-small", "hi"));

            assertThat(response.statusCode()).isEqualTo(429);
            assertThat(response.headers().firstValue("Retry-After")).hasValue("3");
            assertThat(response.headers().firstValue("retry-after-ms")).hasValue("2500");
            assertThat(json(response).path("error").path("code").asText()).isEqualTo("rate_limit_exceeded");
            assertThat(sim.audit().entries()).extracting(Audit.Entry::status).containsExactly(429);
            assertThat(sim.audit().servedCount()).isZero();
        }
    }

    @Test
    void shouldAnswerServerErrorsWhenServerErrorRateIsOne() throws Exception {
        try (ModelSimulator five = ModelSimulator.start(config("modelsim.fail.server-error-rate", "1",
                "modelsim.fail.server-error-codes", "500"));
                ModelSimulator unavailable = ModelSimulator.start(config("modelsim.fail.server-error-rate", "1",
                        "modelsim.fail.server-error-codes", "503"))) {
            HttpResponse<String> error = new SimClient(five).chat(chat("sim-small", "hi"));
            HttpResponse<String> overloaded = new SimClient(unavailable).chat(chat("sim-small", "hi"));

            assertThat(error.statusCode()).isEqualTo(500);
            assertThat(json(error).path("error").path("type").asText()).isEqualTo("server_error");
            assertThat(overloaded.statusCode()).isEqualTo(503);
            assertThat(overloaded.headers().firstValue("Retry-After")).hasValue("1");
        }
    }

    @Test
    void shouldCloseTimedOutCallAfterHang() throws Exception {
        try (ModelSimulator sim = ModelSimulator.start(config("modelsim.fail.timeout-rate", "1",
                "modelsim.fail.hang", "300ms"))) {
            SimClient client = new SimClient(sim);

            assertThatThrownBy(() -> client.chat(chat("sim-small", "hi"), "X-LLMQ-Request-Id", "hung-1"))
                    .isInstanceOf(IOException.class)
                    .isNotInstanceOf(HttpTimeoutException.class);
            assertThat(sim.inFlight()).isZero();
            assertThat(sim.audit().entries()).singleElement()
                    .satisfies(e -> {
                        assertThat(e.status()).isEqualTo(Audit.NOT_ANSWERED);
                        assertThat(e.requestId()).isEqualTo("hung-1");
                    });

            sim.faults().clear();
            assertThat(client.chat(chat("sim-small", "hi")).statusCode()).isEqualTo(200);
        }
    }

    @Test
    void shouldCloseHangingCallsOnShutdown() throws Exception {
        ModelSimulator sim = ModelSimulator.start(config("modelsim.fail.timeout-rate", "1"));
        CompletableFuture<HttpResponse<String>> call;
        try {
            call = new SimClient(sim).chatAsync(chat("sim-small", "hi"));
            SimClient.await(() -> sim.inFlight() == 1, Duration.ofSeconds(10), "the call to hang");
        } finally {
            sim.close();
        }

        assertThat(sim.inFlight()).isZero();
        assertThatThrownBy(() -> call.get(20, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class)
                .hasCauseInstanceOf(IOException.class);
    }

    @Test
    void shouldCloseDelayedCallsOnShutdownWithoutRecordingThemServed() throws Exception {
        ModelSimulator sim = ModelSimulator.start(config("modelsim.ttft", "60s"));
        CompletableFuture<HttpResponse<String>> call;
        try {
            call = new SimClient(sim).chatAsync(chat("sim-small", "hi").put("stream", true));
            SimClient.await(() -> sim.inFlight() == 1, Duration.ofSeconds(10), "the call to be accepted");
        } finally {
            sim.close();
        }

        assertThatThrownBy(() -> call.get(20, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class);
        assertThat(sim.audit().entries()).extracting(Audit.Entry::status).containsExactly(Audit.NOT_ANSWERED);
        assertThat(sim.audit().servedCount()).isZero();
    }

    @Test
    void shouldChangeFaultsAtRuntimeThroughAdminEndpoint() throws Exception {
        try (ModelSimulator sim = ModelSimulator.start(config())) {
            SimClient client = new SimClient(sim);
            assertThat(client.chat(chat("sim-small", "hi")).statusCode()).isEqualTo(200);

            HttpResponse<String> update = client.postRaw("/admin/faults",
                    "{\"rateLimitRate\":1.0,\"retryAfter\":\"4s\"}");

            assertThat(update.statusCode()).isEqualTo(200);
            assertThat(json(update).path("rateLimitRate").asDouble()).isEqualTo(1.0);
            JsonNode current = json(client.get("/admin/faults"));
            assertThat(current.path("rateLimitRate").asDouble()).isEqualTo(1.0);
            assertThat(current.path("retryAfter").asText()).isEqualTo("4000ms");
            assertThat(current.path("hang").asText()).isEqualTo("60000ms");
            assertThat(sim.faults().current().retryAfter()).isEqualTo(Duration.ofSeconds(4));
            HttpResponse<String> limited = client.chat(chat("sim-small", "hi"));
            assertThat(limited.statusCode()).isEqualTo(429);
            assertThat(limited.headers().firstValue("Retry-After")).hasValue("4");

            sim.faults().set(FaultSettings.NONE.withServerErrorRate(1.0).withServerErrorCodes(List.of(502)));
            assertThat(client.chat(chat("sim-small", "hi")).statusCode()).isEqualTo(502);
            assertThat(client.postRaw("/admin/faults", "{\"serverErrorRate\":0}").statusCode()).isEqualTo(200);
            assertThat(client.chat(chat("sim-small", "hi")).statusCode()).isEqualTo(200);
        }
    }

    @Test
    void shouldRejectInvalidFaultSettingsWith400AndKeepTheOldOnes() throws Exception {
        try (ModelSimulator sim = ModelSimulator.start(config("modelsim.fail.rate-limit-rate", "0.5"))) {
            SimClient client = new SimClient(sim);

            assertThat(client.postRaw("/admin/faults", "{\"timeoutRate\":0.6}").statusCode()).isEqualTo(400);
            assertThat(client.postRaw("/admin/faults", "{\"rateLimitRate\":-1}").statusCode()).isEqualTo(400);
            assertThat(client.postRaw("/admin/faults", "{\"ratelimitrate\":0.1}").statusCode()).isEqualTo(400);
            assertThat(client.postRaw("/admin/faults", "{\"hang\":\"forever\"}").statusCode()).isEqualTo(400);
            assertThat(client.postRaw("/admin/faults", "[]").statusCode()).isEqualTo(400);

            assertThat(sim.faults().current()).isEqualTo(SimClient.config("modelsim.fail.rate-limit-rate", "0.5")
                    .faults());
        }
    }

    @Test
    void shouldFailTheSameCallsForTheSameSeed() throws Exception {
        String[] settings = {"modelsim.fail.rate-limit-rate", "0.3", "modelsim.fail.server-error-rate", "0.3",
            "modelsim.seed", "1234"};
        List<Integer> first = statuses(settings);
        List<Integer> second = statuses(settings);

        assertThat(second).isEqualTo(first);
        assertThat(first).contains(200, 429).containsAnyOf(500, 503);
    }

    private static List<Integer> statuses(String... settings) throws Exception {
        List<Integer> out = new ArrayList<>();
        try (ModelSimulator sim = ModelSimulator.start(config(settings))) {
            SimClient client = new SimClient(sim);
            for (int i = 0; i < 40; i++) {
                out.add(client.chat(chat("sim-small", "call " + i)).statusCode());
            }
        }
        return out;
    }
}
