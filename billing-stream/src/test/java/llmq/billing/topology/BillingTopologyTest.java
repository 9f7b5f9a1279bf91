package llmq.billing.topology;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Properties;
import llmq.avro.BillingRecord;
import llmq.avro.ModelPrice;
import llmq.avro.UsageEvent;
import llmq.schemas.registry.InMemorySchemaRegistryClient;
import llmq.topics.catalog.TopicCatalog;
import llmq.topics.catalog.TopicSerdes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class BillingTopologyTest {

    private final TopicCatalog catalog = TopicCatalog.defaults();
    private final TopicSerdes serdes = new TopicSerdes(new InMemorySchemaRegistryClient());
    private TopologyTestDriver driver;
    private TestInputTopic<String, UsageEvent> usage;
    private TestInputTopic<String, ModelPrice> prices;
    private TestOutputTopic<String, BillingRecord> billing;

    @BeforeEach
    void setUp() {
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, "billing-test");
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        driver = new TopologyTestDriver(BillingTopology.build(Duration.ofDays(8), catalog, serdes), p);
        usage = driver.createInputTopic(catalog.usage().name(), serdes.key().serializer(),
                serdes.value(UsageEvent.class).serializer());
        prices = driver.createInputTopic(catalog.configPrices().name(), serdes.key().serializer(),
                serdes.value(ModelPrice.class).serializer());
        billing = driver.createOutputTopic(catalog.billing().name(), serdes.key().deserializer(),
                serdes.value(BillingRecord.class).deserializer());
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

    @Test
    void shouldPriceUsageWithThePriceInEffectWhenTheCallFinished() {
        prices.pipeInput("1", price(1, "m", "1.00", "2.00", "2026-01-01T00:00:00Z"));
        prices.pipeInput("2", price(2, "m", "10.00", "20.00", "2026-02-01T00:00:00Z"));
        usage.pipeInput("acme", usage("r1", "acme", "m", 1000, 500, "2026-01-15T00:00:00Z"));
        usage.pipeInput("acme", usage("r2", "acme", "m", 1000, 500, "2026-02-15T00:00:00Z"));

        List<BillingRecord> out = billing.readValuesToList();
        assertThat(out).hasSize(2);
        // 1000 × 1.00/M + 500 × 2.00/M = 0.002
        assertThat(out.get(0).getTotalCost()).isEqualByComparingTo("0.002");
        assertThat(out.get(0).getTotalCost().scale()).isEqualTo(12);
        assertThat(out.get(1).getTotalCost()).isEqualByComparingTo("0.02");
        assertThat(out.get(1).getPriceEffectiveFrom()).isEqualTo(Instant.parse("2026-02-01T00:00:00Z"));
    }

    @Test
    void shouldBillEachRequestIdOnce() {
        prices.pipeInput("1", price(1, "m", "1.00", "2.00", "2026-01-01T00:00:00Z"));
        UsageEvent u = usage("r1", "acme", "m", 10, 10, "2026-01-15T00:00:00Z");
        usage.pipeInput("acme", u);
        usage.pipeInput("acme", u);
        u.setAttempt(2);
        usage.pipeInput("acme", u);

        assertThat(billing.readKeyValuesToList()).singleElement().satisfies(kv -> {
            assertThat(kv.key).isEqualTo("acme");
            assertThat(kv.value.getUsage().getRequestId()).isEqualTo("r1");
        });
    }

    @Test
    void shouldBillAModelWithoutPriceAtZeroAndFlagIt() {
        usage.pipeInput("acme", usage("r1", "acme", "unknown-model", 10, 10, "2026-01-15T00:00:00Z"));

        assertThat(billing.readValuesToList()).singleElement().satisfies(b -> {
            assertThat(b.getUnpriced()).isTrue();
            assertThat(b.getTotalCost()).isEqualByComparingTo(BigDecimal.ZERO);
        });
    }

    @Test
    void shouldForgetADeletedPrice() {
        prices.pipeInput("1", price(1, "m", "1.00", "2.00", "2026-01-01T00:00:00Z"));
        prices.pipeInput("1", (ModelPrice) null);
        usage.pipeInput("acme", usage("r1", "acme", "m", 10, 10, "2026-01-15T00:00:00Z"));

        assertThat(billing.readValuesToList()).singleElement().extracting(BillingRecord::getUnpriced).isEqualTo(true);
    }
}
