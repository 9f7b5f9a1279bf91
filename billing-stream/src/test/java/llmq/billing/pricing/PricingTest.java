package llmq.billing.pricing;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import llmq.avro.BillingRecord;
import llmq.avro.ModelPrice;
import llmq.avro.UsageEvent;
import org.junit.jupiter.api.Test;

class PricingTest {

    private static UsageEvent usage(int in, int cached, int out) {
        return UsageEvent.newBuilder().setRequestId("r").setTenantId("t").setModel("m").setEndpoint("e")
                .setPromptTokens(in).setCachedPromptTokens(cached).setCompletionTokens(out).setLatencyMs(1)
                .setAt(Instant.parse("2026-01-01T00:00:00Z")).build();
    }

    private static ModelPrice price(String in, String cached, String out) {
        return ModelPrice.newBuilder().setId(1).setModel("m").setCurrency("EUR")
                .setInputPerMillion(new BigDecimal(in)).setOutputPerMillion(new BigDecimal(out))
                .setCachedInputPerMillion(cached == null ? null : new BigDecimal(cached))
                .setEffectiveFrom(Instant.EPOCH).build();
    }

    @Test
    void shouldComputeCostExactlyWithoutRounding() {
        BillingRecord b = Pricing.price(usage(1, 0, 1), Optional.of(price("0.150000", null, "0.600000")), Instant.EPOCH);
        assertThat(b.getInputCost()).isEqualTo(new BigDecimal("0.000000150000"));
        assertThat(b.getOutputCost()).isEqualTo(new BigDecimal("0.000000600000"));
        assertThat(b.getTotalCost()).isEqualTo(new BigDecimal("0.000000750000"));
        assertThat(b.getCurrency()).isEqualTo("EUR");
    }

    @Test
    void shouldChargeCachedInputAtTheCachedPrice() {
        BillingRecord b = Pricing.price(usage(1_000_000, 400_000, 0), Optional.of(price("1", "0.25", "2")), Instant.EPOCH);
        // 600k × 1/M + 400k × 0.25/M = 0.6 + 0.1
        assertThat(b.getInputCost()).isEqualByComparingTo("0.7");
    }

    @Test
    void shouldSumManySmallCostsExactly() {
        BigDecimal sum = BigDecimal.ZERO;
        for (int i = 0; i < 10_000; i++) {
            sum = sum.add(Pricing.price(usage(3, 0, 7), Optional.of(price("0.1", null, "0.3")), Instant.EPOCH).getTotalCost());
        }
        // (3 × 0.1 + 7 × 0.3) / 1e6 × 10 000 = 0.024 exactly
        assertThat(sum).isEqualByComparingTo("0.024");
    }

    @Test
    void shouldPickTheLatestPriceNotAfterTheUsage() {
        ModelPrice old = price("1", null, "1");
        ModelPrice newer = ModelPrice.newBuilder(old).setId(2).setEffectiveFrom(Instant.parse("2026-06-01T00:00:00Z")).build();
        ModelPrice other = ModelPrice.newBuilder(old).setId(3).setModel("x").build();
        assertThat(Pricing.effective(List.of(old, newer, other), "m", Instant.parse("2026-05-01T00:00:00Z"))).contains(old);
        assertThat(Pricing.effective(List.of(old, newer, other), "m", Instant.parse("2026-07-01T00:00:00Z"))).contains(newer);
        assertThat(Pricing.effective(List.of(newer), "m", Instant.parse("2026-01-01T00:00:00Z"))).isEmpty();
    }
}
