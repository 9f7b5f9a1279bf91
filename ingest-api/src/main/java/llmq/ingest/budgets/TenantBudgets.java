package llmq.ingest.budgets;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Clock;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import llmq.avro.TenantBudget;
import llmq.ingest.submit.ApiException;

/**
 * Month-to-date spend against each tenant's monthly budget, as billing publishes it on
 * {@code llm.budgets} (key: tenant id), kept in memory. A tenant whose budget for the current UTC
 * month is exhausted is refused with 402 {@code budget_exceeded} until billing publishes that the
 * budget was raised, or the month rolls over (a record for an earlier month refuses nothing).
 *
 * <p>Spend is known once billing has priced the usage, so requests already in flight when the
 * budget is reached still run: the overshoot is bounded by what is in flight, not zero.
 */
public final class TenantBudgets implements BudgetGuard {

    private final Map<String, TenantBudget> budgets = new ConcurrentHashMap<>();
    private final Clock clock;
    private final Counter refused;

    public TenantBudgets(Clock clock, MeterRegistry metrics) {
        this.clock = clock;
        this.refused = Counter.builder("llmq_ingest_budget_refusals")
                .description("submissions refused with 402 because the tenant's monthly budget is exhausted")
                .register(metrics);
    }

    /** Applies one record of {@code llm.budgets}; null deletes. */
    public void onBudget(String tenantId, TenantBudget b) {
        if (tenantId == null) {
            return;
        }
        if (b == null) {
            budgets.remove(tenantId);
        } else {
            budgets.put(tenantId, b);
        }
    }

    @Override
    public void admit(String tenantId) {
        TenantBudget b = budgets.get(tenantId);
        if (b == null || !b.getOverBudget()) {
            return;
        }
        String month = YearMonth.now(clock.withZone(ZoneOffset.UTC)).toString();
        if (!month.equals(b.getMonth())) {
            return; // the month the budget was exhausted in is over
        }
        refused.increment();
        throw new ApiException(402, "budget_exceeded", null, "the monthly budget of this tenant is exhausted: "
                + money(b.getSpent()) + " " + b.getCurrency() + " spent of " + money(b.getBudget()) + " "
                + b.getCurrency() + " in " + month + "; requests are refused until the budget is raised or the month ends");
    }

    private static String money(BigDecimal amount) {
        return amount == null ? "?" : amount.setScale(2, RoundingMode.HALF_UP).toPlainString();
    }
}
