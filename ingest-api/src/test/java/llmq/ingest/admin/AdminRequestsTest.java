package llmq.ingest.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import llmq.common.config.Settings;
import llmq.common.json.Json;
import llmq.ingest.submit.InvalidRequestException;
import org.junit.jupiter.api.Test;

class AdminRequestsTest {

    private final AdminRequests requests = new AdminRequests(TierPresets.from(Settings.of(Map.of(
            "ingest.tiers.free.rpm", "30", "ingest.tiers.gold.max-priority", "realtime"))));

    @Test
    void shouldFillWhatANewTenantLeavesOutFromItsTier() throws Exception {
        AdminStore.TenantRow free = requests.newTenant(Json.mapper().readTree("{\"id\":\"acme\",\"tier\":\"free\"}"));
        assertThat(free.defaultPriority()).isEqualTo("low");
        assertThat(free.maxPriority()).isEqualTo("normal");
        assertThat(free.rpmLimit()).isEqualTo(30);
        assertThat(free.tpmLimit()).isEqualTo(100_000);
        assertThat(free.name()).isEqualTo("acme");
        AdminStore.TenantRow gold = requests.newTenant(Json.mapper().readTree("{\"id\":\"g\",\"tier\":\"gold\",\"rpm_limit\":5}"));
        assertThat(gold.maxPriority()).isEqualTo("realtime");
        assertThat(gold.rpmLimit()).isEqualTo(5);
    }

    @Test
    void shouldRefuseBadTenantsNamingTheField() {
        assertThatThrownBy(() -> requests.newTenant(Json.mapper().readTree("{\"id\":\"a\",\"default_priority\":\"realtime\",\"max_priority\":\"low\"}")))
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.errors().get(0).field()).isEqualTo("default_priority"));
        assertThatThrownBy(() -> requests.newTenant(Json.mapper().readTree("{\"id\":\"a\",\"tier\":\"platinum\"}")))
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.getMessage()).contains("free", "standard", "premium", "gold"));
        assertThatThrownBy(() -> requests.newTenant(Json.mapper().readTree("{\"id\":\"a b\",\"rpm_limit\":0}")))
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.errors()).extracting(f -> f.field())
                        .containsExactly("id", "rpm_limit"));
    }

    @Test
    void shouldApplyOnlyTheGivenFieldsOfAChangeAndClearALimitWithNull() throws Exception {
        AdminStore.TenantRow t = requests.newTenant(Json.mapper().readTree("{\"id\":\"acme\",\"monthly_budget\":\"12.5\"}"));
        AdminStore.TenantRow changed = requests.change(t, Json.mapper().readTree("{\"rpm_limit\":null,\"max_priority\":\"realtime\"}"));
        assertThat(changed.rpmLimit()).isNull();
        assertThat(changed.tpmLimit()).isEqualTo(t.tpmLimit());
        assertThat(changed.maxPriority()).isEqualTo("realtime");
        assertThat(changed.monthlyBudget()).isEqualByComparingTo("12.5");
    }
}
