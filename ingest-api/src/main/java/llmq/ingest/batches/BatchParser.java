package llmq.ingest.batches;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import llmq.common.json.Json;
import llmq.ingest.openai.ChatRequestParser;
import llmq.ingest.submit.FieldError;
import llmq.ingest.submit.InvalidRequestException;
import llmq.ingest.submit.SubmitParser;
import llmq.ingest.submit.SubmitRequest;

/**
 * Reads the JSONL body of {@code POST /v1/batches}: one request per line, each with a
 * {@code custom_id} unique within the batch. A line is either a native request with a
 * {@code custom_id} field, or OpenAI's batch format {@code {"custom_id", "method": "POST",
 * "url": "/v1/chat/completions", "body": {...}}}. Blank lines are skipped. Every line is
 * validated before anything is submitted; the first bad line fails the whole batch with its line
 * number and fields.
 */
public final class BatchParser {

    /** One parsed line: its number (from 1) and the request. */
    public record Line(int number, SubmitRequest request) {
    }

    private final SubmitParser parser;
    private final ChatRequestParser chat;
    private final int maxLines;
    private final int maxLineBytes;

    /** {@code maxLineBytes}: the largest line (the single-request body limit). */
    public BatchParser(SubmitParser parser, int maxLines, int maxLineBytes) {
        this.parser = parser;
        this.chat = new ChatRequestParser(parser);
        this.maxLines = maxLines;
        this.maxLineBytes = maxLineBytes;
    }

    public List<Line> parse(byte[] body) {
        if (body == null || body.length == 0) {
            throw new InvalidRequestException("body", "is empty; expected JSON lines, one request per line");
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(body)).toString();
        } catch (CharacterCodingException e) {
            throw new InvalidRequestException("body", "is not valid UTF-8");
        }
        String[] raw = text.split("\n", -1);
        List<Line> out = new ArrayList<>();
        Set<String> customIds = new HashSet<>();
        for (int i = 0; i < raw.length; i++) {
            String line = raw[i].strip();
            if (line.isEmpty()) {
                continue;
            }
            if (out.size() == maxLines) {
                throw new InvalidRequestException("body", "holds more than " + maxLines + " requests");
            }
            out.add(line(i + 1, line, customIds));
        }
        if (out.isEmpty()) {
            throw new InvalidRequestException("body", "holds no request; expected JSON lines, one request per line");
        }
        return out;
    }

    private Line line(int number, String text, Set<String> customIds) {
        if (text.length() > maxLineBytes || text.getBytes(StandardCharsets.UTF_8).length > maxLineBytes) {
            throw new InvalidBatchLineException(number, List.of(new FieldError("line", "is larger than "
                    + maxLineBytes + " bytes")));
        }
        JsonNode n;
        try {
            n = Json.mapper().readTree(text);
        } catch (JsonProcessingException e) {
            throw new InvalidBatchLineException(number, List.of(new FieldError("line", "is not valid JSON: "
                    + e.getOriginalMessage())));
        }
        if (n == null || !n.isObject()) {
            throw new InvalidBatchLineException(number, List.of(new FieldError("line", "must be a JSON object")));
        }
        ObjectNode o = ((ObjectNode) n).deepCopy();
        JsonNode cid = o.remove("custom_id");
        if (cid == null || cid.isNull()) {
            throw new InvalidBatchLineException(number, List.of(new FieldError("custom_id", "is required")));
        }
        if (!cid.isTextual() || cid.asText().isBlank() || cid.asText().length() > 255) {
            throw new InvalidBatchLineException(number, List.of(new FieldError("custom_id",
                    "must be a non-blank string of at most 255 characters")));
        }
        String customId = cid.asText();
        if (!customIds.add(customId)) {
            throw new InvalidBatchLineException(number, List.of(new FieldError("custom_id",
                    "'" + customId + "' is used by an earlier line")));
        }
        try {
            SubmitRequest r;
            if (o.has("body")) {
                JsonNode method = o.get("method");
                JsonNode url = o.get("url");
                if (method != null && !"POST".equals(method.asText())) {
                    throw new InvalidRequestException("method", "must be POST");
                }
                if (url != null && !"/v1/chat/completions".equals(url.asText())) {
                    throw new InvalidRequestException("url", "must be /v1/chat/completions");
                }
                ChatRequestParser.ChatRequest c = chat.parse(o.get("body"), null, null);
                if (c.stream()) {
                    throw new InvalidRequestException("body.stream", "is not supported in a batch");
                }
                r = c.request();
            } else {
                r = parser.parse(o);
            }
            return new Line(number, r.withCustomId(customId));
        } catch (InvalidRequestException e) {
            throw new InvalidBatchLineException(number, e.errors());
        }
    }
}
