package llmq.common.config;

/**
 * A configuration value is missing or invalid. The message names the key, the value and what
 * was expected, so that a service refuses to start with a line an operator can act on.
 */
public final class ConfigException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String key;

    public ConfigException(String key, String value, String problem) {
        super("configuration '" + key + "'" + (value == null ? "" : " = '" + value + "'") + " " + problem);
        this.key = key;
    }

    /** The configuration key at fault. */
    public String key() {
        return key;
    }
}
