package llmq.common.config;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * The layered key/value configuration every llmq service binds its config records from.
 *
 * <p>Later layers win: a properties file, then environment variables ({@code LLMQ_} plus the
 * key upper-cased with {@code .} and {@code -} as {@code _}, so {@code kafka.bootstrap.servers}
 * is {@code LLMQ_KAFKA_BOOTSTRAP_SERVERS}), then Java system properties, then explicit
 * overrides (command-line {@code --set key=value}). Typed getters fail with a
 * {@link ConfigException} naming the key and the bad value.
 */
public final class Settings {

    /** Defaults and file values: below the environment. */
    private final Map<String, String> low;
    /** System properties and explicit overrides: above the environment. */
    private final Map<String, String> high;
    private final Map<String, String> env;
    /** low and high merged, for prefix listings. */
    private final Map<String, String> values;

    private Settings(Map<String, String> low, Map<String, String> env, Map<String, String> high) {
        this.low = Collections.unmodifiableMap(new TreeMap<>(low));
        this.high = Collections.unmodifiableMap(new TreeMap<>(high));
        this.env = env;
        Map<String, String> merged = new TreeMap<>(low);
        merged.putAll(high);
        this.values = Collections.unmodifiableMap(merged);
    }

    /** Settings from explicit values only (no environment, no system properties). */
    public static Settings of(Map<String, String> values) {
        return new Settings(Map.of(), Map.of(), values);
    }

    /** Builds the standard layering for a process. */
    public static Builder builder() {
        return new Builder();
    }

    /** A copy with these values layered on top. */
    public Settings with(Map<String, String> overrides) {
        Map<String, String> merged = new LinkedHashMap<>(high);
        merged.putAll(overrides);
        return new Settings(low, env, merged);
    }

    /** A copy with one value layered on top. */
    public Settings with(String key, String value) {
        return with(Map.of(key, value));
    }

    /** The raw value of {@code key}, or null. Environment variables are consulted last-resort. */
    public String raw(String key) {
        String v = high.get(key);
        if (v == null) {
            v = env.get(envName(key));
        }
        if (v == null) {
            v = low.get(key);
        }
        return v == null || v.isBlank() ? null : v.trim();
    }

    public String string(String key, String defaultValue) {
        String v = raw(key);
        return v == null ? defaultValue : v;
    }

    public String required(String key) {
        String v = raw(key);
        if (v == null) {
            throw new ConfigException(key, null, "is required");
        }
        return v;
    }

    public int integer(String key, int defaultValue) {
        return parse(key, defaultValue, Integer::parseInt, "an integer");
    }

    public long longValue(String key, long defaultValue) {
        return parse(key, defaultValue, Long::parseLong, "an integer");
    }

    public double decimal(String key, double defaultValue) {
        return parse(key, defaultValue, Double::parseDouble, "a number");
    }

    public boolean bool(String key, boolean defaultValue) {
        return parse(key, defaultValue, s -> {
            switch (s.toLowerCase(Locale.ROOT)) {
                case "true": case "yes": case "on": case "1": return true;
                case "false": case "no": case "off": case "0": return false;
                default: throw new IllegalArgumentException(s);
            }
        }, "true or false");
    }

    /** A duration such as {@code 250ms}, {@code 30s}, {@code 5m}, {@code 24h}, {@code 7d} or ISO-8601 {@code PT5S}. */
    public Duration duration(String key, Duration defaultValue) {
        return parse(key, defaultValue, Settings::parseDuration, "a duration like 250ms, 30s, 5m, 24h or 7d");
    }

    /** Comma-separated list; empty when unset. */
    public List<String> list(String key) {
        String v = raw(key);
        List<String> out = new ArrayList<>();
        if (v != null) {
            for (String part : v.split(",")) {
                if (!part.isBlank()) {
                    out.add(part.trim());
                }
            }
        }
        return out;
    }

    /**
     * Every key under {@code prefix} (with the prefix and its dot removed), e.g.
     * {@code kafka.client.} to pass arbitrary client properties through.
     */
    public Map<String, String> withPrefix(String prefix) {
        String p = prefix.endsWith(".") ? prefix : prefix + ".";
        Map<String, String> out = new TreeMap<>();
        values.forEach((k, v) -> {
            if (k.startsWith(p) && k.length() > p.length()) {
                out.put(k.substring(p.length()), v);
            }
        });
        return out;
    }

