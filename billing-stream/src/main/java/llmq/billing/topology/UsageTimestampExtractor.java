package llmq.billing.topology;

import llmq.avro.UsageEvent;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.streams.processor.TimestampExtractor;

/**
 * Usage is timed by when the call finished ({@code UsageEvent.at}), not by when the worker
 * managed to publish it: that is the time prices, windows and months are chosen by. A record
 * without one keeps its Kafka timestamp.
 */
public final class UsageTimestampExtractor implements TimestampExtractor {

    @Override
    public long extract(ConsumerRecord<Object, Object> record, long partitionTime) {
        if (record.value() instanceof UsageEvent u && u.getAt() != null) {
            return u.getAt().toEpochMilli();
        }
        return record.timestamp() >= 0 ? record.timestamp() : partitionTime;
    }
}
