package llmq.ingest.tenants;

import llmq.avro.Priority;

/**
 * A tenant as admission sees it.
 *
 * @param defaultPriority level used when a request names none
 * @param maxPriority     most urgent level the tenant may ask for
 * @param rpmLimit        requests per minute, or null for no limit
 * @param tpmLimit        estimated tokens per minute, or null for no limit
 */
public record Tenant(String id, String name, String tier, Priority defaultPriority, Priority maxPriority, double weight,
                     Integer rpmLimit, Integer tpmLimit) {

    /** Without rate limits. */
    public Tenant(String id, String name, String tier, Priority defaultPriority, Priority maxPriority, double weight) {
        this(id, name, tier, defaultPriority, maxPriority, weight, null, null);
    }

    /** True when the tenant may submit at {@code p}. */
    public boolean allows(Priority p) {
        return p.ordinal() >= maxPriority.ordinal();
    }
}
