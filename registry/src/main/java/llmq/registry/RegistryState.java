package llmq.registry;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import llmq.schemas.compat.Compatibility;
import org.apache.avro.Schema;

/**
 * The registry's contents, rebuilt by replaying its Kafka log: subjects with their versions,
 * schemas by global id, and compatibility levels. Not thread-safe; {@link RegistryStore}
 * guards it.
 */
final class RegistryState {

    /** One version of one subject. */
    record Version(String subject, int version, int id, Schema schema, boolean deleted) {
    }

    private final Map<String, TreeMap<Integer, Version>> subjects = new TreeMap<>();
    private final Map<Integer, Schema> byId = new HashMap<>();
    private final Map<String, Integer> idByCanonical = new HashMap<>();
    private final Map<String, Compatibility> configs = new HashMap<>();
    private int maxId;

    void applyVersion(Version v) {
        subjects.computeIfAbsent(v.subject(), s -> new TreeMap<>()).put(v.version(), v);
        byId.putIfAbsent(v.id(), v.schema());
        idByCanonical.putIfAbsent(v.schema().toString(), v.id());
        maxId = Math.max(maxId, v.id());
    }

    void applyConfig(String subject, Compatibility level) {
        if (level == null) {
            configs.remove(subject == null ? "" : subject);
        } else {
            configs.put(subject == null ? "" : subject, level);
        }
    }

    List<String> subjects() {
        List<String> out = new ArrayList<>();
        subjects.forEach((s, versions) -> {
            if (versions.values().stream().anyMatch(v -> !v.deleted())) {
                out.add(s);
            }
        });
        return out;
    }

    List<Version> versions(String subject) {
        TreeMap<Integer, Version> v = subjects.get(subject);
        List<Version> out = new ArrayList<>();
        if (v != null) {
            v.values().stream().filter(x -> !x.deleted()).forEach(out::add);
        }
        return out;
    }

    Optional<Version> version(String subject, int version) {
        return versions(subject).stream().filter(v -> v.version() == version).findFirst();
    }

    Optional<Version> latest(String subject) {
        List<Version> v = versions(subject);
        return v.isEmpty() ? Optional.empty() : Optional.of(v.get(v.size() - 1));
    }

    /** The version of {@code subject} holding exactly this schema, if registered there. */
    Optional<Version> find(String subject, Schema schema) {
        String canonical = schema.toString();
        return versions(subject).stream().filter(v -> v.schema().toString().equals(canonical)).findFirst();
    }

    Optional<Schema> schema(int id) {
        return Optional.ofNullable(byId.get(id));
    }

    /** Every subject/version using global id {@code id}. */
    List<Version> usages(int id) {
        List<Version> out = new ArrayList<>();
        subjects.values().forEach(m -> m.values().stream().filter(v -> v.id() == id && !v.deleted()).forEach(out::add));
        return out;
    }

    /** The id this schema has anywhere in the registry, or a new one. */
    int idFor(Schema schema) {
        Integer id = idByCanonical.get(schema.toString());
        return id != null ? id : maxId + 1;
    }

    int nextVersion(String subject) {
        TreeMap<Integer, Version> v = subjects.get(subject);
        return v == null || v.isEmpty() ? 1 : v.lastKey() + 1;
    }

    Compatibility compatibility(String subject, Compatibility global) {
        Compatibility c = configs.get(subject);
        if (c != null) {
            return c;
        }
        Compatibility g = configs.get("");
        return g != null ? g : global;
    }

    Optional<Compatibility> subjectConfig(String subject) {
        return Optional.ofNullable(configs.get(subject));
    }
}
