package llmq.billing.sink;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import llmq.avro.BillingRecord;
import llmq.billing.internal.avro.UsageAggregate;
import llmq.common.db.DbConfig;
import llmq.schemas.registry.InMemorySchemaRegistryClient;
import llmq.schemas.serde.AvroSerde;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.common.KafkaException;
import org.junit.jupiter.api.Test;

/**
 * The sink's own failures are visible: a consumer error that stops the sink is kept for the
 * health check instead of ending the thread with nothing but a log line, while a deliberate stop
 * is not a failure.
 */
class BillingSinkTest {

    private final MockConsumer<String, byte[]> consumer = new MockConsumer<>("earliest");
    private final InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();
    private final BillingSink sink = new BillingSink(consumer, "llm.billing", "llmq.billing.usage-aggregates",
            new AvroSerde<>(registry, BillingRecord.class), new AvroSerde<>(registry, UsageAggregate.class),
            new DbConfig("jdbc:postgresql://127.0.0.1:1/unused", "llmq", ""), new SimpleMeterRegistry());

    @Test
    void shouldKeepTheReasonWhenTheConsumerFails() {
        consumer.setPollException(new KafkaException("not authorized to read llm.billing"));

        sink.run();

        assertThat(sink.fatal()).isInstanceOf(KafkaException.class).hasMessageContaining("not authorized");
        assertThat(consumer.closed()).isTrue();
    }

    @Test
    void shouldNotReportAFailureWhenStoppedOnPurpose() throws InterruptedException {
        Thread thread = new Thread(sink, "billing-sink-test");
        thread.start();

        sink.stop();
        thread.join(10_000);

        assertThat(thread.isAlive()).isFalse();
        assertThat(sink.fatal()).isNull();
        assertThat(consumer.closed()).isTrue();
    }
}
