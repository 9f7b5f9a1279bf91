package llmq.worker.testing;

import java.util.List;
import llmq.worker.outcome.OutcomeTransaction;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.TopicPartition;

/** Outcome transactions over a mock producer, for tests of what is written rather than when it commits. */
public final class Transactions {

    private Transactions() {
    }

    /** A begun transaction owning {@code partitions} under assignment 1. */
    public static OutcomeTransaction owning(MockProducer<String, byte[]> producer, TopicPartition... partitions) {
        OutcomeTransaction t = new OutcomeTransaction(producer);
        t.begin();
        t.own(List.of(partitions), 1);
        return t;
    }
}
