package llmq.billing.topology;

import llmq.avro.BillingRecord;

/**
 * What the billing topology counts, kept free of any metrics library so that topologies stay
 * plain functions. Counts are at-least-once: a record reprocessed after an aborted transaction
 * counts again (the money it carries does not: that is exactly-once).
 */
public interface BillingMetrics {

    /** A usage event was read from {@code llm.usage}. */
    void usageReceived();

    /** A usage event was dropped because its request id was already billed. */
    void dedupHit();

    /** A request was billed (once). */
    void billed(BillingRecord record);

    /** A request was billed at zero because its model had no price in effect. */
    void unpriced(String model);

    /** Usage arrived after the grace period of its {@code granularity} window and is missing from that aggregate. */
    void lateForAggregate(String granularity);

    /** Usage older than the dedup window was not billed but dead-lettered. */
    void outsideDedupWindow();

    /** Usage priced in a currency other than the budget currency was not added to month-to-date spend. */
    void otherCurrency();

    /** Counts nothing. */
    BillingMetrics NONE = new BillingMetrics() {
        @Override
        public void usageReceived() {
        }

        @Override
        public void dedupHit() {
        }

        @Override
        public void billed(BillingRecord record) {
        }

        @Override
        public void unpriced(String model) {
        }

        @Override
        public void lateForAggregate(String granularity) {
        }

        @Override
        public void outsideDedupWindow() {
        }

        @Override
        public void otherCurrency() {
        }
    };
}
