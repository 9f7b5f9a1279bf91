package llmq.worker.testing;

import java.util.ArrayList;
import java.util.List;
import llmq.avro.DeadLetter;
import llmq.avro.LlmResult;
import llmq.avro.RequestEvent;
import llmq.avro.UsageEvent;
import llmq.topics.catalog.TopicCatalog;
import llmq.topics.catalog.TopicSerdes;
import llmq.topics.catalog.TopicSpec;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/** What the worker wrote to a mock producer, decoded per topic: committed records, or also those of the open transaction. */
public final class Published {

    private final MockProducer<String, byte[]> producer;
    private final TopicSerdes serdes;
    private final boolean uncommitted;
    private final TopicCatalog catalog = TopicCatalog.defaults();

    private Published(MockProducer<String, byte[]> producer, TopicSerdes serdes, boolean uncommitted) {
        this.producer = producer;
        this.serdes = serdes;
        this.uncommitted = uncommitted;
    }

    /** What a read-committed consumer sees: records of committed transactions. */
    public static Published committed(MockProducer<String, byte[]> producer, TopicSerdes serdes) {
        return new Published(producer, serdes, false);
    }

    /** Everything written, committed or still in the open transaction. */
    public static Published written(MockProducer<String, byte[]> producer, TopicSerdes serdes) {
        return new Published(producer, serdes, true);
    }

    public List<RequestEvent> events() {
        return of(catalog.events());
    }

    public List<LlmResult> results() {
        return of(catalog.results());
    }

    public List<UsageEvent> usage() {
        return of(catalog.usage());
    }

    public List<DeadLetter> deadLetters() {
        return of(catalog.dlq());
    }

    private <V extends org.apache.avro.specific.SpecificRecord> List<V> of(TopicSpec<V> topic) {
        List<ProducerRecord<String, byte[]>> records = new ArrayList<>(producer.history());
        if (uncommitted) {
            records.addAll(producer.uncommittedRecords());
        }
        return records.stream()
                .filter(r -> r.topic().equals(topic.name()))
                .map(ProducerRecord::value)
                .map(v -> serdes.value(topic).deserialize(topic.name(), v))
                .toList();
    }
}
