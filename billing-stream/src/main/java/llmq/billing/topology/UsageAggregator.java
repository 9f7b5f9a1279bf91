package llmq.billing.topology;

import java.time.Duration;
import java.time.Instant;
import llmq.avro.BillingRecord;
import llmq.billing.internal.avro.Granularity;
import llmq.billing.internal.avro.UsageAggregate;
import llmq.billing.internal.avro.UsageTotals;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.WindowStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Adds each billed request to its tenant × model × currency × hour and tenant × currency × day
 * aggregates (tumbling windows in usage time, UTC) and publishes each changed aggregate's new
 * value to the aggregates topic, which the sink upserts into PostgreSQL.
 *
 * <p>The stores are keyed within the tenant's own partition (no repartition): every key starts
 * with the tenant, so one range read serves a tenant's usage query. Usage may arrive late, up to
 * the grace period after its window closed (by stream time); later than that it is still billed
 * (usage_records) but left out of that aggregate and counted, because the window's retention
 * may already have dropped it.
 */
final class UsageAggregator implements Processor<String, BillingRecord, String, UsageAggregate> {

    private static final Logger LOG = LoggerFactory.getLogger(UsageAggregator.class);
    static final long HOUR = Duration.ofHours(1).toMillis();
    static final long DAY = Duration.ofDays(1).toMillis();

    private final long grace;
    private final BillingMetrics metrics;
    private ProcessorContext<String, UsageAggregate> context;
    private WindowStore<String, UsageTotals> hourly;
    private WindowStore<String, UsageTotals> daily;

    UsageAggregator(Duration grace, BillingMetrics metrics) {
        this.grace = grace.toMillis();
        this.metrics = metrics;
    }

    @Override
    public void init(ProcessorContext<String, UsageAggregate> context) {
        this.context = context;
        this.hourly = context.getStateStore(BillingTopology.HOURLY_STORE);
        this.daily = context.getStateStore(BillingTopology.DAILY_STORE);
    }

    @Override
    public void process(Record<String, BillingRecord> record) {
        BillingRecord b = record.value();
        String tenant = b.getUsage().getTenantId();
        long at = b.getUsage().getAt().toEpochMilli();
        add(Granularity.HOUR, hourly, HOUR, StoreKeys.hourly(tenant, b.getUsage().getModel(), b.getCurrency()), at, b,
                record.timestamp());
        add(Granularity.DAY, daily, DAY, StoreKeys.daily(tenant, b.getCurrency()), at, b, record.timestamp());
    }

    private void add(Granularity g, WindowStore<String, UsageTotals> store, long size, String key, long at,
                     BillingRecord b, long timestamp) {
        long start = Math.floorDiv(at, size) * size;
        if (start + size + grace <= context.currentStreamTimeMs()) {
            metrics.lateForAggregate(g.name().toLowerCase(java.util.Locale.ROOT));
            LOG.warn("usage of {} at {} arrived after the {} window's grace period; billed, but not in that aggregate",
                    b.getUsage().getRequestId(), b.getUsage().getAt(), g);
            return;
        }
        UsageTotals current = store.fetch(key, start);
        UsageTotals next = Totals.add(current == null ? Totals.empty() : current, b);
        store.put(key, next, start);
        String[] parts = StoreKeys.split(key);
        UsageAggregate agg = UsageAggregate.newBuilder()
                .setGranularity(g)
                .setTenantId(parts[0])
                .setModel(g == Granularity.HOUR ? parts[1] : null)
                .setCurrency(b.getCurrency())
                .setPeriodStart(Instant.ofEpochMilli(start))
                .setTotals(next)
                .setUpdatedAt(Instant.ofEpochMilli(context.currentSystemTimeMs()))
                .build();
        context.forward(new Record<>(StoreKeys.aggregate(g.name(), key, agg.getPeriodStart()), agg, timestamp));
    }
}
