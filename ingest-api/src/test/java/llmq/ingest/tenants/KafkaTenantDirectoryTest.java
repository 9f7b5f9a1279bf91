package llmq.ingest.tenants;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import llmq.avro.ApiKey;
import llmq.avro.Priority;
import org.junit.jupiter.api.Test;

class KafkaTenantDirectoryTest {

    private static final Instant NOW = Instant.parse("2026-05-10T12:00:00Z");
    private final KafkaTenantDirectory directory = new KafkaTenantDirectory(Clock.fixed(NOW, ZoneOffset.UTC));

    private static llmq.avro.Tenant tenant(String id, Priority max) {
        return llmq.avro.Tenant.newBuilder().setId(id).setName("Name " + id).setTier("gold")
                .setDefaultPriority(Priority.NORMAL).setMaxPriority(max).setWeight(2.0).setUpdatedAt(Instant.EPOCH).build();
    }

    private static ApiKey key(String id, String tenant, String hash, Instant revokedAt) {
        return ApiKey.newBuilder().setId(id).setTenantId(tenant).setKeyHash(hash).setCreatedAt(Instant.EPOCH)
                .setRevokedAt(revokedAt).build();
    }

    @Test
    void shouldAuthenticateAnActiveKeyOfAKnownTenant() {
        directory.onTenant("acme", tenant("acme", Priority.HIGH));
        directory.onApiKey("k1", key("k1", "acme", "abc", null));

        assertThat(directory.byKeyHash("abc")).hasValueSatisfying(t -> {
            assertThat(t.id()).isEqualTo("acme");
            assertThat(t.maxPriority()).isEqualTo(Priority.HIGH);
            assertThat(t.weight()).isEqualTo(2.0);
        });
        assertThat(directory.byKeyHash("other")).isEmpty();
    }

    @Test
    void shouldRefuseAKeyOnceItIsRevokedButNotBeforeAScheduledRevocation() {
        directory.onTenant("acme", tenant("acme", Priority.HIGH));
        directory.onApiKey("k1", key("k1", "acme", "abc", null));
        directory.onApiKey("k2", key("k2", "acme", "def", NOW.plusSeconds(60)));

        directory.onApiKey("k1", key("k1", "acme", "abc", NOW.minusSeconds(1)));

        assertThat(directory.byKeyHash("abc")).isEmpty();
        assertThat(directory.byKeyHash("def")).as("revoked only from its revoked_at on").isPresent();
    }

    @Test
    void shouldForgetTheOldHashWhenAKeyRowChangesAndEverythingOnTombstones() {
        directory.onTenant("acme", tenant("acme", Priority.HIGH));
        directory.onApiKey("k1", key("k1", "acme", "old", null));
        directory.onApiKey("k1", key("k1", "acme", "new", null));

        assertThat(directory.byKeyHash("old")).isEmpty();
        assertThat(directory.byKeyHash("new")).isPresent();

        directory.onApiKey("k1", null);
        assertThat(directory.byKeyHash("new")).isEmpty();

        directory.onApiKey("k2", key("k2", "acme", "x", null));
        directory.onTenant("acme", null);
        assertThat(directory.byKeyHash("x")).as("the key of a deleted tenant").isEmpty();
        assertThat(directory.tenant("acme")).isEmpty();
    }

    @Test
    void shouldBeReadyOnlyOnceItsReaderIsLoaded() {
        assertThat(directory.ready()).isFalse();
        boolean[] loaded = {false};
        directory.readyWhen(() -> loaded[0]);
        assertThat(directory.ready()).isFalse();
        loaded[0] = true;
        assertThat(directory.ready()).isTrue();
    }
}
