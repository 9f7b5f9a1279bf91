package llmq.topics.catalog;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import llmq.schemas.registry.SchemaRegistryClient;
import llmq.schemas.serde.AvroSerde;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/**
 * The serdes of the catalog's topics over one schema-registry client: string keys, Avro values
 * in the Confluent wire format. One instance per service; serdes are shared and thread-safe.
 */
public final class TopicSerdes {

    private final SchemaRegistryClient registry;
    private final Map<Class<?>, AvroSerde<?>> serdes = new ConcurrentHashMap<>();

    public TopicSerdes(SchemaRegistryClient registry) {
        this.registry = registry;
    }

    /** The registry the serdes register with. */
    public SchemaRegistryClient registry() {
        return registry;
    }

    /** Every key is a string: request id, dedup key, tenant id or row id. */
    public Serde<String> key() {
        return Serdes.String();
    }

    /** The value serde of {@code topic}. */
    public <V extends SpecificRecord> AvroSerde<V> value(TopicSpec<V> topic) {
        return value(topic.valueType());
    }

    /** The value serde of an Avro type (for stores and intermediate topics). */
    @SuppressWarnings("unchecked")
    public <V extends SpecificRecord> AvroSerde<V> value(Class<V> type) {
        return (AvroSerde<V>) serdes.computeIfAbsent(type, t -> new AvroSerde<>(registry, type));
    }
}
