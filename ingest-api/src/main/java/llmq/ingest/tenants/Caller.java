package llmq.ingest.tenants;

/**
 * An authenticated caller: its tenant, and the {@code Authorization} header it sent, which is
 * passed on unchanged when a query is forwarded to the ingest instance owning the data (that
 * instance authenticates it again), so no instance answers for a tenant it has not verified.
 */
public record Caller(Tenant tenant, String authorization) {

    public String tenantId() {
        return tenant.id();
    }

    @Override
    public String toString() {
        return "Caller[" + tenant.id() + "]";
    }
}
