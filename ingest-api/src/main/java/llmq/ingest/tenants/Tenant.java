package llmq.ingest.tenants;

import llmq.avro.Priority;

/**
 * A tenant as admission sees it.
 *
 * @param defaultPriority level used when a request names none
 * @param maxPriority     most urgent level the tenant may ask for
 */
public record Tenant(String id, String name, String tier, Priority defaultPriority, Priority maxPriority, double weight) {

    /** True when the tenant may submit at {@code p}. */
    public boolean allows(Priority p) {
        return p.ordinal() >= maxPriority.ordinal();
    }
}
