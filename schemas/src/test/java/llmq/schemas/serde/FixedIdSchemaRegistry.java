package llmq.schemas.serde;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import llmq.schemas.registry.SchemaRegistryClient;
import llmq.schemas.registry.SchemaRegistryException;
import org.apache.avro.Schema;

/**
 * A registry that already holds given schemas under given ids (as a reference registry did when
 * the fixtures were written) and accepts no others: registering anything else under a subject
 * fails as Confluent's registry would for an incompatible schema.
 */
final class FixedIdSchemaRegistry implements SchemaRegistryClient {

    private final Map<String, Registered> bySubject = new LinkedHashMap<>();

    FixedIdSchemaRegistry(List<Registered> registered) {
        registered.forEach(r -> bySubject.put(r.subject(), r));
    }

    @Override
    public int register(String subject, Schema schema) {
        Registered r = bySubject.get(subject);
        if (r == null) {
            throw new SchemaRegistryException(404, 40401, "subject " + subject + " not found");
        }
        if (!r.schema().equals(schema) || !r.schema().toString().equals(schema.toString())) {
            throw new SchemaRegistryException(409, 409, "schema differs from the one registered under " + subject
                    + " with id " + r.id());
        }
        return r.id();
    }

    @Override
    public Schema schemaById(int id) {
        return bySubject.values().stream().filter(r -> r.id() == id).map(Registered::schema).findFirst()
                .orElseThrow(() -> new SchemaRegistryException(404, 40403, "schema " + id + " not found"));
    }

    @Override
    public Optional<Registered> latest(String subject) {
        return Optional.ofNullable(bySubject.get(subject));
    }

    @Override
    public List<String> subjects() {
        return new ArrayList<>(bySubject.keySet());
    }
}
