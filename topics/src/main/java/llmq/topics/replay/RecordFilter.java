package llmq.topics.replay;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * A {@code --filter tenant=acme,model=gpt-4o,status=rate_limited,priority=low} over
 * {@link RecordFacts}: every given field must match exactly; a field the record lacks never
 * matches.
 */
public record RecordFilter(Map<String, String> fields) implements Predicate<RecordFacts> {

    private static final Set<String> KNOWN = Set.of("tenant", "model", "status", "priority");

    public RecordFilter {
        fields = Map.copyOf(fields);
    }

    public static RecordFilter none() {
        return new RecordFilter(Map.of());
    }

    public static RecordFilter parse(String spec) {
        Map<String, String> m = new HashMap<>();
        if (spec != null && !spec.isBlank()) {
            for (String part : spec.split(",")) {
                int eq = part.indexOf('=');
                if (eq <= 0) {
                    throw new IllegalArgumentException("filter '" + part + "' must be field=value");
                }
                String field = part.substring(0, eq).trim();
                if (!KNOWN.contains(field)) {
                    throw new IllegalArgumentException("filter field '" + field + "' must be one of tenant, model, status, priority");
                }
                m.put(field, part.substring(eq + 1).trim());
            }
        }
        return new RecordFilter(m);
    }

    @Override
    public boolean test(RecordFacts f) {
        for (Map.Entry<String, String> e : fields.entrySet()) {
            String actual = switch (e.getKey()) {
                case "tenant" -> f.tenant();
                case "model" -> f.model();
                case "status" -> f.status();
                default -> f.priority();
            };
            if (!e.getValue().equals(actual)) {
                return false;
            }
        }
        return true;
    }
}
