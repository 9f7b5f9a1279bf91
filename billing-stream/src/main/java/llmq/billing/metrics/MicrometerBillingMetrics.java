package llmq.billing.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import llmq.avro.BillingRecord;
import llmq.avro.UsageEvent;
import llmq.billing.topology.BillingMetrics;

/**
 * The topology's counts as Prometheus metrics:
 *
 * <ul>
 *   <li>{@code llmq_billing_usage_events_total}: usage events read;</li>
 *   <li>{@code llmq_billing_dedup_hits_total}: duplicates of an already billed request id dropped;</li>
 *   <li>{@code llmq_billing_billed_requests_total{tenant,model}}: requests billed;</li>
 *   <li>{@code llmq_billing_cost_total{tenant,model,currency}}: cost billed (a float for dashboards;
 *       the money itself is exact in PostgreSQL);</li>
 *   <li>{@code llmq_billing_tokens_total{tenant,model,kind=prompt|completion}};</li>
 *   <li>{@code llmq_billing_unpriced_usage_total{model}}: requests billed at zero for want of a price
 *       (alerted on);</li>
 *   <li>{@code llmq_billing_late_usage_total{granularity}}: usage past its window's grace, missing
 *       from that aggregate;</li>
 *   <li>{@code llmq_billing_outside_dedup_window_total}: usage too old to check, dead-lettered;</li>
 *   <li>{@code llmq_billing_budget_other_currency_total}: usage not counted against a budget in another currency.</li>
 * </ul>
 */
public final class MicrometerBillingMetrics implements BillingMetrics {

    private final MeterRegistry registry;
    private final Counter usage;
    private final Counter dedup;
    private final Counter outside;
    private final Counter otherCurrency;

    public MicrometerBillingMetrics(MeterRegistry registry) {
        this.registry = registry;
        this.usage = Counter.builder("llmq_billing_usage_events").description("usage events read from llm.usage")
                .register(registry);
        this.dedup = Counter.builder("llmq_billing_dedup_hits")
                .description("usage events dropped because their request id was already billed").register(registry);
        this.outside = Counter.builder("llmq_billing_outside_dedup_window")
                .description("usage older than the dedup window, dead-lettered instead of billed").register(registry);
        this.otherCurrency = Counter.builder("llmq_billing_budget_other_currency")
                .description("billed usage in a currency other than the budget currency").register(registry);
        // present from the start, so that alert expressions see a zero rather than no series
        Counter.builder("llmq_billing_unpriced_usage").description("requests billed at zero: no price for the model")
                .tag("model", "none").register(registry);
    }

    @Override
    public void usageReceived() {
        usage.increment();
    }

    @Override
    public void dedupHit() {
        dedup.increment();
    }

    @Override
    public void billed(BillingRecord b) {
        UsageEvent u = b.getUsage();
        registry.counter("llmq_billing_billed_requests", "tenant", u.getTenantId(), "model", u.getModel()).increment();
        registry.counter("llmq_billing_cost", "tenant", u.getTenantId(), "model", u.getModel(), "currency", b.getCurrency())
                .increment(b.getTotalCost().doubleValue());
        registry.counter("llmq_billing_tokens", "tenant", u.getTenantId(), "model", u.getModel(), "kind", "prompt")
                .increment(u.getPromptTokens());
        registry.counter("llmq_billing_tokens", "tenant", u.getTenantId(), "model", u.getModel(), "kind", "completion")
                .increment(u.getCompletionTokens());
    }

    @Override
    public void unpriced(String model) {
        registry.counter("llmq_billing_unpriced_usage", "model", model).increment();
    }

    @Override
    public void lateForAggregate(String granularity) {
        registry.counter("llmq_billing_late_usage", "granularity", granularity).increment();
    }

    @Override
    public void outsideDedupWindow() {
        outside.increment();
    }

    @Override
    public void otherCurrency() {
        otherCurrency.increment();
    }
}
