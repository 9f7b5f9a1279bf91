package llmq.ingest.status;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import llmq.avro.EventType;
import llmq.avro.Priority;
import llmq.avro.RequestEvent;
import llmq.ingest.internal.avro.RequestStatus;
import org.junit.jupiter.api.Test;

class QueueStatsTest {

    private final AtomicLong now = new AtomicLong(1_000_000);

    private static RequestEvent e(EventType type, long at) {
        return RequestEvent.newBuilder().setRequestId("r").setTenantId("t").setType(type).setAt(Instant.ofEpochMilli(at))
                .setPriority(Priority.LOW).setAttempt(1).build();
    }

    private static void start(QueueStats stats, long acceptedAt, long startedAt) {
        RequestStatus s = StatusFold.apply(null, e(EventType.ACCEPTED, acceptedAt));
        stats.observe(null, s, e(EventType.ACCEPTED, acceptedAt));
        RequestStatus running = StatusFold.apply(s, e(EventType.STARTED, startedAt));
        stats.observe(s, running, e(EventType.STARTED, startedAt));
        RequestStatus done = StatusFold.apply(running, e(EventType.COMPLETED, startedAt + 1));
        stats.observe(running, done, e(EventType.COMPLETED, startedAt + 1));
    }

    @Test
    void shouldMergeInstancesIntoRatesAndNearestRankPercentiles() {
        QueueStats a = new QueueStats(Duration.ofSeconds(10), now::get);
        QueueStats b = new QueueStats(Duration.ofSeconds(10), now::get);
        for (int i = 1; i <= 60; i++) {
            start(a, 0, i);
        }
        for (int i = 61; i <= 100; i++) {
            start(b, 0, i);
        }
        Map<String, QueueStats.LevelView> v = QueueStats.merge(List.of(a.sample(), b.sample()));
        assertThat(v.get("low").waitSamples()).isEqualTo(100);
        assertThat(v.get("low").waitP50Ms()).isEqualTo(50);
        assertThat(v.get("low").waitP90Ms()).isEqualTo(90);
        assertThat(v.get("low").waitP99Ms()).isEqualTo(99);
        assertThat(v.get("low").acceptedPerSecond()).isEqualTo(10.0);
        assertThat(v.get("low").finishedPerSecond()).isEqualTo(10.0);
        assertThat(v.get("high").waitP50Ms()).isNull();
    }

    @Test
    void shouldForgetWhatIsOlderThanTheWindow() {
        QueueStats s = new QueueStats(Duration.ofSeconds(10), now::get);
        start(s, 0, 5);
        now.addAndGet(11_000);
        QueueStats.LevelView low = QueueStats.merge(List.of(s.sample())).get("low");
        assertThat(low.waitSamples()).isZero();
        assertThat(low.acceptedPerSecond()).isZero();
    }
}
