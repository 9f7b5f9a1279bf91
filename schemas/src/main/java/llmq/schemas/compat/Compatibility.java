package llmq.schemas.compat;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaCompatibility.Incompatibility;
import org.apache.avro.SchemaCompatibility.SchemaCompatibilityType;

/**
 * Schema-evolution rules with the Confluent registry's meaning, used by the development
 * registry and by the build's schema-evolution test.
 *
 * <ul>
 *   <li>BACKWARD: the new schema can read data written with the previous one;</li>
 *   <li>FORWARD: the previous schema can read data written with the new one;</li>
 *   <li>FULL: both; the {@code _TRANSITIVE} forms check every earlier version, not just the latest.</li>
 * </ul>
 */
public enum Compatibility {
    NONE, BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE;

    /** Parses a level name as the registry API spells it (case-insensitive). */
    public static Compatibility parse(String s) {
        return valueOf(s.trim().toUpperCase(Locale.ROOT));
    }

    /**
     * Problems that make {@code candidate} incompatible with {@code previous} (oldest first);
     * empty when compatible.
     */
    public List<String> problems(Schema candidate, List<Schema> previous) {
        List<String> out = new ArrayList<>();
        if (this == NONE || previous.isEmpty()) {
            return out;
        }
        boolean transitive = name().endsWith("_TRANSITIVE");
        List<Schema> against = transitive ? previous : List.of(previous.get(previous.size() - 1));
        boolean backward = this != FORWARD && this != FORWARD_TRANSITIVE;
        boolean forward = this != BACKWARD && this != BACKWARD_TRANSITIVE;
        for (Schema old : against) {
            if (backward) {
                describe(candidate, old, "new schema cannot read data written with an existing schema", out);
            }
            if (forward) {
                describe(old, candidate, "an existing schema cannot read data written with the new schema", out);
            }
        }
        return out;
    }

    private static void describe(Schema reader, Schema writer, String what, List<String> out) {
        SchemaCompatibility.SchemaPairCompatibility pair =
                SchemaCompatibility.checkReaderWriterCompatibility(reader, writer);
        if (pair.getType() != SchemaCompatibilityType.COMPATIBLE) {
            for (Incompatibility i : pair.getResult().getIncompatibilities()) {
                out.add(what + ": " + i.getType() + " at " + i.getLocation() + " (" + i.getMessage() + ")");
            }
        }
    }
}
