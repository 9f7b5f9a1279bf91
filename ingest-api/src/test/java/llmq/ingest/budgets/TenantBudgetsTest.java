package llmq.ingest.budgets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.math.BigDecimal;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import llmq.avro.TenantBudget;
import llmq.ingest.submit.ApiException;
import org.junit.jupiter.api.Test;

class TenantBudgetsTest {

    private final SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    private final TenantBudgets budgets = new TenantBudgets(
            Clock.fixed(Instant.parse("2026-05-31T23:59:59Z"), ZoneOffset.UTC), metrics);

    private static TenantBudget budget(String month, String spent, String limit, boolean over) {
        return TenantBudget.newBuilder().setTenantId("acme").setMonth(month).setCurrency("EUR")
                .setSpent(new BigDecimal(spent).setScale(12)).setBudget(limit == null ? null : new BigDecimal(limit).setScale(6))
                .setOverBudget(over).setUpdatedAt(Instant.EPOCH).build();
    }

    @Test
    void shouldRefuseWith402NamingSpendAndBudgetWhileThisMonthsBudgetIsExhausted() {
        budgets.onBudget("acme", budget("2026-05", "12.345", "12", true));

        assertThatThrownBy(() -> budgets.admit("acme")).isInstanceOfSatisfying(ApiException.class, e -> {
            assertThat(e.status()).isEqualTo(402);
            assertThat(e.type()).isEqualTo("budget_exceeded");
            assertThat(e.getMessage()).contains("12.35 EUR spent of 12.00 EUR in 2026-05").contains("raised");
        });
        assertThat(metrics.counter("llmq_ingest_budget_refusals").count()).isEqualTo(1);
    }

    @Test
    void shouldAdmitATenantUnderBudgetWithoutBudgetOrWithoutRecord() {
        budgets.onBudget("acme", budget("2026-05", "1", "12", false));
        assertThatCode(() -> budgets.admit("acme")).doesNotThrowAnyException();
        budgets.onBudget("acme", budget("2026-05", "1", null, false));
        assertThatCode(() -> budgets.admit("acme")).doesNotThrowAnyException();
        assertThatCode(() -> budgets.admit("unknown")).doesNotThrowAnyException();
    }

    @Test
    void shouldAdmitAgainWhenTheMonthHasRolledOver() {
        budgets.onBudget("acme", budget("2026-04", "99", "12", true));

        assertThatCode(() -> budgets.admit("acme")).doesNotThrowAnyException();
    }

    @Test
    void shouldAdmitAgainAfterATombstone() {
        budgets.onBudget("acme", budget("2026-05", "99", "12", true));
        budgets.onBudget("acme", null);

        assertThatCode(() -> budgets.admit("acme")).doesNotThrowAnyException();
    }
}
