package llmq.ingest.batches;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.List;
import llmq.ingest.submit.InvalidRequestException;
import llmq.ingest.submit.SubmitParser;
import org.junit.jupiter.api.Test;

class BatchParserTest {

    private final BatchParser parser = new BatchParser(new SubmitParser(10, 10), 3, 1024);

    private static byte[] lines(String... l) {
        return String.join("\n", l).getBytes(StandardCharsets.UTF_8);
    }

    private static final String OK = "\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]";

    @Test
    void shouldReadNativeAndOpenAiLinesKeepingCustomIdsAndSkippingBlankLines() {
        List<BatchParser.Line> out = parser.parse(lines("{\"custom_id\":\"a\"," + OK + "}", "",
                "{\"custom_id\":\"b\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{" + OK + ",\"max_completion_tokens\":5}}\r"));
        assertThat(out).extracting(BatchParser.Line::number).containsExactly(1, 3);
        assertThat(out).extracting(l -> l.request().customId()).containsExactly("a", "b");
        assertThat(out.get(1).request().maxTokens()).isEqualTo(5);
    }

    @Test
    void shouldNameTheLineAndFieldOfTheFirstBadLine() {
        assertThatThrownBy(() -> parser.parse(lines("{\"custom_id\":\"a\"," + OK + "}", "{\"custom_id\":\"b\",\"model\":\"m\"}")))
                .isInstanceOfSatisfying(InvalidBatchLineException.class, e -> {
                    assertThat(e.line()).isEqualTo(2);
                    assertThat(e.errors().get(0).field()).isEqualTo("messages");
                    assertThat(e.getMessage()).startsWith("line 2: messages");
                });
        assertThatThrownBy(() -> parser.parse(lines("{" + OK + "}")))
                .isInstanceOfSatisfying(InvalidBatchLineException.class, e -> assertThat(e.errors().get(0).field()).isEqualTo("custom_id"));
        assertThatThrownBy(() -> parser.parse(lines("{\"custom_id\":\"a\"," + OK + "}", "{\"custom_id\":\"a\"," + OK + "}")))
                .isInstanceOfSatisfying(InvalidBatchLineException.class, e -> {
                    assertThat(e.line()).isEqualTo(2);
                    assertThat(e.getMessage()).contains("earlier line");
                });
        assertThatThrownBy(() -> parser.parse(lines("{\"custom_id\":\"a\"," + OK + "}", "not json")))
                .isInstanceOfSatisfying(InvalidBatchLineException.class, e -> assertThat(e.line()).isEqualTo(2));
    }

    @Test
    void shouldRefuseEmptyOversizedAndTooLongBatches() {
        assertThatThrownBy(() -> parser.parse(lines("", " "))).isInstanceOf(InvalidRequestException.class);
        String line = "{\"custom_id\":\"%s\"," + OK + "}";
        assertThatThrownBy(() -> parser.parse(lines(line.formatted(1), line.formatted(2), line.formatted(3), line.formatted(4))))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("more than 3");
        assertThatThrownBy(() -> parser.parse(lines("{\"custom_id\":\"a\"," + OK.replace("hi", "x".repeat(2000)) + "}")))
                .isInstanceOfSatisfying(InvalidBatchLineException.class, e -> assertThat(e.getMessage()).contains("larger than 1024"));
    }
}
