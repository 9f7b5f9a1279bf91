package llmq.worker.endpoints;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import llmq.common.config.ConfigException;
import llmq.common.config.Settings;

/**
 * The endpoint pool's configuration, bound once from settings and validated at start-up.
 *
 * <p>Endpoints: {@code worker.endpoints.<name>.url} (required), {@code .api-key} or
 * {@code .api-key-env} (the name of an environment variable holding it), {@code .weight} (1),
 * {@code .max-concurrent} (0 = only {@code worker.max-in-flight} limits it), {@code .rpm} (0 =
 * none), {@code .tpm} (0 = none), {@code .timeout} (60s), {@code .models} (comma-separated
 * upstream model ids; empty = any), {@code .stream} (false). When no {@code worker.endpoints.*}
 * key is set, the single endpoint of {@code worker.endpoint.url}/{@code .name}/{@code .api-key}/
 * {@code .timeout}/{@code .max-concurrent}/{@code .stream} is the pool.
 *
 * <p>Models: {@code worker.models.<name>.model} (upstream id, default {@code <name>}: makes
 * {@code <name>} an alias), {@code .endpoints} (comma-separated endpoint names; default: every
 * endpoint serving the upstream id), {@code .fallbacks} (comma-separated model names, in order).
 * A model without an entry is served by every endpoint whose {@code models} admit it.
 *
 * <p>Balancing and health: {@code worker.load-balancing} ({@code least-outstanding} or
 * {@code round-robin}), {@code worker.affinity} (true: requests of one {@code conversation_id}
 * go to the same endpoint while it is available), {@code worker.health.interval} (10s, 0 turns
 * active probes off), {@code worker.health.timeout} (2s), and {@link CircuitConfig}.
 */
public record PoolConfig(List<EndpointConfig> endpoints, Map<String, ModelRoute> models, Balancing balancing,
                         boolean affinity, CircuitConfig circuit, Duration healthInterval, Duration healthTimeout) {

    private static final Set<String> ENDPOINT_KEYS = Set.of("url", "api-key", "api-key-env", "weight",
            "max-concurrent", "rpm", "tpm", "timeout", "models", "stream");
    private static final Set<String> MODEL_KEYS = Set.of("model", "endpoints", "fallbacks");

    public PoolConfig {
        endpoints = List.copyOf(endpoints);
        models = Map.copyOf(models);
        if (endpoints.isEmpty()) {
            throw new ConfigException("worker.endpoints", null, "must name at least one endpoint");
        }
        Set<String> names = new LinkedHashSet<>();
        for (EndpointConfig e : endpoints) {
            if (!names.add(e.name())) {
                throw new ConfigException("worker.endpoints." + e.name(), null, "is configured twice");
            }
        }
        for (ModelRoute r : models.values()) {
            for (String e : r.endpoints()) {
                if (!names.contains(e)) {
                    throw new ConfigException("worker.models." + r.name() + ".endpoints", e, "names no configured endpoint");
                }
            }
        }
        if (healthInterval.isNegative()) {
            throw new ConfigException("worker.health.interval", healthInterval.toString(), "must be 0 (off) or positive");
        }
        if (healthTimeout.isZero() || healthTimeout.isNegative()) {
            throw new ConfigException("worker.health.timeout", healthTimeout.toString(), "must be positive");
        }
    }

    /** Binds the pool from settings, reading {@code .api-key-env} variables from {@code environment}. */
    public static PoolConfig from(Settings s, Map<String, String> environment) {
        List<EndpointConfig> endpoints = new ArrayList<>();
        Map<String, Set<String>> endpointKeys = grouped(s.withPrefix("worker.endpoints"), ENDPOINT_KEYS, "worker.endpoints.");
        if (endpointKeys.isEmpty()) {
            endpoints.add(legacy(s));
        } else {
            endpointKeys.keySet().forEach(name -> endpoints.add(endpoint(s, name, environment)));
        }
        Map<String, ModelRoute> models = new LinkedHashMap<>();
        grouped(s.withPrefix("worker.models"), MODEL_KEYS, "worker.models.").keySet().forEach(name -> {
            String p = "worker.models." + name + ".";
            models.put(name, new ModelRoute(name, s.string(p + "model", name), s.list(p + "endpoints"),
                    s.list(p + "fallbacks")));
        });
        return new PoolConfig(endpoints, models,
                Balancing.parse(s.string("worker.load-balancing", "least-outstanding")),
                s.bool("worker.affinity", true),
                CircuitConfig.from(s),
                s.duration("worker.health.interval", Duration.ofSeconds(10)),
                s.duration("worker.health.timeout", Duration.ofSeconds(2)));
    }

    /** {@code name.key} entries grouped by name; the key is the last dot-separated part, so names may contain dots. */
    private static Map<String, Set<String>> grouped(Map<String, String> entries, Set<String> keys, String prefix) {
        Map<String, Set<String>> out = new LinkedHashMap<>();
        entries.keySet().forEach(k -> {
            int dot = k.lastIndexOf('.');
            String key = dot < 0 ? k : k.substring(dot + 1);
            if (dot <= 0 || !keys.contains(key)) {
                throw new ConfigException(prefix + k, entries.get(k), "is not a known setting (known: " + keys + ")");
            }
            out.computeIfAbsent(k.substring(0, dot), n -> new LinkedHashSet<>()).add(key);
        });
        return out;
    }

    private static EndpointConfig endpoint(Settings s, String name, Map<String, String> environment) {
        String p = "worker.endpoints." + name + ".";
        String key = s.string(p + "api-key", null);
        String keyEnv = s.string(p + "api-key-env", null);
        if (key == null && keyEnv != null) {
            key = environment.get(keyEnv);
            if (key == null || key.isBlank()) {
                throw new ConfigException(p + "api-key-env", keyEnv, "names an environment variable that is not set");
            }
        }
        return new EndpointConfig(name, s.required(p + "url"), key, s.integer(p + "weight", 1),
                s.integer(p + "max-concurrent", 0), s.longValue(p + "rpm", 0), s.longValue(p + "tpm", 0),
                s.duration(p + "timeout", Duration.ofSeconds(60)), s.list(p + "models"), s.bool(p + "stream", false));
    }

    private static EndpointConfig legacy(Settings s) {
        String name = s.string("worker.endpoint.name", "default");
        String url = s.string("worker.endpoint.url", "http://127.0.0.1:8090/v1");
        if (!url.startsWith("http://") && !url.startsWith("https://")) {
            throw new ConfigException("worker.endpoint.url", url, "must be an http(s) URL");
        }
        return new EndpointConfig(name, url, s.string("worker.endpoint.api-key", null), 1,
                s.integer("worker.endpoint.max-concurrent", 0), 0, 0,
                s.duration("worker.endpoint.timeout", Duration.ofSeconds(60)), List.of(),
                s.bool("worker.endpoint.stream", false));
    }
}
