package llmq.billing.topology;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import llmq.avro.BillingRecord;
import llmq.avro.Tenant;
import llmq.avro.TenantBudget;
import llmq.billing.internal.avro.MonthToDate;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Month-to-date spend per tenant against its monthly budget, published to {@code llm.budgets}
 * (key: tenant id) for admission control.
 *
 * <p>Each billed request in the budget currency adds to its tenant's spend for the UTC month of
 * the usage; a new month starts from zero, usage of an earlier month leaves the current month
 * alone. The tenant's budget comes from the global tenants store ({@code monthly_budget}, null =
 * unlimited). The budget is exhausted ({@code over_budget}) once spend reaches it.
 *
 * <p>Publication: at once when a request flips {@code over_budget} or starts a month; otherwise
 * changes are published by a wall-clock punctuator every publish interval, which also notices a
 * budget changed in the tenants table (raised, lowered, removed) and the month rolling over with
 * no usage (the new month is published at zero, so admission resumes). Only tenants with usage
 * have an entry; a tenant with no usage this month has nothing to be refused for.
 */
final class MonthToDateBudgets implements Processor<String, BillingRecord, String, TenantBudget> {

    private final String currency;
    private final Duration publishInterval;
    private final BillingMetrics metrics;
    private ProcessorContext<String, TenantBudget> context;
    private KeyValueStore<String, MonthToDate> months;
    private KeyValueStore<String, Tenant> tenants;

    MonthToDateBudgets(String currency, Duration publishInterval, BillingMetrics metrics) {
        this.currency = currency;
        this.publishInterval = publishInterval;
        this.metrics = metrics;
    }

    @Override
    public void init(ProcessorContext<String, TenantBudget> context) {
        this.context = context;
        this.months = context.getStateStore(BillingTopology.MONTH_TO_DATE_STORE);
        this.tenants = context.getStateStore(BillingTopology.TENANTS_STORE);
        context.schedule(publishInterval, PunctuationType.WALL_CLOCK_TIME, this::publishChanges);
    }

    static String month(Instant at) {
        return YearMonth.from(at.atOffset(ZoneOffset.UTC)).toString();
    }

    @Override
    public void process(Record<String, BillingRecord> record) {
        BillingRecord b = record.value();
        String tenant = b.getUsage().getTenantId();
        String month = month(b.getUsage().getAt());
        MonthToDate mtd = months.get(tenant);
        boolean newMonth = mtd == null || month.compareTo(mtd.getMonth()) > 0;
        if (newMonth) {
            mtd = fresh(month);
        } else if (month.compareTo(mtd.getMonth()) < 0) {
            return; // late usage of a month already closed: in the daily aggregates, not in this month's spend
        }
        if (!currency.equals(b.getCurrency()) && b.getTotalCost().signum() != 0) {
            metrics.otherCurrency();
            mtd.setOtherCurrencyRequests(mtd.getOtherCurrencyRequests() + 1);
        } else {
            mtd.setTotals(Totals.add(mtd.getTotals(), b));
        }
        mtd.setUpdatedAt(Instant.ofEpochMilli(context.currentSystemTimeMs()));
        BigDecimal budget = budget(tenant);
        boolean flips = isOver(mtd, budget) != mtd.getPublishedOver();
        mtd.setPublished(false);
        if (newMonth || flips) {
            publish(tenant, mtd, budget);
        }
        months.put(tenant, mtd);
    }

    private MonthToDate fresh(String month) {
        return MonthToDate.newBuilder()
                .setMonth(month).setCurrency(currency).setTotals(Totals.empty())
                .setOtherCurrencyRequests(0).setPublished(false).setPublishedBudget(null).setPublishedOver(false)
                .setUpdatedAt(Instant.ofEpochMilli(context.currentSystemTimeMs()))
                .build();
    }

    private void publishChanges(long now) {
        String current = month(Instant.ofEpochMilli(now));
        List<KeyValue<String, MonthToDate>> changed = new ArrayList<>();
        try (KeyValueIterator<String, MonthToDate> it = months.all()) {
            while (it.hasNext()) {
                KeyValue<String, MonthToDate> kv = it.next();
                MonthToDate mtd = kv.value;
                BigDecimal budget = budget(kv.key);
                if (current.compareTo(mtd.getMonth()) > 0) {
                    mtd = fresh(current);
                } else if (mtd.getPublished() && sameBudget(budget, mtd.getPublishedBudget())
                        && isOver(mtd, budget) == mtd.getPublishedOver()) {
                    continue;
                }
                publish(kv.key, mtd, budget);
                changed.add(KeyValue.pair(kv.key, mtd));
            }
        }
        changed.forEach(kv -> months.put(kv.key, kv.value));
    }

    private void publish(String tenant, MonthToDate mtd, BigDecimal budget) {
        boolean over = isOver(mtd, budget);
        long now = context.currentSystemTimeMs();
        TenantBudget tb = TenantBudget.newBuilder()
                .setTenantId(tenant)
                .setMonth(mtd.getMonth())
                .setCurrency(mtd.getCurrency())
                .setSpent(mtd.getTotals().getTotalCost())
                .setBudget(budget)
                .setOverBudget(over)
                .setUpdatedAt(Instant.ofEpochMilli(now))
                .build();
        context.forward(new Record<>(tenant, tb, now));
        mtd.setPublished(true);
        mtd.setPublishedBudget(budget);
        mtd.setPublishedOver(over);
    }

    static boolean isOver(MonthToDate mtd, BigDecimal budget) {
        return budget != null && mtd.getTotals().getTotalCost().compareTo(budget) >= 0;
    }

    private static boolean sameBudget(BigDecimal a, BigDecimal b) {
        return a == null ? b == null : b != null && a.compareTo(b) == 0;
    }

    /** The tenant's monthly budget (scale 6), or null when it has none or is unknown. */
    private BigDecimal budget(String tenant) {
        Tenant t = tenants.get(tenant);
        return t == null ? null : t.getMonthlyBudget();
    }

}
