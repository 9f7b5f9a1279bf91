package llmq.modelsim;

import static llmq.modelsim.SimClient.chat;
import static llmq.modelsim.SimClient.config;
import static llmq.modelsim.SimClient.events;
import static llmq.modelsim.SimClient.json;
import static llmq.modelsim.SimClient.reassemble;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.http.HttpResponse;
import java.util.List;
import llmq.modelsim.tokens.TokenModel;
import llmq.modelsim.tokens.TokenModel.Message;
import org.junit.jupiter.api.Test;

class ChatCompletionsTest {

    private static final List<Message> PROMPT = List.of(Message.system("You are a test."), Message.user("Hi there"));

    @Test
    void shouldAnswerChatCompletionInOpenAiShapeWithPredictableUsage() throws Exception {
        try (ModelSimulator sim = ModelSimulator.start(config())) {
            HttpResponse<String> response = new SimClient(sim).chat(chat("sim-small", "Hi there"));

            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.headers().firstValue("Content-Type")).hasValue("application/json");
            JsonNode body = json(response);
            TokenModel.Completion expected = TokenModel.withDefaults().complete(PROMPT, null);
            assertThat(body.path("id").asText()).startsWith("chatcmpl-");
            assertThat(body.path("object").asText()).isEqualTo("chat.completion");
            assertThat(body.path("created").asLong()).isPositive();
            assertThat(body.path("model").asText()).isEqualTo("sim-small");
            assertThat(body.path("choices")).hasSize(1);
            JsonNode choice = body.path("choices").get(0);
            assertThat(choice.path("index").asInt()).isZero();
            assertThat(choice.path("message").path("role").asText()).isEqualTo("assistant");
            assertThat(choice.path("message").path("content").asText()).isEqualTo(expected.text());
            assertThat(choice.path("finish_reason").asText()).isEqualTo("stop");
            assertThat(body.path("usage").path("prompt_tokens").asInt()).isEqualTo(expected.promptTokens());
            assertThat(body.path("usage").path("completion_tokens").asInt()).isEqualTo(expected.completionTokens());
            assertThat(body.path("usage").path("total_tokens").asInt()).isEqualTo(expected.totalTokens());
            assertThat(expected.text().split(" ")).hasSize(expected.completionTokens());
        }
    }

    @Test
    void shouldAnswerTheSameRequestWithTheSameTextAndUsage() throws Exception {
        try (ModelSimulator sim = ModelSimulator.start(config())) {
            SimClient client = new SimClient(sim);
            JsonNode first = json(client.chat(chat("sim-large", "Same question")));
            JsonNode second = json(client.chat(chat("sim-large", "Same question")));
            JsonNode other = json(client.chat(chat("sim-large", "Another question")));

            assertThat(second.path("choices")).isEqualTo(first.path("choices"));
            assertThat(second.path("usage")).isEqualTo(first.path("usage"));
            assertThat(second.path("id")).isNotEqualTo(first.path("id"));
            assertThat(other.path("choices").get(0).path("message").path("content"))
                    .isNotEqualTo(first.path("choices").get(0).path("message").path("content"));
        }
    }

    @Test
    void shouldCapCompletionAtMaxTokensWithFinishReasonLength() throws Exception {
        try (ModelSimulator sim = ModelSimulator.start(config())) {
            SimClient client = new SimClient(sim);
            TokenModel.Completion full = sim.tokenModel().complete(PROMPT, null);

            JsonNode capped = json(client.chat(chat("sim-small", "Hi there").put("max_tokens", 3)));
            JsonNode cappedNew = json(client.chat(chat("sim-small", "Hi there").put("max_completion_tokens", 2)));

            assertThat(capped.path("choices").get(0).path("finish_reason").asText()).isEqualTo("length");
            assertThat(capped.path("usage").path("completion_tokens").asInt()).isEqualTo(3);
            assertThat(capped.path("choices").get(0).path("message").path("content").asText())
                    .isEqualTo(String.join(" ", full.words().subList(0, 3)));
            assertThat(cappedNew.path("usage").path("completion_tokens").asInt()).isEqualTo(2);
            assertThat(cappedNew.path("choices").get(0).path("finish_reason").asText()).isEqualTo("length");
        }
    }

    @Test
    void shouldAnswerStreamedCompletionWithUsageChunkAndDone() throws Exception {
        try (ModelSimulator sim = ModelSimulator.start(config("modelsim.per-token", "1ms"))) {
            SimClient client = new SimClient(sim);
            String plain = json(client.chat(chat("sim-small", "Hi there")))
                    .path("choices").get(0).path("message").path("content").asText();
            ObjectNode request = chat("sim-small", "Hi there").put("stream", true);
            request.putObject("stream_options").put("include_usage", true);

            HttpResponse<String> response = client.chat(request);

            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.headers().firstValue("Content-Type").orElse("")).startsWith("text/event-stream");
            List<String> events = events(response.body());
            TokenModel.Completion expected = sim.tokenModel().complete(PROMPT, null);
            // role chunk, one chunk per token, finish chunk, usage chunk, [DONE]
            assertThat(events).hasSize(1 + expected.completionTokens() + 1 + 1 + 1);
            assertThat(events.get(events.size() - 1)).isEqualTo("[DONE]");
            JsonNode first = json(events.get(0));
            assertThat(first.path("object").asText()).isEqualTo("chat.completion.chunk");
            assertThat(first.path("id").asText()).startsWith("chatcmpl-");
            assertThat(first.path("choices").get(0).path("delta").path("role").asText()).isEqualTo("assistant");
            JsonNode finish = json(events.get(events.size() - 3));
            assertThat(finish.path("choices").get(0).path("finish_reason").asText()).isEqualTo("stop");
            JsonNode usage = json(events.get(events.size() - 2));
            assertThat(usage.path("choices")).isEmpty();
            assertThat(usage.path("usage").path("prompt_tokens").asInt()).isEqualTo(expected.promptTokens());
            assertThat(usage.path("usage").path("completion_tokens").asInt()).isEqualTo(expected.completionTokens());
            assertThat(usage.path("usage").path("total_tokens").asInt()).isEqualTo(expected.totalTokens());
            assertThat(reassemble(events)).isEqualTo(plain).isEqualTo(expected.text());
        }
    }

    @Test
    void shouldStreamSeveralTokensPerChunkWithoutUsageChunkWhenNotRequested() throws Exception {
        try (ModelSimulator sim = ModelSimulator.start(config("modelsim.stream.chunk-tokens", "4",
                "modelsim.ttft", "20ms", "modelsim.per-token", "2ms"))) {
            HttpResponse<String> response = new SimClient(sim)
                    .chat(chat("sim-small", "Hi there").put("stream", true).put("max_tokens", 10));

            List<String> events = events(response.body());
            // role chunk, 4 + 4 + 2 tokens, finish chunk, [DONE]
            assertThat(events).hasSize(1 + 3 + 1 + 1);
            assertThat(events.get(events.size() - 1)).isEqualTo("[DONE]");
            JsonNode finish = json(events.get(events.size() - 2));
            assertThat(finish.path("choices").get(0).path("finish_reason").asText()).isEqualTo("length");
            assertThat(finish.has("usage")).isFalse();
            assertThat(reassemble(events)).isEqualTo(sim.tokenModel().complete(PROMPT, 10).text());
        }
    }

    @Test
    void shouldRejectMissingMessagesWith400NamingTheParam() throws Exception {
        try (ModelSimulator sim = ModelSimulator.start(config())) {
            HttpResponse<String> response = new SimClient(sim).postRaw("/v1/chat/completions", "{\"model\":\"sim-small\"}");

            assertThat(response.statusCode()).isEqualTo(400);
            JsonNode error = json(response).path("error");
            assertThat(error.path("type").asText()).isEqualTo("invalid_request_error");
            assertThat(error.path("param").asText()).isEqualTo("messages");
            assertThat(error.path("code").asText()).isEqualTo("missing_required_parameter");
            assertThat(error.path("message").asText()).contains("messages");
        }
    }

    @Test
    void shouldRejectInvalidRequestsWith400NamingTheParam() throws Exception {
        try (ModelSimulator sim = ModelSimulator.start(config())) {
            SimClient client = new SimClient(sim);
            String messages = "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]";

            assertThat(error(client.postRaw("/v1/chat/completions", "{" + messages + "}"), 400).path("param").asText())
                    .isEqualTo("model");
            assertThat(error(client.postRaw("/v1/chat/completions", "{\"model\":3," + messages + "}"), 400)
                    .path("code").asText()).isEqualTo("invalid_type");
            assertThat(error(client.postRaw("/v1/chat/completions", "{\"model\":\"m\",\"messages\":[]}"), 400)
                    .path("code").asText()).isEqualTo("empty_array");
            assertThat(error(client.postRaw("/v1/chat/completions",
                    "{\"model\":\"m\",\"messages\":[{\"role\":\"robot\",\"content\":\"x\"}]}"), 400)
                    .path("param").asText()).isEqualTo("messages[0].role");
            assertThat(error(client.postRaw("/v1/chat/completions", "{\"model\":\"m\"," + messages
                    + ",\"max_tokens\":0}"), 400).path("param").asText()).isEqualTo("max_tokens");
            assertThat(error(client.postRaw("/v1/chat/completions", "{not json"), 400).path("type").asText())
                    .isEqualTo("invalid_request_error");
            assertThat(error(client.get("/v1/chat/completions"), 405).path("type").asText())
                    .isEqualTo("invalid_request_error");
        }
    }

    @Test
    void shouldAnswerModelNotFoundOnlyWhenModelsAreConfigured() throws Exception {
        try (ModelSimulator open = ModelSimulator.start(config());
                ModelSimulator strict = ModelSimulator.start(config("modelsim.models", "gpt-sim"))) {
            assertThat(new SimClient(open).chat(chat("whatever-model", "hi")).statusCode()).isEqualTo(200);

            SimClient client = new SimClient(strict);
            JsonNode error = error(client.chat(chat("whatever-model", "hi")), 404);
            assertThat(error.path("code").asText()).isEqualTo("model_not_found");
            assertThat(client.chat(chat("gpt-sim", "hi")).statusCode()).isEqualTo(200);
        }
    }

    @Test
    void shouldRequireBearerApiKeyWhenConfigured() throws Exception {
        try (ModelSimulator sim = ModelSimulator.start(config("modelsim.api-key", "sk-sim-123"))) {
            SimClient client = new SimClient(sim);

            JsonNode missing = error(client.chat(chat("sim-small", "hi")), 401);
            JsonNode wrong = error(client.chat(chat("sim-small", "hi"), "Authorization", "Bearer sk-wrong"), 401);
            HttpResponse<String> right = client.chat(chat("sim-small", "hi"), "Authorization", "Bearer sk-sim-123");

            assertThat(missing.path("type").asText()).isEqualTo("invalid_request_error");
            assertThat(wrong.path("code").asText()).isEqualTo("invalid_api_key");
            assertThat(wrong.toString()).doesNotContain("sk-wrong");
            assertThat(right.statusCode()).isEqualTo(200);
            assertThat(client.get("/v1/models").statusCode()).isEqualTo(401);
            assertThat(client.get("/health").statusCode()).isEqualTo(200);
        }
    }

    @Test
    void shouldListConfiguredModels() throws Exception {
        try (ModelSimulator defaults = ModelSimulator.start(config());
                ModelSimulator configured = ModelSimulator.start(config("modelsim.models", "m1,m2,m3"))) {
            JsonNode list = json(new SimClient(defaults).get("/v1/models"));
            assertThat(list.path("object").asText()).isEqualTo("list");
            assertThat(list.path("data").findValuesAsText("id")).containsExactly("sim-small", "sim-large");
            JsonNode first = list.path("data").get(0);
            assertThat(first.path("object").asText()).isEqualTo("model");
            assertThat(first.path("owned_by").asText()).isEqualTo("llmq-sim");
            assertThat(first.path("created").asLong()).isPositive();

            SimClient client = new SimClient(configured);
            assertThat(json(client.get("/v1/models")).path("data").findValuesAsText("id"))
                    .containsExactly("m1", "m2", "m3");
            assertThat(json(client.get("/v1/models/m2")).path("id").asText()).isEqualTo("m2");
            assertThat(client.get("/v1/models/m4").statusCode()).isEqualTo(404);
        }
    }

    @Test
    void shouldAnswerHealthAndUnknownPaths() throws Exception {
        try (ModelSimulator sim = ModelSimulator.start(config())) {
            SimClient client = new SimClient(sim);
            HttpResponse<String> health = client.get("/health");
            assertThat(health.statusCode()).isEqualTo(200);
            assertThat(json(health).path("status").asText()).isEqualTo("UP");
            assertThat(error(client.get("/v1/nothing"), 404).path("message").asText()).contains("/v1/nothing");
        }
    }

    @Test
    void shouldBuildBaseUrlFromTheBoundPort() throws Exception {
        try (ModelSimulator sim = ModelSimulator.start(config())) {
            assertThat(sim.port()).isPositive();
            assertThat(sim.baseUrl()).isEqualTo("http://127.0.0.1:" + sim.port() + "/v1");
        }
    }

    private static JsonNode error(HttpResponse<String> response, int status) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
        JsonNode error = json(response).path("error");
        assertThat(error.isObject()).as(response.body()).isTrue();
        assertThat(error.has("message") && error.has("type") && error.has("param") && error.has("code")).isTrue();
        return error;
    }
}
