package llmq.ingest.openai;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import llmq.avro.LlmResult;
import llmq.avro.Priority;
import llmq.avro.ResultStatus;
import llmq.avro.Usage;
import llmq.common.json.Json;
import llmq.ingest.submit.InvalidRequestException;
import llmq.ingest.submit.SubmitParser;
import org.junit.jupiter.api.Test;

/** The OpenAI request mapping and response formats, without a server. */
class ChatFormatTest {

    private final ChatRequestParser parser = new ChatRequestParser(new SubmitParser(100, 16));

    private static JsonNode json(String s) throws Exception {
        return Json.mapper().readTree(s);
    }

    private static LlmResult result(String output) {
        return LlmResult.newBuilder().setRequestId("r1").setTenantId("t").setStatus(ResultStatus.COMPLETED).setModel("m")
                .setServedModel("m-2026").setOutput(output).setFinishReason("stop").setUsage(new Usage(5, 7, 0, false))
                .setAttempts(1).setSubmittedAt(Instant.ofEpochSecond(1_700_000_000)).setCompletedAt(Instant.now()).build();
    }

    @Test
    void shouldMapOpenAiParametersAndPassTheRestThrough() throws Exception {
        ChatRequestParser.ChatRequest c = parser.parse(json("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":"
                + "[{\"type\":\"text\",\"text\":\"a\"},{\"type\":\"text\",\"text\":\"b\"}]}],\"max_completion_tokens\":9,"
                + "\"stream\":true,\"stream_options\":{\"include_usage\":true},\"user\":\"u1\",\"response_format\":{\"type\":\"text\"},"
                + "\"priority\":\"low\"}"), "high", "idem-1");
        assertThat(c.stream()).isTrue();
        assertThat(c.includeUsage()).isTrue();
        assertThat(c.request().priority()).as("the header wins").isEqualTo(Priority.HIGH);
        assertThat(c.request().idempotencyKey()).isEqualTo("idem-1");
        assertThat(c.request().maxTokens()).isEqualTo(9);
        assertThat(c.request().messages().get(0).content()).isEqualTo("ab");
        assertThat(c.request().extra()).containsEntry("user", "\"u1\"").containsEntry("response_format", "{\"type\":\"text\"}")
                .doesNotContainKeys("stream", "priority", "max_completion_tokens");
    }

    @Test
    void shouldNameTheOpenAiParameterAtFault() {
        assertThatThrownBy(() -> parser.parse(json("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"n\":2}"), null, null))
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.errors().get(0).field()).isEqualTo("n"));
        assertThatThrownBy(() -> parser.parse(json("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
                + "\"max_completion_tokens\":-1}"), null, null))
                .isInstanceOfSatisfying(InvalidRequestException.class,
                        e -> assertThat(e.errors().get(0).field()).isEqualTo("max_completion_tokens"));
        assertThatThrownBy(() -> parser.parse(json("{\"messages\":[]}"), null, null))
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.errors()).extracting(f -> f.field())
                        .contains("model", "messages"));
    }

    @Test
    void shouldAnswerAChatCompletionObject() {
        JsonNode c = ChatResponses.completion("r1", "m", result("hello there"));
        assertThat(c.path("id").asText()).isEqualTo("chatcmpl-r1");
        assertThat(c.path("object").asText()).isEqualTo("chat.completion");
        assertThat(c.path("model").asText()).isEqualTo("m-2026");
        assertThat(c.path("choices").get(0).path("message").path("content").asText()).isEqualTo("hello there");
        assertThat(c.path("choices").get(0).path("finish_reason").asText()).isEqualTo("stop");
        assertThat(c.path("usage").path("total_tokens").asInt()).isEqualTo(12);
    }

    @Test
    void shouldStreamRoleContentFinishAndUsageChunksThenDone() throws Exception {
        String output = "one two three four five six seven eight nine";
        String sse = ChatResponses.stream("r1", "m", result(output), true);
        assertThat(sse).endsWith("data: [DONE]\n\n");
        List<JsonNode> chunks = new ArrayList<>();
        for (String event : sse.split("\n\n")) {
            assertThat(event).startsWith("data: ");
            String data = event.substring(6);
            if (!data.equals("[DONE]")) {
                chunks.add(json(data));
            }
        }
        assertThat(chunks.get(0).path("choices").get(0).path("delta").path("role").asText()).isEqualTo("assistant");
        StringBuilder content = new StringBuilder();
        for (JsonNode c : chunks) {
            assertThat(c.path("object").asText()).isEqualTo("chat.completion.chunk");
            assertThat(c.path("id").asText()).isEqualTo("chatcmpl-r1");
            if (c.path("choices").size() > 0) {
                content.append(c.path("choices").get(0).path("delta").path("content").asText(""));
            }
        }
        assertThat(content.toString()).isEqualTo(output);
        JsonNode finish = chunks.get(chunks.size() - 2);
        assertThat(finish.path("choices").get(0).path("finish_reason").asText()).isEqualTo("stop");
        JsonNode usage = chunks.get(chunks.size() - 1);
        assertThat(usage.path("choices")).isEmpty();
        assertThat(usage.path("usage").path("completion_tokens").asInt()).isEqualTo(7);
        assertThat(chunks.size()).as("role, 3 content chunks of 4 words, finish, usage").isEqualTo(6);
    }
}
