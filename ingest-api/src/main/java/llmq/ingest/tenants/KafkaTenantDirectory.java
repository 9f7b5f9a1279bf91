package llmq.ingest.tenants;

import java.time.Clock;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;
import llmq.avro.ApiKey;

/**
 * Tenants and API key hashes as streamed from PostgreSQL by billing's change data capture into
 * {@code llm.config.tenants} (key: tenant id) and {@code llm.config.api-keys} (key: key id), kept
 * in memory: a request never waits on the database, and a key revoked in PostgreSQL is refused as
 * soon as its change reaches the topic. A key counts as revoked from its {@code revoked_at} on (a
 * future {@code revoked_at} schedules the revocation); a deleted row (tombstone) is gone.
 */
public final class KafkaTenantDirectory implements TenantDirectory {

    private final Map<String, Tenant> tenants = new ConcurrentHashMap<>();
    /** Every known key, by id (to find what a changed row replaces), and by hash (to authenticate). */
    private final Map<String, ApiKey> keysById = new ConcurrentHashMap<>();
    private final Map<String, ApiKey> keysByHash = new ConcurrentHashMap<>();
    private final Clock clock;
    private BooleanSupplier ready = () -> false;

    public KafkaTenantDirectory(Clock clock) {
        this.clock = clock;
    }

    /** Tells the directory how to know it is loaded (its reader's readiness). */
    public KafkaTenantDirectory readyWhen(BooleanSupplier loaded) {
        this.ready = loaded;
        return this;
    }

    /** Applies one record of {@code llm.config.tenants}; null deletes. */
    public void onTenant(String id, llmq.avro.Tenant t) {
        if (id == null) {
            return;
        }
        if (t == null) {
            tenants.remove(id);
        } else {
            tenants.put(id, new Tenant(t.getId(), t.getName(), t.getTier(), t.getDefaultPriority(), t.getMaxPriority(),
                    t.getWeight(), t.getRpmLimit(), t.getTpmLimit()));
        }
    }

    /** Applies one record of {@code llm.config.api-keys}; null deletes. */
    public synchronized void onApiKey(String id, ApiKey key) {
        if (id == null) {
            return;
        }
        ApiKey old = key == null ? keysById.remove(id) : keysById.put(id, key);
        if (old != null) {
            keysByHash.remove(old.getKeyHash().toLowerCase(Locale.ROOT), old);
        }
        if (key != null) {
            keysByHash.put(key.getKeyHash().toLowerCase(Locale.ROOT), key);
        }
    }

    @Override
    public Optional<Tenant> byKeyHash(String keyHash) {
        ApiKey k = keysByHash.get(keyHash.toLowerCase(Locale.ROOT));
        if (k == null || (k.getRevokedAt() != null && !k.getRevokedAt().isAfter(clock.instant()))) {
            return Optional.empty();
        }
        return Optional.ofNullable(tenants.get(k.getTenantId()));
    }

    @Override
    public Optional<Tenant> tenant(String id) {
        return Optional.ofNullable(tenants.get(id));
    }

    @Override
    public boolean ready() {
        return ready.getAsBoolean();
    }
}
