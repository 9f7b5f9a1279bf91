package llmq.billing.topology;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Function;
import java.util.stream.Collectors;
import llmq.avro.BillingRecord;
import llmq.avro.DeadLetter;
import llmq.avro.ModelPrice;
import llmq.avro.Priority;
import llmq.avro.Tenant;
import llmq.avro.TenantBudget;
import llmq.avro.UsageEvent;
import llmq.billing.internal.avro.Granularity;
import llmq.billing.internal.avro.UsageAggregate;
import llmq.billing.internal.avro.UsageTotals;
import llmq.billing.metrics.MicrometerBillingMetrics;
import llmq.schemas.registry.InMemorySchemaRegistryClient;
import llmq.topics.catalog.TopicCatalog;
import llmq.topics.catalog.TopicSerdes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.WindowStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The billing topology with {@link TopologyTestDriver}: dedup by request id, pricing at the price
 * in effect at the usage time, hourly and daily aggregates with grace for late usage, unpriced
 * usage, usage too old to check, and month-to-date budgets published to {@code llm.budgets}.
 */
class BillingTopologyTest {

    private static final String AGGREGATES = "llmq.billing.usage-aggregates";
    private static final Duration GRACE = Duration.ofMinutes(30);

    private final TopicCatalog catalog = TopicCatalog.defaults();
    private final TopicSerdes serdes = new TopicSerdes(new InMemorySchemaRegistryClient());
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private TopologyTestDriver driver;
    private TestInputTopic<String, UsageEvent> usage;
    private TestInputTopic<String, ModelPrice> prices;
    private TestInputTopic<String, Tenant> tenants;
    private TestOutputTopic<String, BillingRecord> billing;
    private TestOutputTopic<String, UsageAggregate> aggregates;
    private TestOutputTopic<String, TenantBudget> budgets;
    private TestOutputTopic<String, DeadLetter> dlq;

