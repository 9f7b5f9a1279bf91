package llmq.schemas.registry;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;

/**
 * A registry held in memory, for topology tests ({@code TopologyTestDriver}) and tools that
 * need the wire format without a registry server. Ids are assigned from 1 in registration
 * order; the same schema text gets the same id across subjects, as in Confluent's registry.
 */
public final class InMemorySchemaRegistryClient implements SchemaRegistryClient {

    private final Map<String, Integer> idsBySchema = new ConcurrentHashMap<>();
    private final Map<Integer, Schema> schemas = new ConcurrentHashMap<>();
    private final Map<String, List<Registered>> subjects = new ConcurrentHashMap<>();

    @Override
    public synchronized int register(String subject, Schema schema) {
        String text = schema.toString();
        int id = idsBySchema.computeIfAbsent(text, t -> idsBySchema.size() + 1);
        schemas.putIfAbsent(id, schema);
        List<Registered> versions = subjects.computeIfAbsent(subject, s -> new ArrayList<>());
        if (versions.stream().noneMatch(r -> r.id() == id)) {
            versions.add(new Registered(subject, versions.size() + 1, id, schema));
        }
        return id;
    }

    @Override
    public Schema schemaById(int id) {
        Schema s = schemas.get(id);
        if (s == null) {
            throw new SchemaRegistryException(404, 40403, "schema " + id + " not found");
        }
        return s;
    }

    @Override
    public synchronized Optional<Registered> latest(String subject) {
        List<Registered> v = subjects.get(subject);
        return v == null || v.isEmpty() ? Optional.empty() : Optional.of(v.get(v.size() - 1));
    }

    @Override
    public synchronized List<String> subjects() {
        return new ArrayList<>(subjects.keySet());
    }
}
