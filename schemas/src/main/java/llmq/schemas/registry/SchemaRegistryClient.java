package llmq.schemas.registry;

import java.util.List;
import java.util.Optional;
import org.apache.avro.Schema;

/**
 * The part of the Confluent schema-registry REST API llmq's serdes need. Implementations cache:
 * registering the same schema twice, or fetching the same id twice, costs one call.
 */
public interface SchemaRegistryClient {

    /** Registers {@code schema} under {@code subject} (or finds it) and returns its global id. */
    int register(String subject, Schema schema);

    /** The schema with global id {@code id}. */
    Schema schemaById(int id);

    /** The newest version registered under {@code subject}, if any. */
    Optional<Registered> latest(String subject);

    /** Every subject known to the registry. */
    List<String> subjects();

    /** A schema as registered: subject, version, global id. */
    record Registered(String subject, int version, int id, Schema schema) {
    }
}
