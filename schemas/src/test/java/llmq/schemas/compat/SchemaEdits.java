package llmq.schemas.compat;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.UncheckedIOException;
import java.util.function.Consumer;
import org.apache.avro.Schema;

/**
 * Builds edited copies of a real schema for compatibility tests, by editing its JSON: the
 * result is a new, self-contained schema as a developer's edit of the {@code .avsc} would be.
 */
final class SchemaEdits {

    private static final ObjectMapper JSON = new ObjectMapper();

    private SchemaEdits() {
    }

    /** {@code schema} with {@code fieldJson} appended to its top-level fields. */
    static Schema withField(Schema schema, String fieldJson) {
        return edit(schema, root -> fields(root).add(parse(fieldJson)));
    }

    /** {@code schema} without its top-level field {@code name}. */
    static Schema withoutField(Schema schema, String name) {
        return edit(schema, root -> {
            ArrayNode fields = fields(root);
            for (int i = 0; i < fields.size(); i++) {
                if (fields.get(i).path("name").asText().equals(name)) {
                    fields.remove(i);
                    return;
                }
            }
            throw new IllegalArgumentException("no field " + name + " in " + schema.getFullName());
        });
    }

    /** {@code schema} with the type of its top-level field {@code name} replaced by {@code typeJson}. */
    static Schema withFieldType(Schema schema, String name, String typeJson) {
        return edit(schema, root -> field(root, name).set("type", parse(typeJson)));
    }

    /** {@code schema} with the default of its top-level field {@code name} removed. */
    static Schema withoutDefault(Schema schema, String name) {
        return edit(schema, root -> field(root, name).remove("default"));
    }

    /** {@code schema} with its record doc replaced by {@code doc}. */
    static Schema withDoc(Schema schema, String doc) {
        return edit(schema, root -> root.put("doc", doc));
    }

    private static Schema edit(Schema schema, Consumer<ObjectNode> change) {
        ObjectNode root = (ObjectNode) parse(schema.toString());
        change.accept(root);
        return new Schema.Parser().parse(root.toString());
    }

    private static ArrayNode fields(ObjectNode record) {
        return (ArrayNode) record.get("fields");
    }

    private static ObjectNode field(ObjectNode record, String name) {
        for (JsonNode f : fields(record)) {
            if (f.path("name").asText().equals(name)) {
                return (ObjectNode) f;
            }
        }
        throw new IllegalArgumentException("no field " + name + " in " + record.path("name").asText());
    }

    private static JsonNode parse(String json) {
        try {
            return JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
