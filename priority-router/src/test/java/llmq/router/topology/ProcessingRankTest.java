package llmq.router.topology;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import llmq.avro.Priority;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

class ProcessingRankTest {

    private static final Map<String, Priority> LEVELS = Map.of("in.realtime", Priority.REALTIME, "in.high", Priority.HIGH,
            "in.normal", Priority.NORMAL, "in.low", Priority.LOW);
    private static final long NOW = 1_800_000_000_000L;

    private final ProcessingRank intake = ProcessingRank.intake(LEVELS);
    private final ProcessingRank events = ProcessingRank.events("events");

    private static ConsumerRecord<Object, Object> at(String topic, long timestamp) {
        return new ConsumerRecord<>(topic, 0, 0L, timestamp, org.apache.kafka.common.record.TimestampType.CREATE_TIME,
                0, 0, "k", "v", new org.apache.kafka.common.header.internals.RecordHeaders(), java.util.Optional.empty());
    }

    @Test
    void shouldTakeEventsThenRealtimeHighNormalBeforeLowFetchedWithThem() {
        // a flood of low fetched ten minutes behind, beside what arrived now
        long low = intake.extract(at("in.low", NOW - 600_000), -1);
        long normal = intake.extract(at("in.normal", NOW), -1);
        long high = intake.extract(at("in.high", NOW), -1);
        long realtime = intake.extract(at("in.realtime", NOW), -1);
        long event = events.extract(at("events", NOW), -1);
        assertThat(event).isLessThan(realtime);
        assertThat(realtime).isLessThan(high);
        assertThat(high).isLessThan(normal);
        assertThat(normal).isLessThan(low);
        assertThat(low).isEqualTo(NOW - 600_000);
    }

    @Test
    void shouldKeepTheOrderWithinATopic() {
        assertThat(intake.extract(at("in.realtime", NOW), -1)).isLessThan(intake.extract(at("in.realtime", NOW + 1), -1));
        assertThat(events.extract(at("events", NOW + 5), -1) - events.extract(at("events", NOW), -1)).isEqualTo(5);
    }

    @Test
    void shouldNeverGiveANegativeTimestamp() {
        assertThat(intake.extract(at("in.realtime", 1_000), -1)).isZero();
        assertThat(events.extract(at("events", -1), -1)).isNotNegative();
        assertThat(intake.extract(at("in.low", -1), 42)).isEqualTo(42);
    }
}
