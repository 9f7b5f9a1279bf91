package llmq.billing.topology;

import java.time.Duration;
import llmq.avro.BillingRecord;
import llmq.avro.DeadLetter;
import llmq.avro.ModelPrice;
import llmq.avro.Tenant;
import llmq.avro.TenantBudget;
import llmq.avro.UsageEvent;
import llmq.billing.internal.avro.MonthToDate;
import llmq.billing.internal.avro.UsageAggregate;
import llmq.billing.internal.avro.UsageTotals;
import llmq.topics.catalog.TopicCatalog;
import llmq.topics.catalog.TopicSerdes;
import llmq.topics.streams.GlobalTableUpdater;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.AutoOffsetReset;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.state.WindowStore;

/**
 * The billing-stream topology.
 *
 * <p>Inputs: {@code llm.usage} (key: tenant id, value: {@code UsageEvent}, timed by the usage's
 * {@code at}); as global stores, {@code llm.config.prices} (key: price row id, value:
 * {@code ModelPrice}) indexed in {@value #PRICES_STORE}, and {@code llm.config.tenants} (key:
 * tenant id, value: {@code Tenant}) in {@value #TENANTS_STORE}; tombstones delete.
 *
 * <p>Outputs: {@code llm.billing} (key: tenant id, value: {@code BillingRecord}), exactly one per
 * request id; the aggregates topic (key: aggregate key, see {@link StoreKeys#aggregate}, value:
 * {@code UsageAggregate}), each changed aggregate's new value; {@code llm.budgets} (key: tenant
 * id, value: {@code TenantBudget}); {@code llm.dlq} (key: request id) for usage too old to be
 * checked for a previous bill.
 *
 * <p>State, all in the tenant's own partition (no repartition): {@value #DEDUP_STORE} (request id,
 * windowed by usage time), {@value #HOURLY_STORE} (tenant × model × currency × hour),
 * {@value #DAILY_STORE} (tenant × currency × day) and {@value #MONTH_TO_DATE_STORE} (tenant).
 */
public final class BillingTopology {

    public static final String PRICES_STORE = "billing-price-index";
    public static final String TENANTS_STORE = "billing-tenants";
    public static final String DEDUP_STORE = "billing-usage-dedup-window";
    public static final String HOURLY_STORE = "billing-usage-hourly";
    public static final String DAILY_STORE = "billing-usage-daily";
    public static final String MONTH_TO_DATE_STORE = "billing-month-to-date";

    public static final String USAGE_SOURCE = "usage-source";
    public static final String PRICER = "price-usage";
    public static final String AGGREGATOR = "aggregate-usage";
    public static final String MONTH_TO_DATE = "month-to-date";
    public static final String BILLING_SINK = "billing-sink";
    public static final String AGGREGATES_SINK = "aggregates-sink";
    public static final String BUDGETS_SINK = "budgets-sink";
    public static final String DLQ_SINK = "usage-dlq-sink";

    /**
     * What the topology is parameterised by.
     *
     * @param dedupWindow           how long a billed request id is remembered (in usage time)
     * @param grace                 how late usage may arrive after its hour/day closed and still count in it
     * @param hourlyRetention       how long hourly aggregates stay queryable
     * @param dailyRetention        how long daily aggregates stay queryable
     * @param budgetCurrency        currency of tenants' monthly budgets
     * @param budgetPublishInterval how often changed month-to-date spend and budgets are published
     * @param aggregatesTopic       topic of the aggregates' current values
     */
    public record Config(Duration dedupWindow, Duration grace, Duration hourlyRetention, Duration dailyRetention,
                         String budgetCurrency, Duration budgetPublishInterval, String aggregatesTopic) {
    }

    private BillingTopology() {
    }

    public static Topology build(Config config, TopicCatalog catalog, TopicSerdes serdes, BillingMetrics metrics) {
        Topology t = new Topology();
        StoreBuilder<KeyValueStore<String, ModelPrice>> prices = Stores.keyValueStoreBuilder(
                Stores.persistentKeyValueStore(PRICES_STORE), Serdes.String(), serdes.value(ModelPrice.class))
                .withLoggingDisabled();
        t.addGlobalStore(prices, "prices-source", serdes.key().deserializer(),
                serdes.value(ModelPrice.class).deserializer(), catalog.configPrices().name(), "prices-index",
                PriceIndexUpdater::new);
        StoreBuilder<KeyValueStore<String, Tenant>> tenants = Stores.keyValueStoreBuilder(
                Stores.persistentKeyValueStore(TENANTS_STORE), Serdes.String(), serdes.value(Tenant.class))
                .withLoggingDisabled();
        t.addGlobalStore(tenants, "tenants-source", serdes.key().deserializer(),
                serdes.value(Tenant.class).deserializer(), catalog.configTenants().name(), "tenants-table",
                () -> new GlobalTableUpdater<Tenant>(TENANTS_STORE));

        t.addSource(AutoOffsetReset.earliest(), USAGE_SOURCE, new UsageTimestampExtractor(), serdes.key().deserializer(),
                serdes.value(UsageEvent.class).deserializer(), catalog.usage().name());
        t.addProcessor(PRICER, () -> new UsagePricer(config.dedupWindow(), catalog.usage().name(),
                serdes.value(UsageEvent.class).serializer(), metrics), USAGE_SOURCE);
        t.addStateStore(Stores.windowStoreBuilder(
                Stores.persistentWindowStore(DEDUP_STORE, config.dedupWindow(), config.dedupWindow(), false),
                Serdes.String(), Serdes.Long()), PRICER);
        t.addSink(BILLING_SINK, catalog.billing().name(), serdes.key().serializer(),
                serdes.value(BillingRecord.class).serializer(), PRICER);
        t.addSink(DLQ_SINK, catalog.dlq().name(), serdes.key().serializer(),
                serdes.value(DeadLetter.class).serializer(), PRICER);

        t.addProcessor(AGGREGATOR, () -> new UsageAggregator(config.grace(), metrics), PRICER);
        t.addStateStore(window(HOURLY_STORE, config.hourlyRetention(), Duration.ofHours(1), serdes), AGGREGATOR);
        t.addStateStore(window(DAILY_STORE, config.dailyRetention(), Duration.ofDays(1), serdes), AGGREGATOR);
        t.addSink(AGGREGATES_SINK, config.aggregatesTopic(), serdes.key().serializer(),
                serdes.value(UsageAggregate.class).serializer(), AGGREGATOR);

        t.addProcessor(MONTH_TO_DATE, () -> new MonthToDateBudgets(config.budgetCurrency(),
                config.budgetPublishInterval(), metrics), PRICER);
        t.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(MONTH_TO_DATE_STORE),
                Serdes.String(), serdes.value(MonthToDate.class)), MONTH_TO_DATE);
        t.addSink(BUDGETS_SINK, catalog.budgets().name(), serdes.key().serializer(),
                serdes.value(TenantBudget.class).serializer(), MONTH_TO_DATE);
        return t;
    }

    private static StoreBuilder<WindowStore<String, UsageTotals>> window(String name, Duration retention, Duration size,
                                                                        TopicSerdes serdes) {
        return Stores.windowStoreBuilder(Stores.persistentWindowStore(name, retention, size, false),
                Serdes.String(), serdes.value(UsageTotals.class));
    }
}
