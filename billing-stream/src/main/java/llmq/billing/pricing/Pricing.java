package llmq.billing.pricing;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Instant;
import java.util.Optional;
import llmq.avro.BillingRecord;
import llmq.avro.ModelPrice;
import llmq.avro.UsageEvent;

/**
 * Prices usage exactly: cost = tokens × price per million / 10^6 in decimal arithmetic at
 * scale 12 (prices have scale 6, so no rounding ever happens). Cached input tokens are charged
 * at the cached-input price when the model has one, else at the input price. Usage of a model
 * with no price is billed at zero and flagged {@code unpriced}, never dropped.
 */
public final class Pricing {

    /** Scale of every cost value (matches {@code decimal(38,12)} in Avro and PostgreSQL). */
    public static final int COST_SCALE = 12;
    private static final BigDecimal MILLION = BigDecimal.valueOf(1_000_000);

    private Pricing() {
    }

    /** The billing record of {@code usage} under {@code price} (empty when unpriced). */
    public static BillingRecord price(UsageEvent usage, Optional<ModelPrice> price, Instant billedAt) {
        BillingRecord.Builder b = BillingRecord.newBuilder().setUsage(usage).setBilledAt(billedAt);
        if (price.isEmpty()) {
            BigDecimal zero = BigDecimal.ZERO.setScale(COST_SCALE);
            return b.setCurrency("USD").setInputCost(zero).setOutputCost(zero).setTotalCost(zero).setUnpriced(true).build();
        }
        ModelPrice p = price.get();
        int cached = Math.max(0, Math.min(usage.getCachedPromptTokens(), usage.getPromptTokens()));
        int uncached = usage.getPromptTokens() - cached;
        BigDecimal cachedPrice = p.getCachedInputPerMillion() != null ? p.getCachedInputPerMillion() : p.getInputPerMillion();
        BigDecimal input = cost(uncached, p.getInputPerMillion()).add(cost(cached, cachedPrice));
        BigDecimal output = cost(usage.getCompletionTokens(), p.getOutputPerMillion());
        return b.setCurrency(p.getCurrency())
                .setInputPricePerMillion(p.getInputPerMillion())
                .setOutputPricePerMillion(p.getOutputPerMillion())
                .setCachedInputPricePerMillion(p.getCachedInputPerMillion())
                .setPriceEffectiveFrom(p.getEffectiveFrom())
                .setInputCost(input.setScale(COST_SCALE, RoundingMode.UNNECESSARY))
                .setOutputCost(output.setScale(COST_SCALE, RoundingMode.UNNECESSARY))
                .setTotalCost(input.add(output).setScale(COST_SCALE, RoundingMode.UNNECESSARY))
                .setUnpriced(false)
                .build();
    }

    private static BigDecimal cost(int tokens, BigDecimal perMillion) {
        return BigDecimal.valueOf(tokens).multiply(perMillion).divide(MILLION);
    }

    /** Of several price rows, the one for {@code model} in effect at {@code at}: latest effective_from not after it. */
    public static Optional<ModelPrice> effective(Iterable<ModelPrice> prices, String model, Instant at) {
        ModelPrice best = null;
        for (ModelPrice p : prices) {
            if (p == null || !p.getModel().equals(model) || p.getEffectiveFrom().isAfter(at)) {
                continue;
            }
            if (best == null || p.getEffectiveFrom().isAfter(best.getEffectiveFrom())) {
                best = p;
            }
        }
        return Optional.ofNullable(best);
    }
}
