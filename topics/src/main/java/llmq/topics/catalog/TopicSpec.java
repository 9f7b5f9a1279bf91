package llmq.topics.catalog;

import java.util.Map;
import org.apache.avro.specific.SpecificRecord;

/**
 * One topic as llmq expects it: name, what its key is, the Avro type of its values, its
 * partition count and topic-level config. Immutable; obtained from {@link TopicCatalog}.
 *
 * @param name        topic name
 * @param key         what the (string) key holds, e.g. "request id"
 * @param valueType   generated Avro class of the values
 * @param partitions  partition count
 * @param config      topic configs (cleanup.policy, retention.ms, ...)
 * @param description one line for docs and the CLI
 */
public record TopicSpec<V extends SpecificRecord>(String name, String key, Class<V> valueType, int partitions,
                                                  Map<String, String> config, String description) {
    public TopicSpec {
        config = Map.copyOf(config);
    }
}
