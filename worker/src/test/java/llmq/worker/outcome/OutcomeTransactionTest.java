package llmq.worker.outcome;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import llmq.worker.testing.Transactions;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

class OutcomeTransactionTest {

    private static final TopicPartition QUEUE = new TopicPartition("llm.queue.normal", 0);
    private static final ConsumerGroupMetadata GROUP = new ConsumerGroupMetadata("workers");

    // not completed on send: a test decides when Kafka acknowledges (flush acknowledges everything pending)
    private final MockProducer<String, byte[]> producer =
            new MockProducer<>(false, null, new StringSerializer(), new ByteArraySerializer());
    private final OutcomeTransaction transaction = Transactions.owning(producer, QUEUE);

    private static List<ProducerRecord<String, byte[]>> result(String id) {
        return List.of(new ProducerRecord<>("llm.results", id, new byte[] {1}));
    }

    private List<Outcomes.Source> commitCarried() {
        List<Outcomes.Source> carried = new ArrayList<>();
        transaction.commit(sources -> {
            carried.addAll(sources);
            return Map.of();
        }, GROUP, Set.of());
        return carried;
    }

    @Test
    void shouldHandItsCommitTheRecordsWhoseFinalOutcomesItCarries() {
        Outcomes.Source started = Outcomes.Source.of(QUEUE, 1, 7);
        Outcomes.Source done = Outcomes.Source.of(QUEUE, 1, 8);
        transaction.send(started, false, result("a"));
        transaction.send(done, true, result("b"));

        assertThat(commitCarried()).as("only a final outcome finishes its record").containsExactly(done);
        assertThat(commitCarried()).as("the next transaction carries nothing yet").isEmpty();
    }

    @Test
    void shouldCountAFinalOutcomeWhoseFutureNobodyHasSeenComplete() {
        // the race that let a killed worker commit a result without its offset: the outcome's future reported after the
        // commit had taken its offsets; the transaction itself knows what it carries once the flush has acknowledged it
        Outcomes.Source done = Outcomes.Source.of(QUEUE, 1, 3);
        CompletableFuture<Void> written = transaction.send(done, true, result("c"));
        assertThat(written).as("not acknowledged before the commit's flush").isNotDone();

        assertThat(commitCarried()).containsExactly(done);
        assertThat(producer.history()).hasSize(1);
    }

    @Test
    void shouldNotCarryAnOutcomeKafkaRefusedOrOneAnAbortDiscarded() {
        Outcomes.Source refused = Outcomes.Source.of(QUEUE, 1, 4);
        transaction.send(refused, true, result("d"));
        producer.errorNext(new org.apache.kafka.common.errors.RecordTooLargeException("too large"));
        assertThat(commitCarried()).as("a refused record finishes nothing").isEmpty();

        transaction.own(List.of(QUEUE), 2);
        transaction.send(Outcomes.Source.of(QUEUE, 2, 5), true, result("e"));
        transaction.abort("test");
        transaction.own(List.of(QUEUE), 3);
        assertThat(commitCarried()).as("what an aborted transaction held is gone with it").isEmpty();
    }
}
