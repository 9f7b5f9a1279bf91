package llmq.modelsim;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import llmq.common.config.ConfigException;
import llmq.common.config.Settings;
import llmq.modelsim.audit.Audit;
import llmq.modelsim.faults.FaultSettings;

/**
 * Everything a {@link ModelSimulator} needs, bound once from {@link Settings} and validated on
 * construction so that a bad value stops start-up with a {@link ConfigException} naming its key.
 *
 * <table>
 * <caption>Keys and defaults</caption>
 * <tr><th>key</th><th>default</th><th>meaning</th></tr>
 * <tr><td>{@code modelsim.host}</td><td>127.0.0.1</td><td>address to bind</td></tr>
 * <tr><td>{@code modelsim.port}</td><td>8090</td><td>port to bind; 0 picks a free one</td></tr>
 * <tr><td>{@code modelsim.models}</td><td>unset</td><td>comma-separated model ids; when set, any other
 *     model is answered 404 {@code model_not_found}; when unset any name is accepted and
 *     {@code /v1/models} lists {@code sim-small, sim-large}</td></tr>
 * <tr><td>{@code modelsim.api-key}</td><td>unset</td><td>when set, {@code /v1/*} requires
 *     {@code Authorization: Bearer <key>}</td></tr>
 * <tr><td>{@code modelsim.ttft}</td><td>0ms</td><td>time to the first token</td></tr>
 * <tr><td>{@code modelsim.per-token}</td><td>0ms</td><td>time per further output token</td></tr>
 * <tr><td>{@code modelsim.jitter}</td><td>0.0</td><td>each call's delays are scaled by a factor drawn
 *     uniformly from {@code [1 - jitter, 1 + jitter]}; 0..1</td></tr>
 * <tr><td>{@code modelsim.stream.chunk-tokens}</td><td>1</td><td>tokens per streamed chunk</td></tr>
 * <tr><td>{@code modelsim.completion-tokens.min}</td><td>8</td><td>shortest natural completion</td></tr>
 * <tr><td>{@code modelsim.completion-tokens.max}</td><td>64</td><td>longest natural completion</td></tr>
 * <tr><td>{@code modelsim.fail.rate-limit-rate}</td><td>0.0</td><td>share of calls answered 429</td></tr>
 * <tr><td>{@code modelsim.fail.retry-after}</td><td>1s</td><td>{@code Retry-After} of 429/503</td></tr>
 * <tr><td>{@code modelsim.fail.server-error-rate}</td><td>0.0</td><td>share of calls answered 5xx</td></tr>
 * <tr><td>{@code modelsim.fail.server-error-codes}</td><td>500,503</td><td>5xx statuses to pick from</td></tr>
 * <tr><td>{@code modelsim.fail.timeout-rate}</td><td>0.0</td><td>share of calls never answered</td></tr>
 * <tr><td>{@code modelsim.fail.hang}</td><td>60s</td><td>how long an unanswered call is held open
 *     before its connection is closed</td></tr>
 * <tr><td>{@code modelsim.seed}</td><td>42</td><td>seed of the fault and jitter draws</td></tr>
 * <tr><td>{@code modelsim.audit-file}</td><td>unset</td><td>JSON-lines file every audit entry is
 *     appended to</td></tr>
 * <tr><td>{@code modelsim.audit.retain}</td><td>100000</td><td>audit entries kept in memory</td></tr>
 * <tr><td>{@code modelsim.threads}</td><td>4</td><td>HTTP handler threads</td></tr>
 * <tr><td>{@code modelsim.scheduler-threads}</td><td>2</td><td>threads that complete delayed answers</td></tr>
 * </table>
 *
 * <p>The three failure rates are disjoint shares of all calls and must add up to at most 1.
 *
 * @param models accepted model ids; empty means any model is accepted
 * @param apiKey the required bearer key, or null for none
 * @param auditFile the audit's JSON-lines file, or null for none
 */
