package llmq.topics.streams;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import llmq.avro.DeadLetter;
import llmq.schemas.registry.HttpSchemaRegistryClient;
import llmq.schemas.registry.SchemaRegistryClient;
import llmq.schemas.registry.SchemaRegistryException;
import llmq.topics.catalog.TopicCatalog;
import llmq.topics.catalog.TopicSerdes;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.streams.errors.DeserializationExceptionHandler;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends a record a Streams app cannot decode to {@code llm.dlq} (inside the app's transaction)
 * with its raw bytes, source topic, partition, offset and the reason, and carries on. When the
 * schema registry is unreachable the record is <em>not</em> bad, so the thread fails instead
 * (and is replaced) rather than dead-lettering good records.
 */
public final class DeadLetterDeserializationHandler implements DeserializationExceptionHandler {

    private static final Logger LOG = LoggerFactory.getLogger(DeadLetterDeserializationHandler.class);

    private DeadLetters deadLetters;

    @Override
    public void configure(Map<String, ?> configs) {
        Object url = configs.get(StreamsSettings.REGISTRY_URL);
        Object stage = configs.get(StreamsSettings.DLQ_STAGE);
        Object client = configs.get(StreamsSettings.REGISTRY_CLIENT);
        TopicSerdes serdes = new TopicSerdes(client instanceof SchemaRegistryClient c ? c
                : new HttpSchemaRegistryClient(String.valueOf(url)));
        this.deadLetters = new DeadLetters(TopicCatalog.defaults().dlq().name(), serdes,
                stage == null ? "streams" : stage.toString());
    }

    @Override
    public Response handleError(ErrorHandlerContext context, ConsumerRecord<byte[], byte[]> record, Exception exception) {
        if (isRegistryOutage(exception)) {
            LOG.error("cannot decode {}-{}@{}: schema registry unavailable; failing the thread to retry",
                    record.topic(), record.partition(), record.offset(), exception);
            return Response.fail();
        }
        LOG.warn("dead-lettering undecodable record {}-{}@{}: {}", record.topic(), record.partition(), record.offset(),
                exception.toString());
        String key = record.key() == null ? null : new String(record.key(), StandardCharsets.UTF_8);
        DeadLetter dl = DeadLetter.newBuilder()
                .setRequestId(null)
                .setStage(deadLetters.stage())
                .setSourceTopic(record.topic())
                .setSourcePartition(record.partition())
                .setSourceOffset(record.offset())
                .setPayload(record.value() == null ? null : java.nio.ByteBuffer.wrap(record.value()))
                .setErrorClass("undecodable")
                .setErrorMessage(String.valueOf(exception.getMessage()))
                .setAt(Instant.now())
                .build();
        return Response.resume(List.of(deadLetters.record(key, dl)));
    }

    /** True when {@code e} was caused by an unreachable or failing registry, not by the record. */
    public static boolean isRegistryOutage(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SchemaRegistryException r && (r.status() == 0 || r.status() >= 500)) {
                return true;
            }
        }
        return false;
    }

    /** Builds dead-letter records for {@code llm.dlq}. */
    public record DeadLetters(String topic, TopicSerdes serdes, String stage) {
        /** The raw record to produce. */
        public ProducerRecord<byte[], byte[]> record(String key, DeadLetter letter) {
            byte[] k = key == null ? null : key.getBytes(StandardCharsets.UTF_8);
            return new ProducerRecord<>(topic, k, serdes.value(DeadLetter.class).serialize(topic, letter));
        }
    }
}
