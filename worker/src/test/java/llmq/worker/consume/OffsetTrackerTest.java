package llmq.worker.consume;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/** The commit point of each partition never passes a record that is still being worked on. */
class OffsetTrackerTest {

    private final OffsetTracker tracker = new OffsetTracker();
    private final TopicPartition p0 = new TopicPartition("llm.queue.normal", 0);
    private final TopicPartition p1 = new TopicPartition("llm.queue.normal", 1);

    @Test
    void shouldCommitNothingBeforeARecordFinished() {
        tracker.started(p0, 10);
        tracker.started(p0, 11);

        assertThat(tracker.commitable()).isEmpty();
        assertThat(tracker.inFlight()).isEqualTo(2);
        assertThat(tracker.busy(p0)).isTrue();
    }

    @Test
    void shouldCommitOnePastTheLastRecordWhenAllFinished() {
        tracker.started(p0, 10);
        tracker.started(p0, 11);
        tracker.finished(p0, 10);
        tracker.finished(p0, 11);

        assertThat(tracker.commitable()).containsExactly(Map.entry(p0, new OffsetAndMetadata(12)));
        assertThat(tracker.inFlight()).isZero();
        assertThat(tracker.busy(p0)).isFalse();
    }

    @Test
    void shouldNotCommitPastTheLowestUnfinishedRecordWhenLaterOnesFinishFirst() {
        tracker.started(p0, 10);
        tracker.started(p0, 11);
        tracker.started(p0, 12);
        tracker.finished(p0, 12);
        tracker.finished(p0, 11);

        assertThat(tracker.commitable()).containsExactly(Map.entry(p0, new OffsetAndMetadata(10)));

        tracker.finished(p0, 10);
        assertThat(tracker.commitable()).containsExactly(Map.entry(p0, new OffsetAndMetadata(13)));
    }

    @Test
    void shouldReportOnlyPartitionsWhoseCommitPointMoved() {
        tracker.started(p0, 0);
        tracker.started(p1, 5);
        tracker.finished(p0, 0);
        tracker.finished(p1, 5);
        assertThat(tracker.commitable()).containsOnly(Map.entry(p0, new OffsetAndMetadata(1)),
                Map.entry(p1, new OffsetAndMetadata(6)));

        assertThat(tracker.commitable()).isEmpty();

        tracker.started(p1, 6);
        tracker.finished(p1, 6);
        assertThat(tracker.commitable()).containsExactly(Map.entry(p1, new OffsetAndMetadata(7)));
    }

    @Test
    void shouldKeepPartitionsIndependent() {
        tracker.started(p0, 3);
        tracker.started(p1, 8);
        tracker.finished(p1, 8);

        assertThat(tracker.commitable()).containsExactly(Map.entry(p1, new OffsetAndMetadata(9)));
        assertThat(tracker.busy(p0)).isTrue();
        assertThat(tracker.busy(p1)).isFalse();
    }

    @Test
    void shouldForgetRevokedPartitionsAndCommitThemAfreshWhenReassigned() {
        tracker.started(p0, 4);
        tracker.finished(p0, 4);
        assertThat(tracker.commitable()).containsExactly(Map.entry(p0, new OffsetAndMetadata(5)));
        tracker.started(p0, 5);

        tracker.revoked(List.of(p0));
        assertThat(tracker.inFlight()).isZero();
        assertThat(tracker.commitable()).isEmpty();

        // reassigned: taken again from the committed offset
        tracker.started(p0, 5);
        tracker.finished(p0, 5);
        assertThat(tracker.commitable()).containsExactly(Map.entry(p0, new OffsetAndMetadata(6)));
    }
}
