package llmq.modelsim.tokens;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Decides how many tokens a simulated call consumes and produces, and what it says, as pure
 * functions of the request, so that tests and benchmarks can predict every count the simulator
 * will report (and billing must match) without calling it.
 *
 * <ul>
 *   <li>Prompt tokens: for each message {@code ceil(codePoints(content) / 4) + 4}, plus 3 for the
 *       whole prompt. Roles and model do not count.</li>
 *   <li>Natural completion length: a stable 64-bit hash of the messages (roles and contents,
 *       nothing else) mapped into {@code [min, max]}.</li>
 *   <li>With a {@code max_tokens} below the natural length the completion is cut to it and its
 *       finish reason is {@code length}; otherwise {@code stop}.</li>
 *   <li>The text is exactly one word per completion token, separated by single spaces, drawn from
 *       a fixed vocabulary by the same hash; a cut completion is a prefix of the full one.</li>
 * </ul>
 */
public final class TokenModel {

    /** Default lower bound of the natural completion length. */
    public static final int DEFAULT_MIN_COMPLETION_TOKENS = 8;
    /** Default upper bound of the natural completion length. */
    public static final int DEFAULT_MAX_COMPLETION_TOKENS = 64;

    private static final long FNV_OFFSET = 0xcbf29ce484222325L;
    private static final long FNV_PRIME = 0x100000001b3L;
    private static final long GOLDEN_GAMMA = 0x9e3779b97f4a7c15L;

    private static final String[] VOCABULARY = {
        "alpha", "bravo", "cedar", "delta", "ember", "fjord", "grove", "harbor",
        "island", "juniper", "kernel", "lagoon", "meadow", "nectar", "orbit", "prairie",
        "quartz", "river", "summit", "timber", "umber", "valley", "willow", "xenon",
        "yonder", "zephyr", "amber", "basalt", "canyon", "dune", "estuary", "falcon",
        "glacier", "heron", "iris", "jasper", "kestrel", "lantern", "marble", "nimbus",
        "oasis", "pebble", "quill", "reef", "sierra", "tundra", "upland", "vortex",
        "wander", "yarrow", "zenith", "aurora", "beacon", "comet", "drift", "echo",
        "forest", "granite", "horizon", "inlet", "jetty", "knoll", "lumen", "mosaic",
    };

    private final int minCompletionTokens;
    private final int maxCompletionTokens;

    /** One chat message as the token model sees it: its role and its text content. */
    public record Message(String role, String content) {
        public Message {
            Objects.requireNonNull(role, "role");
            content = content == null ? "" : content;
        }

        /** A {@code user} message. */
        public static Message user(String content) {
            return new Message("user", content);
        }

        /** A {@code system} message. */
        public static Message system(String content) {
            return new Message("system", content);
        }
    }

    /**
     * What the simulator answers to one prompt.
     *
     * @param truncated whether {@code max_tokens} cut the completion short
     * @param words     the output, one word per completion token
     */
    public record Completion(int promptTokens, int completionTokens, boolean truncated, List<String> words) {
        public Completion {
            words = List.copyOf(words);
        }

        /** {@code length} when cut by {@code max_tokens}, else {@code stop}. */
        public String finishReason() {
            return truncated ? "length" : "stop";
        }

        /** The words joined by single spaces. */
        public String text() {
            return String.join(" ", words);
        }

        public int totalTokens() {
            return promptTokens + completionTokens;
        }
    }

    /**
     * @param minCompletionTokens lower bound (at least 1) of the natural completion length
     * @param maxCompletionTokens upper bound (at least the lower bound)
     */
    public TokenModel(int minCompletionTokens, int maxCompletionTokens) {
        if (minCompletionTokens < 1) {
            throw new IllegalArgumentException("minCompletionTokens must be at least 1: " + minCompletionTokens);
        }
        if (maxCompletionTokens < minCompletionTokens) {
            throw new IllegalArgumentException("maxCompletionTokens " + maxCompletionTokens
                    + " is below minCompletionTokens " + minCompletionTokens);
        }
        this.minCompletionTokens = minCompletionTokens;
        this.maxCompletionTokens = maxCompletionTokens;
    }

    /** The model with the default bounds (8..64). */
    public static TokenModel withDefaults() {
        return new TokenModel(DEFAULT_MIN_COMPLETION_TOKENS, DEFAULT_MAX_COMPLETION_TOKENS);
    }

    public int minCompletionTokens() {
        return minCompletionTokens;
    }

    public int maxCompletionTokens() {
        return maxCompletionTokens;
    }

    /** Prompt tokens of these messages: per message {@code ceil(codePoints/4) + 4}, plus 3. */
    public static int promptTokens(List<Message> messages) {
        int tokens = 3;
        for (Message m : messages) {
            int chars = m.content().codePointCount(0, m.content().length());
            tokens += (chars + 3) / 4 + 4;
        }
        return tokens;
    }

    /** The completion length when no {@code max_tokens} cuts it. */
    public int naturalCompletionTokens(List<Message> messages) {
        long range = (long) maxCompletionTokens - minCompletionTokens + 1;
        return (int) (minCompletionTokens + Math.floorMod(mix(fingerprint(messages)), range));
    }

    /**
     * The full answer to {@code messages}.
     *
     * @param maxTokens the request's {@code max_tokens} / {@code max_completion_tokens}, or null
     */
    public Completion complete(List<Message> messages, Integer maxTokens) {
        int natural = naturalCompletionTokens(messages);
        boolean truncated = maxTokens != null && maxTokens < natural;
        int count = truncated ? maxTokens : natural;
        return new Completion(promptTokens(messages), count, truncated, words(fingerprint(messages), count));
    }

    /** A stable (JVM- and version-independent) 64-bit FNV-1a hash of the roles and contents. */
    public static long fingerprint(List<Message> messages) {
        long h = FNV_OFFSET;
        for (Message m : messages) {
            h = hash(h, m.role().getBytes(StandardCharsets.UTF_8));
            h = (h ^ 0x1f) * FNV_PRIME;
            h = hash(h, m.content().getBytes(StandardCharsets.UTF_8));
            h = (h ^ 0x1e) * FNV_PRIME;
        }
        return h;
    }

    private static long hash(long h, byte[] bytes) {
        for (byte b : bytes) {
            h = (h ^ (b & 0xff)) * FNV_PRIME;
        }
        return h;
    }

    private static List<String> words(long seed, int count) {
        List<String> out = new ArrayList<>(count);
        long state = seed;
        for (int i = 0; i < count; i++) {
            state += GOLDEN_GAMMA;
            out.add(VOCABULARY[(int) Math.floorMod(mix(state), (long) VOCABULARY.length)]);
        }
        return out;
    }

    /** SplitMix64's finaliser, written out so the output never depends on a JDK implementation. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
