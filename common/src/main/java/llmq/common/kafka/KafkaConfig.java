package llmq.common.kafka;

import java.util.HashMap;
import java.util.Map;
import llmq.common.config.ConfigException;
import llmq.common.config.Settings;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;

/**
 * How a service reaches Kafka and the schema registry.
 *
 * @param bootstrapServers {@code kafka.bootstrap.servers}, default {@code localhost:9092}
 * @param registryUrl      {@code registry.url}, default {@code http://localhost:8081}
 * @param clientOverrides  every {@code kafka.client.*} key, passed to all clients (security, timeouts)
 */
public record KafkaConfig(String bootstrapServers, String registryUrl, Map<String, String> clientOverrides) {

    public KafkaConfig {
        clientOverrides = Map.copyOf(clientOverrides);
    }

    public static KafkaConfig from(Settings s) {
        String bootstrap = s.string("kafka.bootstrap.servers", "localhost:9092");
        if (!bootstrap.matches("[^\\s,]+:\\d+(,[^\\s,]+:\\d+)*")) {
            throw new ConfigException("kafka.bootstrap.servers", bootstrap, "must be host:port[,host:port...]");
        }
        String registry = s.string("registry.url", "http://localhost:8081");
        if (!registry.startsWith("http://") && !registry.startsWith("https://")) {
            throw new ConfigException("registry.url", registry, "must be an http(s) URL");
        }
        return new KafkaConfig(bootstrap, registry, s.withPrefix("kafka.client"));
    }

    /** Settings common to every client. */
    public Map<String, Object> common(String clientId) {
        Map<String, Object> p = new HashMap<>();
        p.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(CommonClientConfigs.CLIENT_ID_CONFIG, clientId);
        p.putAll(clientOverrides);
        return p;
    }

    /**
     * A producer that only reports success once every in-sync replica has the record, and never
     * duplicates or reorders on retry.
     */
    public Map<String, Object> producer(String clientId) {
        Map<String, Object> p = common(clientId);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.LINGER_MS_CONFIG, 1);
        p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        p.putAll(clientOverrides);
        return p;
    }

    /** A read-committed consumer with manual commits. */
    public Map<String, Object> consumer(String clientId, String groupId) {
        Map<String, Object> p = common(clientId);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.putAll(clientOverrides);
        return p;
    }
}
