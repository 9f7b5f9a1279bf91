package llmq.ingest.support;

import java.time.Instant;
import java.util.UUID;
import llmq.avro.ApiKey;
import llmq.avro.Priority;
import llmq.avro.Tenant;
import llmq.common.auth.ApiKeys;
import llmq.testsupport.Infra;
import llmq.testsupport.KafkaIo;
import llmq.topics.catalog.TopicCatalog;

/**
 * Tenants and keys as billing's change data capture publishes them ({@code llm.config.tenants},
 * {@code llm.config.api-keys}): ingest reads only the topics.
 */
public final class Tenants {

    /** A published tenant and its key. */
    public record Created(String id, String key, String keyId) {
    }

    private Tenants() {
    }

    public static Created create(Infra infra, String prefix, Priority max, Integer rpm, Integer tpm) {
        try (KafkaIo io = new KafkaIo(infra)) {
            return create(io, infra.catalog(), prefix, max, rpm, tpm);
        }
    }

    public static Created create(KafkaIo io, TopicCatalog catalog, String prefix, Priority max, Integer rpm, Integer tpm) {
        String id = prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
        ApiKeys.Generated key = ApiKeys.generate();
        io.send(catalog.configTenants(), id, Tenant.newBuilder().setId(id).setName(id)
                .setDefaultPriority(Priority.NORMAL).setMaxPriority(max).setRpmLimit(rpm).setTpmLimit(tpm)
                .setUpdatedAt(Instant.now()).build());
        io.send(catalog.configApiKeys(), key.id(), ApiKey.newBuilder().setId(key.id()).setTenantId(id)
                .setKeyHash(ApiKeys.hash(key.key())).setCreatedAt(Instant.now()).build());
        return new Created(id, key.key(), key.id());
    }
}