    /** All explicitly set keys (not environment), for diagnostics with secrets masked. */
    public Map<String, String> describe() {
        Map<String, String> out = new TreeMap<>();
        values.forEach((k, v) -> out.put(k, isSecret(k) ? "****" : v));
        return out;
    }

    private static boolean isSecret(String key) {
        String k = key.toLowerCase(Locale.ROOT);
        return k.contains("password") || k.contains("secret") || k.contains("api-key") || k.contains("apikey")
                || k.contains("token") || k.contains("sasl.jaas");
    }

    private <T> T parse(String key, T defaultValue, Function<String, T> parser, String expected) {
        String v = raw(key);
        if (v == null) {
            return defaultValue;
        }
        try {
            return parser.apply(v);
        } catch (RuntimeException e) {
            throw new ConfigException(key, v, "must be " + expected);
        }
    }

    static String envName(String key) {
        return "LLMQ_" + key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    public static Duration parseDuration(String s) {
        String t = s.trim().toLowerCase(Locale.ROOT);
        if (t.startsWith("p")) {
            return Duration.parse(s.trim().toUpperCase(Locale.ROOT));
        }
        int i = 0;
        while (i < t.length() && (Character.isDigit(t.charAt(i)) || t.charAt(i) == '.')) {
            i++;
        }
        if (i == 0) {
            throw new IllegalArgumentException(s);
        }
        double n = Double.parseDouble(t.substring(0, i));
        String unit = t.substring(i).trim();
        double millis;
        switch (unit) {
            case "ms": millis = n; break;
            case "": case "s": millis = n * 1_000; break;
            case "m": case "min": millis = n * 60_000; break;
            case "h": millis = n * 3_600_000; break;
            case "d": millis = n * 86_400_000; break;
            default: throw new IllegalArgumentException(s);
        }
        if (millis < 0) {
            throw new IllegalArgumentException(s);
        }
        return Duration.ofMillis(Math.round(millis));
    }

    /** Assembles the standard layers. */
    public static final class Builder {
        private final Map<String, String> low = new LinkedHashMap<>();
        private final Map<String, String> high = new LinkedHashMap<>();
        private Map<String, String> env = Map.of();

        public Builder defaults(Map<String, String> defaults) {
            low.putAll(defaults);
            return this;
        }

        public Builder file(Path file) {
            if (file == null) {
                return this;
            }
            if (!Files.isRegularFile(file)) {
                throw new ConfigException("--config", file.toString(), "is not a readable file");
            }
            Properties p = new Properties();
            try (Reader r = Files.newBufferedReader(file)) {
                p.load(r);
            } catch (IOException e) {
                throw new ConfigException("--config", file.toString(), "could not be read: " + e.getMessage());
            }
            p.stringPropertyNames().forEach(k -> low.put(k, p.getProperty(k)));
            return this;
        }

        public Builder classpath(String resource) {
            try (InputStream in = Settings.class.getClassLoader().getResourceAsStream(resource)) {
                if (in != null) {
                    Properties p = new Properties();
                    p.load(in);
                    p.stringPropertyNames().forEach(k -> low.put(k, p.getProperty(k)));
                }
            } catch (IOException e) {
                throw new ConfigException(resource, null, "could not be read: " + e.getMessage());
            }
            return this;
        }

        /** Environment variables, looked up by {@link Settings#envName(String)} when a key is read. */
        public Builder environment(Map<String, String> environment) {
            this.env = Map.copyOf(environment);
            return this;
        }

        /** System properties whose names start with {@code llmq.} (prefix removed). */
        public Builder systemProperties() {
            System.getProperties().stringPropertyNames().stream()
                    .filter(k -> k.startsWith("llmq."))
                    .forEach(k -> high.put(k.substring("llmq.".length()), System.getProperty(k)));
            return this;
        }

        public Builder overrides(Map<String, String> overrides) {
            high.putAll(overrides);
            return this;
        }

        public Settings build() {
            return new Settings(low, env, high);
        }
    }
}
