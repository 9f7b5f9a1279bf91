package llmq.ingest.support;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import llmq.common.json.Json;

/**
 * Seeded random requests for the fuzz test: valid bodies of every endpoint mutated at the JSON level
 * (fields dropped, added, retyped, deeply nested, odd strings and numbers) and at the byte level
 * (truncated, spliced, invalid UTF-8, empty, oversized), with mutated headers (missing or malformed
 * keys, odd content types, priorities and idempotency keys) and now and then a random method or path.
 */
public final class Fuzzer {

    /** One request to send. */
    public record Case(String method, String path, byte[] body, List<String> headers) {
        @Override
        public String toString() {
            String b = body == null ? "" : new String(body, 0, Math.min(body.length, 300), StandardCharsets.UTF_8);
            return method + " " + path + " " + headers + " " + b;
        }
    }

    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    private static final String[] FIELDS = {"model", "messages", "priority", "max_tokens", "max_completion_tokens",
            "temperature", "top_p", "stop", "seed", "idempotency_key", "conversation_id", "metadata", "not_before",
            "deadline", "callback_url", "stream", "stream_options", "n", "custom_id", "role", "content", "name", "body",
            "url", "method", "user", "tools", "response_format", "x", ""};
    private static final String[] STRINGS = {"", " ", "realtime", "HIGH", "low", "sim-small", "user", "system",
            "2026-01-01T00:00:00Z", "1970-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "not a date", "http://127.0.0.1:1/x",
            "ftp://x", "\u0000", "\uD83D\uDE00", "\uD800", "ü\u200B\u202E", "null", "{}", "[]", "-1", "1e308",
            "<script>", "'; DROP TABLE tenants; --", "%s%n", "../../etc/passwd"};

    private final Random random;
    private final String key;
    private final int maxBody;

    public Fuzzer(long seed, String key, int maxBody) {
        this.random = new Random(seed);
        this.key = key;
        this.maxBody = maxBody;
    }

    public Case next() {
        int kind = random.nextInt(100);
        List<String> headers = headers();
        if (kind < 8) {
            return odd(headers);
        }
        String path;
        JsonNode base;
        if (kind < 55) {
            path = "/v1/requests";
            base = nativeRequest();
        } else if (kind < 80) {
            path = "/v1/chat/completions";
            base = chatRequest();
        } else {
            path = "/v1/batches";
            return new Case("POST", path, batch(), headers);
        }
        JsonNode mutated = base;
        int n = random.nextInt(4);
        for (int i = 0; i < n; i++) {
            mutated = mutate(mutated, 0);
        }
        byte[] body = bytes(mutated);
        if (random.nextInt(6) == 0) {
            body = corrupt(body);
        }
        return new Case("POST", path, body, headers);
    }

    private Case odd(List<String> headers) {
        String id = random.nextBoolean() ? java.util.UUID.randomUUID().toString() : pick(STRINGS).replaceAll("[^A-Za-z0-9._-]", "x");
        if (id.isEmpty()) {
            id = "x";
        }
        return switch (random.nextInt(7)) {
            case 0 -> new Case("GET", "/v1/requests/" + id, null, headers);
            case 1 -> new Case("DELETE", "/v1/requests/" + id, null, headers);
            case 2 -> new Case("GET", "/v1/batches/" + id, null, headers);
            case 3 -> new Case("GET", "/v1/batches/" + id + "/results", null, headers);
            case 4 -> new Case("GET", "/v1/models/" + id, null, headers);
            case 5 -> new Case("PUT", "/v1/requests", bytes(nativeRequest()), headers);
            default -> new Case("POST", "/v1/" + id, bytes(nativeRequest()), headers);
        };
    }

    private List<String> headers() {
        List<String> h = new ArrayList<>();
        int auth = random.nextInt(20);
        if (auth < 15) {
            h.add("Authorization");
            h.add("Bearer " + key);
        } else if (auth == 15) {
            h.add("Authorization");
            h.add("Bearer llmq_" + random.nextInt(1000) + "_nope");
        } else if (auth == 16) {
            h.add("Authorization");
            h.add("bearer   " + key);
        } else if (auth == 17) {
            h.add("Authorization");
            h.add("Basic dXNlcjpwYXNz");
        } else if (auth == 18) {
            h.add("Authorization");
            h.add("Bearer " + "k".repeat(random.nextInt(5000)));
        }
        String[] types = {"application/json", "application/json; charset=utf-8", "text/plain", "application/x-ndjson",
                "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "garbage/type", "*/*"};
        if (random.nextInt(5) > 0) {
            h.add("Content-Type");
            h.add(types[random.nextInt(types.length)]);
        }
        if (random.nextInt(6) == 0) {
            h.add("X-LLMQ-Priority");
            h.add(new String[] {"realtime", "high", "normal", "low", "urgent", "", " LOW "}[random.nextInt(7)]);
        }
        if (random.nextInt(6) == 0) {
            h.add("Idempotency-Key");
            h.add(new String[] {"k-" + random.nextInt(50), "x".repeat(300), " ", "same-key"}[random.nextInt(4)]);
        }
        if (random.nextInt(10) == 0) {
            h.add("Accept");
            h.add(new String[] {"text/event-stream", "application/xml", "*/*"}[random.nextInt(3)]);
        }
        return h;
    }

    private ObjectNode nativeRequest() {
        ObjectNode o = F.objectNode();
        o.put("model", "sim-small");
        ArrayNode messages = o.putArray("messages");
        messages.addObject().put("role", "user").put("content", "fuzz " + random.nextInt(1_000_000));
        if (random.nextBoolean()) {
            o.put("priority", new String[] {"realtime", "high", "normal", "low"}[random.nextInt(4)]);
        }
        if (random.nextBoolean()) {
            o.put("max_tokens", 1 + random.nextInt(64));
        }
        return o;
    }