public record ModelSimConfig(
        String host,
        int port,
        List<String> models,
        String apiKey,
        Duration ttft,
        Duration perToken,
        double jitter,
        int streamChunkTokens,
        int completionTokensMin,
        int completionTokensMax,
        FaultSettings faults,
        long seed,
        Path auditFile,
        int auditRetain,
        int threads,
        int schedulerThreads) {

    public static final String HOST = "modelsim.host";
    public static final String PORT = "modelsim.port";
    public static final String MODELS = "modelsim.models";
    public static final String API_KEY = "modelsim.api-key";
    public static final String TTFT = "modelsim.ttft";
    public static final String PER_TOKEN = "modelsim.per-token";
    public static final String JITTER = "modelsim.jitter";
    public static final String STREAM_CHUNK_TOKENS = "modelsim.stream.chunk-tokens";
    public static final String COMPLETION_TOKENS_MIN = "modelsim.completion-tokens.min";
    public static final String COMPLETION_TOKENS_MAX = "modelsim.completion-tokens.max";
    public static final String RATE_LIMIT_RATE = "modelsim.fail.rate-limit-rate";
    public static final String RETRY_AFTER = "modelsim.fail.retry-after";
    public static final String SERVER_ERROR_RATE = "modelsim.fail.server-error-rate";
    public static final String SERVER_ERROR_CODES = "modelsim.fail.server-error-codes";
    public static final String TIMEOUT_RATE = "modelsim.fail.timeout-rate";
    public static final String HANG = "modelsim.fail.hang";
    public static final String SEED = "modelsim.seed";
    public static final String AUDIT_FILE = "modelsim.audit-file";
    public static final String AUDIT_RETAIN = "modelsim.audit.retain";
    public static final String THREADS = "modelsim.threads";
    public static final String SCHEDULER_THREADS = "modelsim.scheduler-threads";

    /** What {@code /v1/models} lists when no models are configured. */
    public static final List<String> DEFAULT_MODELS = List.of("sim-small", "sim-large");

    public ModelSimConfig {
        if (host == null || host.isBlank()) {
            throw new ConfigException(HOST, host, "must not be empty");
        }
        if (port < 0 || port > 65_535) {
            throw new ConfigException(PORT, String.valueOf(port), "must be between 0 and 65535");
        }
        models = List.copyOf(models);
        if (apiKey != null && apiKey.isBlank()) {
            apiKey = null;
        }
        requireNotNegative(TTFT, ttft);
        requireNotNegative(PER_TOKEN, perToken);
        if (!(jitter >= 0.0 && jitter <= 1.0)) {
            throw new ConfigException(JITTER, String.valueOf(jitter), "must be between 0 and 1");
        }
        requireAtLeast(STREAM_CHUNK_TOKENS, streamChunkTokens, 1);
        requireAtLeast(COMPLETION_TOKENS_MIN, completionTokensMin, 1);
        requireAtLeast(COMPLETION_TOKENS_MAX, completionTokensMax, completionTokensMin);
        if (faults == null) {
            throw new ConfigException("modelsim.fail", null, "must be set");
        }
        requireAtLeast(AUDIT_RETAIN, auditRetain, 0);
        requireAtLeast(THREADS, threads, 1);
        requireAtLeast(SCHEDULER_THREADS, schedulerThreads, 1);
    }

    /** Binds and validates every {@code modelsim.*} key, falling back to the documented defaults. */
    public static ModelSimConfig from(Settings s) {
        FaultSettings none = FaultSettings.NONE;
        double rateLimit = rate(s, RATE_LIMIT_RATE);
        double serverError = rate(s, SERVER_ERROR_RATE);
        double timeout = rate(s, TIMEOUT_RATE);
        if (rateLimit + serverError + timeout > 1.0 + 1e-9) {
            throw new ConfigException(TIMEOUT_RATE, String.valueOf(timeout),
                    "makes " + RATE_LIMIT_RATE + " + " + SERVER_ERROR_RATE + " + " + TIMEOUT_RATE + " exceed 1");
        }
        Duration retryAfter = s.duration(RETRY_AFTER, none.retryAfter());
        Duration hang = s.duration(HANG, none.hang());
        if (hang.isZero()) {
            throw new ConfigException(HANG, s.raw(HANG), "must be positive");
        }
        FaultSettings faults = new FaultSettings(rateLimit, retryAfter, serverError,
                serverErrorCodes(s), timeout, hang);
        String auditFile = s.string(AUDIT_FILE, null);
        return new ModelSimConfig(
                s.string(HOST, "127.0.0.1"),
                s.integer(PORT, 8090),
                s.list(MODELS),
                s.string(API_KEY, null),
                s.duration(TTFT, Duration.ZERO),
                s.duration(PER_TOKEN, Duration.ZERO),
                s.decimal(JITTER, 0.0),
                s.integer(STREAM_CHUNK_TOKENS, 1),
                s.integer(COMPLETION_TOKENS_MIN, 8),
                s.integer(COMPLETION_TOKENS_MAX, 64),
                faults,
                s.longValue(SEED, 42L),
                auditFile == null ? null : Path.of(auditFile),
                s.integer(AUDIT_RETAIN, Audit.DEFAULT_RETAIN),
                s.integer(THREADS, 4),
                s.integer(SCHEDULER_THREADS, 2));
    }

    /** The defaults, as documented above. */
    public static ModelSimConfig defaults() {
        return from(Settings.of(Map.of()));
    }

    /** Whether calls for {@code model} are answered (rather than 404). */
    public boolean accepts(String model) {
        return models.isEmpty() || models.contains(model);
    }

    /** What {@code /v1/models} lists: the configured models, else {@link #DEFAULT_MODELS}. */
    public List<String> listedModels() {
        return models.isEmpty() ? DEFAULT_MODELS : models;
    }

    /** A copy bound to another port (0 = any free one), for tests and embedding. */
    public ModelSimConfig withPort(int newPort) {
        return new ModelSimConfig(host, newPort, models, apiKey, ttft, perToken, jitter, streamChunkTokens,
                completionTokensMin, completionTokensMax, faults, seed, auditFile, auditRetain, threads,
                schedulerThreads);
    }

    /** Like the generated one, but never shows the API key. */
    @Override
    public String toString() {
        return "ModelSimConfig[host=" + host + ", port=" + port + ", models=" + models
                + ", apiKey=" + (apiKey == null ? "none" : "****") + ", ttft=" + ttft + ", perToken=" + perToken
                + ", jitter=" + jitter + ", streamChunkTokens=" + streamChunkTokens
                + ", completionTokens=" + completionTokensMin + ".." + completionTokensMax + ", faults=" + faults
                + ", seed=" + seed + ", auditFile=" + auditFile + ", auditRetain=" + auditRetain
                + ", threads=" + threads + ", schedulerThreads=" + schedulerThreads + "]";
    }

    private static double rate(Settings s, String key) {
        double v = s.decimal(key, 0.0);
        if (!(v >= 0.0 && v <= 1.0)) {
            throw new ConfigException(key, s.raw(key), "must be between 0 and 1");
        }
        return v;
    }

    private static List<Integer> serverErrorCodes(Settings s) {
        List<String> raw = s.list(SERVER_ERROR_CODES);
        if (raw.isEmpty()) {
            return FaultSettings.NONE.serverErrorCodes();
        }
        List<Integer> codes = new ArrayList<>();
        for (String r : raw) {
            int code;
            try {
                code = Integer.parseInt(r);
            } catch (NumberFormatException e) {
                throw new ConfigException(SERVER_ERROR_CODES, s.raw(SERVER_ERROR_CODES), "must be 5xx statuses");
            }
            if (code < 500 || code > 599) {
                throw new ConfigException(SERVER_ERROR_CODES, s.raw(SERVER_ERROR_CODES), "must be 5xx statuses");
            }
            codes.add(code);
        }
        return codes;
    }

    private static void requireNotNegative(String key, Duration d) {
        if (d == null || d.isNegative()) {
            throw new ConfigException(key, String.valueOf(d), "must be a duration of zero or more");
        }
    }

    private static void requireAtLeast(String key, int value, int min) {
        if (value < min) {
            throw new ConfigException(key, String.valueOf(value), "must be at least " + min);
        }
    }
}
