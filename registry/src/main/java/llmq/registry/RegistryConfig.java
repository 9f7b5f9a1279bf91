package llmq.registry;

import llmq.common.config.ConfigException;
import llmq.common.config.Settings;
import llmq.schemas.compat.Compatibility;

/**
 * Settings of the development schema registry.
 *
 * <ul>
 *   <li>{@code registry.host} — bind address, default {@code 127.0.0.1}</li>
 *   <li>{@code registry.port} — default {@code 8081} (0 picks a free port)</li>
 *   <li>{@code registry.topic} — compacted topic holding the schemas, default {@code _llmq_schemas}</li>
 *   <li>{@code registry.compatibility} — global default level, default {@code BACKWARD}</li>
 * </ul>
 * Kafka connection: {@code kafka.bootstrap.servers} (see {@link llmq.common.kafka.KafkaConfig}).
 */
public record RegistryConfig(String host, int port, String topic, Compatibility compatibility) {

    public static RegistryConfig from(Settings s) {
        int port = s.integer("registry.port", 8081);
        if (port < 0 || port > 65535) {
            throw new ConfigException("registry.port", Integer.toString(port), "must be 0..65535");
        }
        String level = s.string("registry.compatibility", "BACKWARD");
        Compatibility c;
        try {
            c = Compatibility.parse(level);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("registry.compatibility", level, "must be one of NONE, BACKWARD, "
                    + "BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE");
        }
        return new RegistryConfig(s.string("registry.host", "127.0.0.1"), port,
                s.string("registry.topic", "_llmq_schemas"), c);
    }
}
