package llmq.ingest.tenants;

import java.util.Optional;

/** Who an API key belongs to. Implementations answer from memory: never a database call per request. */
public interface TenantDirectory {

    /** The tenant of an active (not revoked) key, by the key's SHA-256 hash. */
    Optional<Tenant> byKeyHash(String keyHash);

    /** A tenant by id. */
    Optional<Tenant> tenant(String id);

    /** False until the directory has loaded once. */
    boolean ready();
}