    private ObjectNode chatRequest() {
        ObjectNode o = nativeRequest();
        o.remove("priority");
        if (random.nextBoolean()) {
            o.put("stream", true);
            if (random.nextBoolean()) {
                o.putObject("stream_options").put("include_usage", true);
            }
        }
        if (random.nextInt(4) == 0) {
            o.put("user", "u" + random.nextInt(10));
        }
        return o;
    }

    private byte[] batch() {
        StringBuilder sb = new StringBuilder();
        int lines = 1 + random.nextInt(3);
        for (int i = 0; i < lines; i++) {
            ObjectNode line = nativeRequest();
            line.put("custom_id", "c" + i);
            JsonNode m = random.nextInt(3) == 0 ? mutate(line, 0) : line;
            sb.append(new String(bytes(m), StandardCharsets.UTF_8)).append(random.nextInt(5) == 0 ? "\r\n\n" : "\n");
        }
        byte[] b = sb.toString().getBytes(StandardCharsets.UTF_8);
        return random.nextInt(8) == 0 ? corrupt(b) : b;
    }

    private JsonNode mutate(JsonNode node, int depth) {
        if (node instanceof ObjectNode o && (depth < 3 && random.nextInt(3) > 0)) {
            ObjectNode copy = o.deepCopy();
            List<String> names = new ArrayList<>();
            for (Iterator<String> it = copy.fieldNames(); it.hasNext();) {
                names.add(it.next());
            }
            int op = random.nextInt(4);
            if (op == 0 && !names.isEmpty()) {
                copy.remove(pick(names.toArray(new String[0])));
            } else if (op == 1) {
                copy.set(pick(FIELDS), value(depth));
            } else if (!names.isEmpty()) {
                String f = pick(names.toArray(new String[0]));
                copy.set(f, op == 2 ? value(depth) : mutate(copy.get(f), depth + 1));
            }
            return copy;
        }
        if (node instanceof ArrayNode a && depth < 3 && random.nextBoolean()) {
            ArrayNode copy = a.deepCopy();
            int op = random.nextInt(3);
            if (op == 0) {
                copy.add(value(depth));
            } else if (op == 1 && !copy.isEmpty()) {
                copy.remove(random.nextInt(copy.size()));
            } else if (!copy.isEmpty()) {
                int i = random.nextInt(copy.size());
                copy.set(i, mutate(copy.get(i), depth + 1));
            }
            return copy;
        }
        return value(depth);
    }

    private JsonNode value(int depth) {
        return switch (random.nextInt(14)) {
            case 0 -> F.nullNode();
            case 1 -> F.booleanNode(random.nextBoolean());
            case 2 -> F.numberNode(random.nextInt());
            case 3 -> F.numberNode(new long[] {0, -1, 1, Long.MAX_VALUE, Long.MIN_VALUE, 4_000_000_000L}[random.nextInt(6)]);
            case 4 -> F.numberNode(new java.math.BigInteger("123456789012345678901234567890"));
            case 5 -> F.numberNode(new double[] {0.5, -0.0, 1e308, 2.5, 3.0000001}[random.nextInt(5)]);
            case 6, 7 -> F.textNode(pick(STRINGS));
            case 8 -> F.textNode("z".repeat(random.nextInt(3000)));
            case 9 -> {
                ArrayNode a = F.arrayNode();
                a.addObject().put("role", pick(STRINGS)).set("content", depth < 3 ? value(depth + 1) : F.textNode("x"));
                yield a;
            }
            case 10 -> {
                ObjectNode o = F.objectNode();
                o.put(pick(STRINGS), pick(STRINGS));
                yield o;
            }
            case 11 -> nested(1 + random.nextInt(900));
            case 12 -> F.arrayNode().add(F.objectNode().put("type", "text").put("text", pick(STRINGS)));
            default -> F.textNode(java.util.UUID.randomUUID().toString());
        };
    }

    private JsonNode nested(int levels) {
        JsonNode n = F.textNode("deep");
        for (int i = 0; i < levels; i++) {
            n = random.nextBoolean() ? F.arrayNode().add(n) : F.objectNode().set("a", n);
        }
        return n;
    }

    private byte[] corrupt(byte[] b) {
        switch (random.nextInt(6)) {
            case 0:
                return java.util.Arrays.copyOf(b, random.nextInt(Math.max(1, b.length)));
            case 1: {
                byte[] c = b.clone();
                for (int i = 0; i < 1 + random.nextInt(5) && c.length > 0; i++) {
                    c[random.nextInt(c.length)] = (byte) random.nextInt(256);
                }
                return c;
            }
            case 2:
                return random.nextBoolean() ? new byte[0] : "[".repeat(5000).getBytes(StandardCharsets.UTF_8);
            case 3: {
                byte[] bad = {(byte) 0xC3, (byte) 0x28, (byte) 0xFF, (byte) 0xFE, (byte) 0xED, (byte) 0xA0, (byte) 0x80};
                byte[] c = java.util.Arrays.copyOf(b, b.length + bad.length);
                System.arraycopy(bad, 0, c, b.length, bad.length);
                return c;
            }
            case 4:
                return ("{\"model\":\"sim-small\",\"messages\":[{\"role\":\"user\",\"content\":\"" + "w".repeat(maxBody + 10) + "\"}]}")
                        .getBytes(StandardCharsets.UTF_8);
            default:
                return (new String(b, StandardCharsets.UTF_8) + new String(b, StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8);
        }
    }

    private static byte[] bytes(JsonNode n) {
        try {
            return Json.mapper().writeValueAsBytes(n);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private String pick(String[] values) {
        return values[random.nextInt(values.length)];
    }
}
