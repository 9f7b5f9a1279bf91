package llmq.worker.model;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import llmq.avro.LlmRequest;
import llmq.avro.Priority;
import llmq.common.config.Settings;
import llmq.modelsim.ModelSimConfig;
import llmq.modelsim.ModelSimulator;
import llmq.modelsim.tokens.TokenModel;
import llmq.worker.testing.Requests;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The HTTP client against the model simulator (plain and streamed answers, error classes,
 * {@code Retry-After}, timeouts) and against a bare server whose stream carries no usage.
 */
class HttpChatCompletionsTest {

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2)).build();
    private ModelSimulator sim;
    private HttpServer bare;

    @AfterEach
    void stop() {
        if (sim != null) {
            sim.close();
        }
        if (bare != null) {
            bare.stop(0);
        }
    }

    private ModelSimulator sim(Map<String, String> settings) throws IOException {
        Map<String, String> s = new HashMap<>(settings);
        s.put(ModelSimConfig.PORT, "0");
        sim = ModelSimulator.start(ModelSimConfig.from(Settings.of(s)));
        return sim;
    }

    private HttpChatCompletions client(String url, boolean stream, Duration timeout) {
        return new HttpChatCompletions("sim", url, null, timeout, stream, http, Clock.systemUTC());
    }

    private static LlmRequest request(String prompt) {
        return Requests.queued("acme", Priority.NORMAL, prompt, Instant.now()).getRequest();
    }

    private static TokenModel.Completion expected(ModelSimulator sim, LlmRequest r) {
        return sim.tokenModel().complete(List.of(TokenModel.Message.user(r.getMessages().get(0).getContent())), null);
    }

    @Test
    void shouldTakeContentAndUsageFromAPlainAnswer() throws Exception {
        sim(Map.of());
        LlmRequest r = request("plain question");
        Completion c = client(sim.baseUrl(), false, Duration.ofSeconds(5)).complete(new ModelCall(r, "sim-small", 1)).join();

        TokenModel.Completion e = expected(sim, r);
        assertThat(c.content()).isEqualTo(e.text());
        assertThat(c.promptTokens()).isEqualTo(e.promptTokens());
        assertThat(c.completionTokens()).isEqualTo(e.completionTokens());
        assertThat(c.estimated()).isFalse();
        assertThat(c.ttftNanos()).isEqualTo(-1);
        assertThat(c.endpoint()).isEqualTo("sim");
        assertThat(sim.audit().callsByRequestId()).containsEntry(r.getId(), 1);
    }

    @Test
    void shouldAssembleAStreamedAnswerAndTakeUsageFromItsFinalChunk() throws Exception {
        sim(Map.of(ModelSimConfig.TTFT, "30ms", ModelSimConfig.STREAM_CHUNK_TOKENS, "3"));
        LlmRequest r = request("streamed question");
        Completion c = client(sim.baseUrl(), true, Duration.ofSeconds(5)).complete(new ModelCall(r, "sim-small", 1)).join();

        TokenModel.Completion e = expected(sim, r);
        assertThat(c.content()).isEqualTo(e.text());
        assertThat(c.finishReason()).isEqualTo(e.finishReason());
        assertThat(c.promptTokens()).isEqualTo(e.promptTokens());
        assertThat(c.completionTokens()).isEqualTo(e.completionTokens());
        assertThat(c.estimated()).isFalse();
        assertThat(c.ttftNanos()).as("the first token came after the simulated time to first token")
                .isGreaterThanOrEqualTo(Duration.ofMillis(30).toNanos());
        assertThat(sim.audit().entries()).singleElement().satisfies(a -> assertThat(a.stream()).isTrue());
    }

    @Test
    void shouldCountTokensAndSayEstimatedWhenAStreamCarriesNoUsage() throws Exception {
        bare = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        bare.createContext("/v1/chat/completions", ex -> {
            ex.getRequestBody().readAllBytes();
            ex.getResponseHeaders().set("Content-Type", "text/event-stream");
            ex.sendResponseHeaders(200, 0);
            try (OutputStream out = ex.getResponseBody()) {
                for (String data : List.of(
                        "{\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}",
                        "{\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hello \"}}]}",
                        "{\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"world, again\"}}]}",
                        "{\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}",
                        "[DONE]")) {
                    out.write(("data: " + data + "\n\n").getBytes(StandardCharsets.UTF_8));
                    out.flush();
                }
            }
        });
        bare.start();
        LlmRequest r = request("no usage please");
        Completion c = client("http://127.0.0.1:" + bare.getAddress().getPort() + "/v1", true, Duration.ofSeconds(5))
                .complete(new ModelCall(r, "m", 1)).join();

        assertThat(c.content()).isEqualTo("Hello world, again");
        assertThat(c.finishReason()).isEqualTo("stop");
        assertThat(c.estimated()).isTrue();
        assertThat(c.promptTokens()).isEqualTo(HttpChatCompletions.estimateTokens(r));
        assertThat(c.completionTokens()).isEqualTo(HttpChatCompletions.estimateTokens("Hello world, again"));
    }

    @Test
    void shouldReportARateLimitWithItsRetryAfter() throws Exception {
        sim(Map.of(ModelSimConfig.RATE_LIMIT_RATE, "1.0", ModelSimConfig.RETRY_AFTER, "2s"));
        for (boolean stream : new boolean[] {false, true}) {
            ModelCallException e = failure(client(sim.baseUrl(), stream, Duration.ofSeconds(5)), request("busy?"));
            assertThat(e.type()).isEqualTo("rate_limited");
            assertThat(e.httpStatus()).isEqualTo(429);
            assertThat(e.retryable()).isTrue();
            assertThat(e.retryAfter()).isEqualTo(Duration.ofSeconds(2));
            assertThat(e.endpointFault()).isFalse();
        }
    }

    @Test
    void shouldReportServerErrorsAsRetryableEndpointFaults() throws Exception {
        sim(Map.of(ModelSimConfig.SERVER_ERROR_RATE, "1.0", ModelSimConfig.SERVER_ERROR_CODES, "500"));
        ModelCallException e = failure(client(sim.baseUrl(), false, Duration.ofSeconds(5)), request("boom"));
        assertThat(e.type()).isEqualTo("server_error");
        assertThat(e.retryable()).isTrue();
        assertThat(e.endpointFault()).isTrue();
    }

    @Test
    void shouldReportARejectedRequestAsFinal() throws Exception {
        sim(Map.of());
        LlmRequest r = request("too hot");
        r.getParams().setTemperature(3.0);
        ModelCallException e = failure(client(sim.baseUrl(), true, Duration.ofSeconds(5)), r);
        assertThat(e.type()).isEqualTo("invalid_request");
        assertThat(e.httpStatus()).isEqualTo(400);
        assertThat(e.retryable()).isFalse();
    }

    @Test
    void shouldTimeOutACallTheEndpointNeverAnswers() throws Exception {
        sim(Map.of(ModelSimConfig.TIMEOUT_RATE, "1.0", ModelSimConfig.HANG, "10s"));
        ModelCallException e = failure(client(sim.baseUrl(), false, Duration.ofMillis(200)), request("hello?"));
        assertThat(e.type()).isEqualTo("timeout");
        assertThat(e.retryable()).isTrue();
    }

    @Test
    void shouldReportAnEndpointThatIsNotThereAsAConnectionFailure() {
        ModelCallException e = failure(client("http://127.0.0.1:1/v1", false, Duration.ofSeconds(2)), request("anyone?"));
        assertThat(e.type()).isEqualTo("connect_error");
        assertThat(e.retryable()).isTrue();
    }

    @Test
    void shouldReadRetryAfterAsSecondsOrAsAnHttpDate() {
        Instant now = Instant.parse("2026-03-01T10:00:00Z");
        assertThat(HttpChatCompletions.parseRetryAfter("3", now)).isEqualTo(Duration.ofSeconds(3));
        assertThat(HttpChatCompletions.parseRetryAfter("0.5", now)).isEqualTo(Duration.ofMillis(500));
        assertThat(HttpChatCompletions.parseRetryAfter("Sun, 01 Mar 2026 10:00:42 GMT", now)).isEqualTo(Duration.ofSeconds(42));
        assertThat(HttpChatCompletions.parseRetryAfter("soon", now)).isNull();
    }

    private static ModelCallException failure(HttpChatCompletions client, LlmRequest r) {
        try {
            client.complete(new ModelCall(r, "sim-small", 1)).join();
        } catch (CompletionException e) {
            assertThat(e.getCause()).isInstanceOf(ModelCallException.class);
            return (ModelCallException) e.getCause();
        }
        throw new AssertionError("the call succeeded");
    }
}
