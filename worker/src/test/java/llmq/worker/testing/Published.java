package llmq.worker.testing;

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

/** What the worker wrote to a mock producer, decoded per topic. */
public final class Published {

    private final MockProducer<String, byte[]> producer;
    private final TopicSerdes serdes;
    private final TopicCatalog catalog = TopicCatalog.defaults();

    public Published(MockProducer<String, byte[]> producer, TopicSerdes serdes) {
        this.producer = producer;
        this.serdes = serdes;
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
        return producer.history().stream()
                .filter(r -> r.topic().equals(topic.name()))
                .map(ProducerRecord::value)
                .map(v -> serdes.value(topic).deserialize(topic.name(), v))
                .toList();
    }
}