    @BeforeEach
    void setUp() {
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, "billing-test");
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        BillingTopology.Config config = new BillingTopology.Config(Duration.ofDays(8), GRACE, Duration.ofDays(2),
                Duration.ofDays(10), "USD", Duration.ofSeconds(1), AGGREGATES);
        driver = new TopologyTestDriver(BillingTopology.build(config, catalog, serdes,
                new MicrometerBillingMetrics(registry)), p, Instant.parse("2026-03-01T00:00:00Z"));
        usage = driver.createInputTopic(catalog.usage().name(), serdes.key().serializer(),
                serdes.value(UsageEvent.class).serializer());
        prices = driver.createInputTopic(catalog.configPrices().name(), serdes.key().serializer(),
                serdes.value(ModelPrice.class).serializer());
        tenants = driver.createInputTopic(catalog.configTenants().name(), serdes.key().serializer(),
                serdes.value(Tenant.class).serializer());
        billing = driver.createOutputTopic(catalog.billing().name(), serdes.key().deserializer(),
                serdes.value(BillingRecord.class).deserializer());
        aggregates = driver.createOutputTopic(AGGREGATES, serdes.key().deserializer(),
                serdes.value(UsageAggregate.class).deserializer());
        budgets = driver.createOutputTopic(catalog.budgets().name(), serdes.key().deserializer(),
                serdes.value(TenantBudget.class).deserializer());
        dlq = driver.createOutputTopic(catalog.dlq().name(), serdes.key().deserializer(),
                serdes.value(DeadLetter.class).deserializer());
    }

    @AfterEach
    void tearDown() {
        driver.close();
    }

    static ModelPrice price(long id, String model, String in, String out, String from) {
        return ModelPrice.newBuilder().setId(id).setModel(model).setCurrency("USD")
                .setInputPerMillion(new BigDecimal(in).setScale(6)).setOutputPerMillion(new BigDecimal(out).setScale(6))
                .setEffectiveFrom(Instant.parse(from)).build();
    }

    static UsageEvent usage(String id, String tenant, String model, int in, int out, String at) {
        return UsageEvent.newBuilder().setRequestId(id).setTenantId(tenant).setModel(model).setEndpoint("sim")
                .setPromptTokens(in).setCompletionTokens(out).setLatencyMs(5).setAt(Instant.parse(at)).build();
    }

    static Tenant tenant(String id, String budget) {
        return Tenant.newBuilder().setId(id).setName(id).setDefaultPriority(Priority.NORMAL).setMaxPriority(Priority.HIGH)
                .setMonthlyBudget(budget == null ? null : new BigDecimal(budget).setScale(6))
                .setUpdatedAt(Instant.EPOCH).build();
    }

    private void send(UsageEvent u) {
        usage.pipeInput(u.getTenantId(), u);
    }

    private double counter(String name) {
        return registry.find(name).counters().stream().mapToDouble(c -> c.count()).sum();
    }

    /** The latest value of each aggregate published, by aggregate key. */
    private Map<String, UsageAggregate> latestAggregates() {
        return aggregates.readKeyValuesToList().stream()
                .collect(Collectors.toMap(kv -> kv.key, kv -> kv.value, (a, b) -> b));
    }

    private UsageTotals hourly(String tenant, String model, String hour) {
        WindowStore<String, UsageTotals> store = driver.getWindowStore(BillingTopology.HOURLY_STORE);
        return store.fetch(StoreKeys.hourly(tenant, model, "USD"), Instant.parse(hour).toEpochMilli());
    }

    @Test
    void shouldCountDuplicateUsageOfOneRequestIdOnce() {
        prices.pipeInput("1", price(1, "m", "1.00", "2.00", "2026-01-01T00:00:00Z"));
        UsageEvent u = usage("r1", "acme", "m", 10, 10, "2026-01-15T10:05:00Z");
        send(u);
        send(u);
        UsageEvent rerun = UsageEvent.newBuilder(u).setAttempt(2).setCompletionTokens(99)
                .setAt(Instant.parse("2026-01-15T10:20:00Z")).build();
        send(rerun);

        assertThat(billing.readKeyValuesToList()).singleElement().satisfies(kv -> {
            assertThat(kv.key).isEqualTo("acme");
            assertThat(kv.value.getUsage().getRequestId()).isEqualTo("r1");
            assertThat(kv.value.getUsage().getCompletionTokens()).isEqualTo(10);
        });
        UsageTotals hour = hourly("acme", "m", "2026-01-15T10:00:00Z");
        assertThat(hour.getRequests()).isEqualTo(1);
        assertThat(hour.getCompletionTokens()).isEqualTo(10);
        assertThat(latestAggregates().values()).extracting(a -> a.getTotals().getRequests()).containsOnly(1L);
        assertThat(counter("llmq_billing_dedup_hits")).isEqualTo(2);
        assertThat(counter("llmq_billing_usage_events")).isEqualTo(3);
    }

    @Test
    void shouldPriceUsageBeforeAPriceChangeAtTheOldPriceAndAfterAtTheNew() {
        prices.pipeInput("1", price(1, "m", "1.00", "2.00", "2026-01-01T00:00:00Z"));
        // the price changes at T = 2026-02-01T00:00:00Z
        prices.pipeInput("2", price(2, "m", "10.00", "20.00", "2026-02-01T00:00:00Z"));
        send(usage("before", "acme", "m", 1000, 500, "2026-01-31T23:59:59.999Z"));
        send(usage("at", "acme", "m", 1000, 500, "2026-02-01T00:00:00Z"));
        send(usage("after", "acme", "m", 1000, 500, "2026-02-15T00:00:00Z"));

        Map<String, BillingRecord> out = billing.readValuesToList().stream()
                .collect(Collectors.toMap(b -> b.getUsage().getRequestId(), Function.identity()));
        // 1000 × 1.00/M + 500 × 2.00/M = 0.002; at ten times the price 0.02
        assertThat(out.get("before").getTotalCost()).isEqualTo(new BigDecimal("0.002000000000"));
        assertThat(out.get("before").getPriceEffectiveFrom()).isEqualTo(Instant.parse("2026-01-01T00:00:00Z"));
        assertThat(out.get("at").getTotalCost()).isEqualTo(new BigDecimal("0.020000000000"));
        assertThat(out.get("after").getTotalCost()).isEqualTo(new BigDecimal("0.020000000000"));
        assertThat(out.get("after").getInputPricePerMillion()).isEqualByComparingTo("10");
    }

    @Test
    void shouldPriceLaterUsageWithARowChangedInPlace() {
        prices.pipeInput("1", price(1, "m", "1.00", "2.00", "2026-01-01T00:00:00Z"));
        send(usage("r1", "acme", "m", 1_000_000, 0, "2026-01-15T00:00:00Z"));
        prices.pipeInput("1", price(1, "m", "3.00", "2.00", "2026-01-01T00:00:00Z"));
        send(usage("r2", "acme", "m", 1_000_000, 0, "2026-01-15T00:01:00Z"));

        assertThat(billing.readValuesToList()).extracting(BillingRecord::getTotalCost)
                .containsExactly(new BigDecimal("1.000000000000"), new BigDecimal("3.000000000000"));
    }

    @Test
    void shouldPutLateUsageWithinGraceIntoItsHour() {
        prices.pipeInput("1", price(1, "m", "1.00", "2.00", "2026-01-01T00:00:00Z"));
        send(usage("on-time", "acme", "m", 100, 10, "2026-01-15T10:50:00Z"));
        send(usage("next-hour", "acme", "m", 100, 10, "2026-01-15T11:20:00Z"));
        // stream time is 11:20: the 10:00 hour closed at 11:00 and its grace (30 min) runs until 11:30
        send(usage("late", "acme", "m", 7, 3, "2026-01-15T10:59:00Z"));

        UsageTotals ten = hourly("acme", "m", "2026-01-15T10:00:00Z");
        assertThat(ten.getRequests()).isEqualTo(2);
        assertThat(ten.getPromptTokens()).isEqualTo(107);
        assertThat(ten.getCompletionTokens()).isEqualTo(13);
        assertThat(hourly("acme", "m", "2026-01-15T11:00:00Z").getRequests()).isEqualTo(1);
        UsageAggregate published = latestAggregates().get(StoreKeys.aggregate("HOUR", StoreKeys.hourly("acme", "m", "USD"),
                Instant.parse("2026-01-15T10:00:00Z")));
        assertThat(published.getTotals().getRequests()).isEqualTo(2);
        assertThat(published.getGranularity()).isEqualTo(Granularity.HOUR);
        assertThat(counter("llmq_billing_late_usage")).isZero();
    }

    @Test
    void shouldBillUsageLaterThanGraceButLeaveItOutOfItsClosedHour() {
        prices.pipeInput("1", price(1, "m", "1.00", "2.00", "2026-01-01T00:00:00Z"));
        send(usage("on-time", "acme", "m", 100, 10, "2026-01-15T10:50:00Z"));
        send(usage("much-later", "acme", "m", 100, 10, "2026-01-15T11:45:00Z"));
        send(usage("too-late", "acme", "m", 7, 3, "2026-01-15T10:59:00Z"));

        assertThat(billing.readValuesToList()).extracting(b -> b.getUsage().getRequestId())
                .containsExactly("on-time", "much-later", "too-late");
        assertThat(hourly("acme", "m", "2026-01-15T10:00:00Z").getRequests()).isEqualTo(1);
        assertThat(counter("llmq_billing_late_usage")).isEqualTo(1);
    }

    @Test
    void shouldSumTheDayAcrossModelsExactly() {
        prices.pipeInput("1", price(1, "a", "0.15", "0.60", "2026-01-01T00:00:00Z"));
        prices.pipeInput("2", price(2, "b", "2.50", "10.00", "2026-01-01T00:00:00Z"));
        send(usage("r1", "acme", "a", 1234, 567, "2026-01-15T01:00:00Z"));
        send(usage("r2", "acme", "b", 1, 1, "2026-01-15T23:00:00Z"));
        send(usage("r3", "globex", "b", 5, 5, "2026-01-15T12:00:00Z"));

        WindowStore<String, UsageTotals> daily = driver.getWindowStore(BillingTopology.DAILY_STORE);
        UsageTotals acme = daily.fetch(StoreKeys.daily("acme", "USD"), Instant.parse("2026-01-15T00:00:00Z").toEpochMilli());
        assertThat(acme.getRequests()).isEqualTo(2);
        // (1234 × 0.15 + 567 × 0.60 + 1 × 2.50 + 1 × 10.00) / 1e6 = (185.1 + 340.2 + 12.5) / 1e6
        assertThat(acme.getTotalCost()).isEqualTo(new BigDecimal("0.000537800000"));
    }

    @Test
    void shouldFlagUnpricedUsageAndCountItNotDropIt() {
        send(usage("r1", "acme", "unknown-model", 10, 10, "2026-01-15T00:00:00Z"));

        assertThat(billing.readValuesToList()).singleElement().satisfies(b -> {
            assertThat(b.getUnpriced()).isTrue();
            assertThat(b.getTotalCost()).isEqualByComparingTo(BigDecimal.ZERO);
            assertThat(b.getUsage().getPromptTokens()).isEqualTo(10);
        });
        UsageTotals hour = hourly("acme", "unknown-model", "2026-01-15T00:00:00Z");
        assertThat(hour.getRequests()).isEqualTo(1);
        assertThat(hour.getUnpricedRequests()).isEqualTo(1);
        assertThat(registry.counter("llmq_billing_unpriced_usage", "model", "unknown-model").count()).isEqualTo(1);
    }

    @Test
    void shouldBillUsageBeforeAModelsFirstPriceAsUnpriced() {
        prices.pipeInput("1", price(1, "m", "1.00", "2.00", "2026-02-01T00:00:00Z"));
        send(usage("r1", "acme", "m", 10, 10, "2026-01-15T00:00:00Z"));

        assertThat(billing.readValuesToList()).singleElement().extracting(BillingRecord::getUnpriced).isEqualTo(true);
    }

    @Test
    void shouldForgetADeletedPrice() {
        prices.pipeInput("1", price(1, "m", "1.00", "2.00", "2026-01-01T00:00:00Z"));
        prices.pipeInput("1", (ModelPrice) null);
        send(usage("r1", "acme", "m", 10, 10, "2026-01-15T00:00:00Z"));

        assertThat(billing.readValuesToList()).singleElement().extracting(BillingRecord::getUnpriced).isEqualTo(true);
    }

    @Test
    void shouldDeadLetterUsageTooOldToCheckForAPreviousBill() {
        prices.pipeInput("1", price(1, "m", "1.00", "2.00", "2026-01-01T00:00:00Z"));
        send(usage("recent", "acme", "m", 10, 10, "2026-01-20T00:00:00Z"));
        send(usage("ancient", "acme", "m", 10, 10, "2026-01-02T00:00:00Z"));

        assertThat(billing.readValuesToList()).extracting(b -> b.getUsage().getRequestId()).containsExactly("recent");
        assertThat(dlq.readKeyValuesToList()).singleElement().satisfies(kv -> {
            assertThat(kv.key).isEqualTo("ancient");
            assertThat(kv.value.getErrorClass()).isEqualTo("usage_outside_dedup_window");
            assertThat(kv.value.getStage()).isEqualTo("billing");
            UsageEvent original = serdes.value(UsageEvent.class).deserialize(kv.value.getSourceTopic(),
                    kv.value.getPayload().array());
            assertThat(original.getRequestId()).isEqualTo("ancient");
        });
    }

    @Test
    void shouldPublishOverBudgetOnceMonthToDateSpendReachesTheBudget() {
        prices.pipeInput("1", price(1, "m", "1.00", "0.00", "2026-01-01T00:00:00Z"));
        tenants.pipeInput("acme", tenant("acme", "2.50"));
        send(usage("r1", "acme", "m", 1_000_000, 0, "2026-03-01T01:00:00Z")); // spent 1.00: new month, published
        send(usage("r2", "acme", "m", 1_000_000, 0, "2026-03-01T02:00:00Z")); // 2.00: published at the next tick

        List<TenantBudget> first = budgets.readValuesToList();
        assertThat(first).singleElement().satisfies(b -> {
            assertThat(b.getMonth()).isEqualTo("2026-03");
            assertThat(b.getSpent()).isEqualByComparingTo("1");
            assertThat(b.getOverBudget()).isFalse();
        });

        send(usage("r3", "acme", "m", 600_000, 0, "2026-03-01T03:00:00Z")); // 2.60 >= 2.50: published at once

        assertThat(budgets.readValuesToList()).singleElement().satisfies(b -> {
            assertThat(b.getTenantId()).isEqualTo("acme");
            assertThat(b.getSpent()).isEqualTo(new BigDecimal("2.600000000000"));
            assertThat(b.getBudget()).isEqualByComparingTo("2.5");
            assertThat(b.getOverBudget()).isTrue();
        });
    }

    @Test
    void shouldPublishTheChangeWhenABudgetIsRaised() {
        prices.pipeInput("1", price(1, "m", "1.00", "0.00", "2026-01-01T00:00:00Z"));
        tenants.pipeInput("acme", tenant("acme", "1.00"));
        send(usage("r1", "acme", "m", 2_000_000, 0, "2026-03-01T01:00:00Z"));
        assertThat(budgets.readValuesToList()).singleElement().extracting(TenantBudget::getOverBudget).isEqualTo(true);

        tenants.pipeInput("acme", tenant("acme", "100.00"));
        driver.advanceWallClockTime(Duration.ofSeconds(1));

        assertThat(budgets.readValuesToList()).singleElement().satisfies(b -> {
            assertThat(b.getBudget()).isEqualByComparingTo("100");
            assertThat(b.getOverBudget()).isFalse();
        });
        driver.advanceWallClockTime(Duration.ofSeconds(1));
        assertThat(budgets.readValuesToList()).as("nothing changed, nothing published").isEmpty();
    }

    @Test
    void shouldStartTheNewMonthAtZeroWhenTheMonthRollsOver() {
        prices.pipeInput("1", price(1, "m", "1.00", "0.00", "2026-01-01T00:00:00Z"));
        tenants.pipeInput("acme", tenant("acme", "1.00"));
        send(usage("r1", "acme", "m", 2_000_000, 0, "2026-03-31T23:00:00Z"));
        assertThat(budgets.readValuesToList()).singleElement().extracting(TenantBudget::getOverBudget).isEqualTo(true);

        driver.advanceWallClockTime(Duration.ofDays(31)); // wall clock now in April

        assertThat(budgets.readValuesToList()).singleElement().satisfies(b -> {
            assertThat(b.getMonth()).isEqualTo("2026-04");
            assertThat(b.getSpent()).isEqualByComparingTo("0");
            assertThat(b.getOverBudget()).isFalse();
        });
    }

    @Test
    void shouldNotCountUsageOfAnEarlierMonthAgainstThisMonthsBudget() {
        prices.pipeInput("1", price(1, "m", "1.00", "0.00", "2026-01-01T00:00:00Z"));
        tenants.pipeInput("acme", tenant("acme", "1.50"));
        send(usage("april", "acme", "m", 1_000_000, 0, "2026-04-01T00:10:00Z"));
        send(usage("late-march", "acme", "m", 1_000_000, 0, "2026-03-31T23:59:00Z"));
        driver.advanceWallClockTime(Duration.ofSeconds(1));

        List<TenantBudget> published = budgets.readValuesToList();
        assertThat(published).isNotEmpty().allSatisfy(b -> {
            assertThat(b.getMonth()).isEqualTo("2026-04");
            assertThat(b.getSpent()).isEqualByComparingTo("1");
            assertThat(b.getOverBudget()).isFalse();
        });
    }
}
