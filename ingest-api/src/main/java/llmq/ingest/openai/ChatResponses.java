package llmq.ingest.openai;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import llmq.avro.LlmResult;
import llmq.common.json.Json;

/**
 * OpenAI's response formats for a finished request: a {@code chat.completion} object, or the
 * {@code chat.completion.chunk} events of a stream — a role chunk, content chunks (the finished
 * output cut at word boundaries: llmq streams the result once the call is done, not token by token
 * from the model), a finish chunk, a usage chunk when {@code stream_options.include_usage} is set,
 * and {@code data: [DONE]}. The id is {@code chatcmpl-<llmq request id>}.
 */
public final class ChatResponses {

    /** Words per content chunk. */
    static final int WORDS_PER_CHUNK = 4;

    private ChatResponses() {
    }

    /** The completion id of a request. */
    public static String completionId(String requestId) {
        return "chatcmpl-" + requestId;
    }

    public static ObjectNode completion(String requestId, String requestedModel, LlmResult r) {
        ObjectNode o = Json.mapper().createObjectNode();
        o.put("id", completionId(requestId));
        o.put("object", "chat.completion");
        o.put("created", created(r));
        o.put("model", model(requestedModel, r));
        ObjectNode choice = o.putArray("choices").addObject();
        choice.put("index", 0);
        ObjectNode message = choice.putObject("message");
        message.put("role", "assistant");
        message.put("content", r.getOutput() == null ? "" : r.getOutput());
        message.putNull("refusal");
        choice.putNull("logprobs");
        choice.put("finish_reason", r.getFinishReason() == null ? "stop" : r.getFinishReason());
        if (r.getUsage() != null) {
            o.set("usage", usage(r));
        }
        o.putNull("system_fingerprint");
        return o;
    }

    /** The whole event stream of a finished request, as {@code text/event-stream}. */
    public static String stream(String requestId, String requestedModel, LlmResult r, boolean includeUsage) {
        StringBuilder sb = new StringBuilder();
        long created = created(r);
        String model = model(requestedModel, r);
        ObjectNode role = chunk(requestId, created, model, includeUsage);
        ObjectNode roleDelta = ((ObjectNode) role.get("choices").get(0)).putObject("delta");
        roleDelta.put("role", "assistant");
        roleDelta.put("content", "");
        event(sb, role);
        for (String piece : pieces(r.getOutput() == null ? "" : r.getOutput())) {
            ObjectNode c = chunk(requestId, created, model, includeUsage);
            ((ObjectNode) c.get("choices").get(0)).putObject("delta").put("content", piece);
            event(sb, c);
        }
        ObjectNode finish = chunk(requestId, created, model, includeUsage);
        ObjectNode choice = (ObjectNode) finish.get("choices").get(0);
        choice.putObject("delta");
        choice.put("finish_reason", r.getFinishReason() == null ? "stop" : r.getFinishReason());
        event(sb, finish);
        if (includeUsage) {
            ObjectNode u = Json.mapper().createObjectNode();
            u.put("id", completionId(requestId));
            u.put("object", "chat.completion.chunk");
            u.put("created", created);
            u.put("model", model);
            u.putArray("choices");
            if (r.getUsage() != null) {
                u.set("usage", usage(r));
            } else {
                u.putNull("usage");
            }
            event(sb, u);
        }
        sb.append("data: [DONE]\n\n");
        return sb.toString();
    }

    /** The output cut into chunks of a few words, each keeping its following whitespace; concatenated they are the output. */
    static List<String> pieces(String output) {
        List<String> out = new ArrayList<>();
        int words = 0;
        int start = 0;
        int i = 0;
        while (i < output.length()) {
            while (i < output.length() && !Character.isWhitespace(output.charAt(i))) {
                i++;
            }
            while (i < output.length() && Character.isWhitespace(output.charAt(i))) {
                i++;
            }
            if (++words == WORDS_PER_CHUNK || i >= output.length()) {
                out.add(output.substring(start, i));
                start = i;
                words = 0;
            }
        }
        return out;
    }

    private static ObjectNode chunk(String requestId, long created, String model, boolean includeUsage) {
        ObjectNode o = Json.mapper().createObjectNode();
        o.put("id", completionId(requestId));
        o.put("object", "chat.completion.chunk");
        o.put("created", created);
        o.put("model", model);
        o.putNull("system_fingerprint");
        ArrayNode choices = o.putArray("choices");
        ObjectNode choice = choices.addObject();
        choice.put("index", 0);
        choice.putNull("logprobs");
        choice.putNull("finish_reason");
        if (includeUsage) {
            o.putNull("usage");
        }
        return o;
    }

    private static void event(StringBuilder sb, ObjectNode o) {
        try {
            sb.append("data: ").append(Json.mapper().writeValueAsString(o)).append("\n\n");
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static ObjectNode usage(LlmResult r) {
        ObjectNode u = Json.mapper().createObjectNode();
        int prompt = r.getUsage().getPromptTokens();
        int completion = r.getUsage().getCompletionTokens();
        u.put("prompt_tokens", prompt);
        u.put("completion_tokens", completion);
        u.put("total_tokens", prompt + completion);
        if (r.getUsage().getCachedPromptTokens() > 0) {
            u.putObject("prompt_tokens_details").put("cached_tokens", r.getUsage().getCachedPromptTokens());
        }
        return u;
    }

    private static long created(LlmResult r) {
        return (r.getSubmittedAt() != null ? r.getSubmittedAt() : r.getCompletedAt()).getEpochSecond();
    }

    private static String model(String requested, LlmResult r) {
        return r.getServedModel() != null ? r.getServedModel() : requested != null ? requested : r.getModel();
    }
}
