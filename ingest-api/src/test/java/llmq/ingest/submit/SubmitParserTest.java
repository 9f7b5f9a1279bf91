package llmq.ingest.submit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import llmq.avro.Priority;
import llmq.common.json.Json;
import org.junit.jupiter.api.Test;

class SubmitParserTest {

    private final SubmitParser parser = new SubmitParser(3, 2);

    private static JsonNode json(String s) throws Exception {
        return Json.mapper().readTree(s);
    }

    private InvalidRequestException rejected(String body) throws Exception {
        JsonNode n = json(body);
        return (InvalidRequestException) org.assertj.core.api.Assertions.catchThrowable(() -> parser.parse(n));
    }

    @Test
    void shouldParseAFullRequest() throws Exception {
        SubmitRequest r = parser.parse(json("{\"model\":\"m\",\"messages\":[{\"role\":\"system\",\"content\":\"be brief\"},"
                + "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"hel\"},{\"type\":\"text\",\"text\":\"lo\"}]}],"
                + "\"priority\":\"HIGH\",\"max_tokens\":10,\"temperature\":0.5,\"stop\":\"\\n\",\"idempotency_key\":\"k\","
                + "\"metadata\":{\"team\":\"a\"},\"not_before\":\"2026-01-01T00:00:00Z\",\"deadline\":1767229200}"));
        assertThat(r.model()).isEqualTo("m");
        assertThat(r.messages()).extracting(SubmitRequest.Message::content).containsExactly("be brief", "hello");
        assertThat(r.priority()).isEqualTo(Priority.HIGH);
        assertThat(r.maxTokens()).isEqualTo(10);
        assertThat(r.stop()).containsExactly("\n");
        assertThat(r.metadata()).containsEntry("team", "a");
        assertThat(r.notBefore()).isEqualTo(Instant.parse("2026-01-01T00:00:00Z"));
        assertThat(r.deadline()).isEqualTo(Instant.ofEpochSecond(1767229200));
    }

    @Test
    void shouldNameEveryMissingRequiredField() throws Exception {
        InvalidRequestException e = rejected("{}");
        assertThat(e.errors()).extracting(FieldError::field).containsExactly("model", "messages");
        assertThat(e.getMessage()).isEqualTo("model: is required");
    }

    @Test
    void shouldNameTheMessageAndFieldThatIsWrong() throws Exception {
        InvalidRequestException e = rejected("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"a\"},"
                + "{\"role\":\"robot\",\"content\":\"b\"},{\"role\":\"user\",\"content\":7}]}");
        assertThat(e.errors()).extracting(FieldError::field).containsExactly("messages[1].role", "messages[2].content");
    }

    @Test
    void shouldRejectUnknownFieldsSoTyposAreNotIgnored() throws Exception {
        assertThat(rejected("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"a\"}],\"max_token\":5}").errors())
                .singleElement().isEqualTo(new FieldError("max_token", "is not a known field"));
    }

    @Test
    void shouldRejectOutOfRangeParameters() throws Exception {
        InvalidRequestException e = rejected("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"a\"}],"
                + "\"temperature\":3,\"max_tokens\":0,\"priority\":\"urgent\"}");
        assertThat(e.errors()).extracting(FieldError::field).containsExactlyInAnyOrder("temperature", "max_tokens", "priority");
    }

    @Test
    void shouldRejectADeadlineBeforeNotBefore() throws Exception {
        assertThat(rejected("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"a\"}],"
                + "\"not_before\":\"2026-01-02T00:00:00Z\",\"deadline\":\"2026-01-01T00:00:00Z\"}").errors())
                .extracting(FieldError::field).containsExactly("deadline");
    }

    @Test
    void shouldEnforceMessageAndMetadataLimits() throws Exception {
        assertThat(rejected("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"a\"},{\"role\":\"user\",\"content\":\"a\"},"
                + "{\"role\":\"user\",\"content\":\"a\"},{\"role\":\"user\",\"content\":\"a\"}]}").errors())
                .extracting(FieldError::field).containsExactly("messages");
        assertThat(rejected("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"a\"}],"
                + "\"metadata\":{\"a\":\"1\",\"b\":\"2\",\"c\":\"3\"}}").errors())
                .extracting(FieldError::field).containsExactly("metadata");
    }

    @Test
    void shouldRejectABodyThatIsNotAnObject() {
        assertThatThrownBy(() -> parser.parse(json("[1,2]"))).isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining("body");
    }
}
