package llmq.billing.topology;

import java.math.BigDecimal;
import llmq.avro.BillingRecord;
import llmq.avro.UsageEvent;
import llmq.billing.internal.avro.UsageTotals;
import llmq.billing.pricing.Pricing;

/** Exact arithmetic on {@link UsageTotals}: token counts as longs, costs as scale-12 decimals. */
public final class Totals {

    private static final BigDecimal ZERO = BigDecimal.ZERO.setScale(Pricing.COST_SCALE);

    private Totals() {
    }

    /** Nothing used yet. */
    public static UsageTotals empty() {
        return UsageTotals.newBuilder().setRequests(0).setPromptTokens(0).setCompletionTokens(0)
                .setCachedPromptTokens(0).setInputCost(ZERO).setOutputCost(ZERO).setTotalCost(ZERO)
                .setUnpricedRequests(0).build();
    }

    /** {@code t} plus one billed request (a new object; {@code t} is not changed). */
    public static UsageTotals add(UsageTotals t, BillingRecord b) {
        UsageEvent u = b.getUsage();
        return UsageTotals.newBuilder()
                .setRequests(t.getRequests() + 1)
                .setPromptTokens(t.getPromptTokens() + u.getPromptTokens())
                .setCompletionTokens(t.getCompletionTokens() + u.getCompletionTokens())
                .setCachedPromptTokens(t.getCachedPromptTokens() + u.getCachedPromptTokens())
                .setInputCost(t.getInputCost().add(b.getInputCost()))
                .setOutputCost(t.getOutputCost().add(b.getOutputCost()))
                .setTotalCost(t.getTotalCost().add(b.getTotalCost()))
                .setUnpricedRequests(t.getUnpricedRequests() + (b.getUnpriced() ? 1 : 0))
                .build();
    }

    /** The sum of two totals. */
    public static UsageTotals sum(UsageTotals a, UsageTotals b) {
        return UsageTotals.newBuilder()
                .setRequests(a.getRequests() + b.getRequests())
                .setPromptTokens(a.getPromptTokens() + b.getPromptTokens())
                .setCompletionTokens(a.getCompletionTokens() + b.getCompletionTokens())
                .setCachedPromptTokens(a.getCachedPromptTokens() + b.getCachedPromptTokens())
                .setInputCost(a.getInputCost().add(b.getInputCost()))
                .setOutputCost(a.getOutputCost().add(b.getOutputCost()))
                .setTotalCost(a.getTotalCost().add(b.getTotalCost()))
                .setUnpricedRequests(a.getUnpricedRequests() + b.getUnpricedRequests())
                .build();
    }
}
