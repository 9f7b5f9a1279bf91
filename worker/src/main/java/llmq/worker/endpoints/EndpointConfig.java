package llmq.worker.endpoints;

import java.time.Duration;
import java.util.List;
import llmq.common.config.ConfigException;

/**
 * One OpenAI-compatible endpoint of the pool, from {@code worker.endpoints.<name>.*}.
 *
 * @param name          the endpoint's name in metrics, events, results and usage
 * @param url           base URL ending in {@code /v1}
 * @param apiKey        bearer key, or null; never logged
 * @param weight        share of traffic under weighted round robin, and divisor under least outstanding
 * @param maxConcurrent most calls in flight to it at once from this worker; 0 = no limit of its own
 * @param rpm           requests per minute it accepts from this worker; 0 = no limit
 * @param tpm           tokens per minute it accepts from this worker; 0 = no limit
 * @param timeout       whole-call timeout
 * @param models        models it serves (as sent upstream); empty = any model
 * @param stream        whether calls to it are streamed (server-sent events)
 */
public record EndpointConfig(String name, String url, String apiKey, int weight, int maxConcurrent, long rpm, long tpm,
                             Duration timeout, List<String> models, boolean stream) {

    public EndpointConfig {
        String prefix = "worker.endpoints." + name + ".";
        if (url == null || !(url.startsWith("http://") || url.startsWith("https://"))) {
            throw new ConfigException(prefix + "url", url, "must be an http(s) URL");
        }
        if (weight < 1) {
            throw new ConfigException(prefix + "weight", Integer.toString(weight), "must be at least 1");
        }
        if (maxConcurrent < 0) {
            throw new ConfigException(prefix + "max-concurrent", Integer.toString(maxConcurrent), "must be 0 (no limit) or more");
        }
        if (rpm < 0) {
            throw new ConfigException(prefix + "rpm", Long.toString(rpm), "must be 0 (no limit) or more");
        }
        if (tpm < 0) {
            throw new ConfigException(prefix + "tpm", Long.toString(tpm), "must be 0 (no limit) or more");
        }
        if (timeout.isZero() || timeout.isNegative()) {
            throw new ConfigException(prefix + "timeout", timeout.toString(), "must be positive");
        }
        models = List.copyOf(models);
    }

    /** Whether it serves {@code model} (as sent upstream). */
    public boolean serves(String model) {
        return models.isEmpty() || models.contains(model);
    }

    @Override
    public String toString() {
        return "Endpoint[" + name + " " + url + ", weight=" + weight + ", maxConcurrent=" + maxConcurrent
                + ", rpm=" + rpm + ", tpm=" + tpm + ", timeout=" + timeout + ", models=" + models + ", stream=" + stream
                + ", apiKey=" + (apiKey == null ? "none" : "****") + "]";
    }
}
