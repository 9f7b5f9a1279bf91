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
        tracker.received(p0, 10);
        tracker.received(p0, 11);

        assertThat(tracker.commitable()).isEmpty();
        assertThat(tracker.unfinished()).isEqualTo(2);
        assertThat(tracker.busy(p0)).isTrue();
    }

    @Test
    void shouldCommitOnePastTheLastRecordWhenAllFinished() {
        tracker.received(p0, 10);
        tracker.received(p0, 11);
        tracker.finished(p0, 10);
        tracker.finished(p0, 11);

        assertThat(tracker.commitable()).containsExactly(Map.entry(p0, new OffsetAndMetadata(12)));
        assertThat(tracker.unfinished()).isZero();
        assertThat(tracker.busy(p0)).isFalse();
    }

    @Test
    void shouldNotCommitPastTheLowestUnfinishedRecordWhenLaterOnesFinishFirst() {
        tracker.received(p0, 10);
        tracker.received(p0, 11);
        tracker.received(p0, 12);
        tracker.finished(p0, 12);
        tracker.finished(p0, 11);

        assertThat(tracker.commitable()).containsExactly(Map.entry(p0, new OffsetAndMetadata(10)));

        tracker.finished(p0, 10);
        assertThat(tracker.commitable()).containsExactly(Map.entry(p0, new OffsetAndMetadata(13)));
    }

    @Test
    void shouldReportOnlyPartitionsWhoseCommitPointMoved() {
        tracker.received(p0, 0);
        tracker.received(p1, 5);
        tracker.finished(p0, 0);
        tracker.finished(p1, 5);
        assertThat(tracker.commitable()).containsOnly(Map.entry(p0, new OffsetAndMetadata(1)),
                Map.entry(p1, new OffsetAndMetadata(6)));

        assertThat(tracker.commitable()).isEmpty();

        tracker.received(p1, 6);
        tracker.finished(p1, 6);
        assertThat(tracker.commitable()).containsExactly(Map.entry(p1, new OffsetAndMetadata(7)));
    }

    @Test
    void shouldKeepPartitionsIndependent() {
        tracker.received(p0, 3);
        tracker.received(p1, 8);
        tracker.finished(p1, 8);

        assertThat(tracker.commitable()).containsExactly(Map.entry(p1, new OffsetAndMetadata(9)));
        assertThat(tracker.busy(p0)).isTrue();
        assertThat(tracker.busy(p1)).isFalse();
    }

    @Test
    void shouldRecordFinishedOffsetsBeyondTheCommitPointInTheMetadata() {
        for (long o = 10; o <= 15; o++) {
            tracker.received(p0, o);
        }
        tracker.finished(p0, 12);
        tracker.finished(p0, 13);
        tracker.finished(p0, 15);

        OffsetAndMetadata c = tracker.commitable(1000).get(p0);
        assertThat(c.offset()).isEqualTo(10);
        OffsetRanges skip = CommitMetadata.decode(c.offset(), c.metadata());
        assertThat(java.util.stream.LongStream.rangeClosed(10, 16).filter(skip::contains).boxed().toList())
                .containsExactly(12L, 13L, 15L);

        // only the metadata changed: still worth a commit
        tracker.finished(p0, 11);
        OffsetAndMetadata again = tracker.commitable(1000).get(p0);
        assertThat(again.offset()).isEqualTo(10);
        assertThat(CommitMetadata.decode(10, again.metadata()).count()).isEqualTo(4);
        assertThat(tracker.commitable(1000)).isEmpty();

        tracker.finished(p0, 10);
        tracker.finished(p0, 14);
        assertThat(tracker.commitable(1000)).containsExactly(Map.entry(p0, new OffsetAndMetadata(16, "")));
    }

    @Test
    void shouldCountBufferedRecordsAsUnfinished() {
        tracker.received(p0, 0);
        tracker.received(p0, 1);
        tracker.received(p0, 2);
        tracker.finished(p0, 2);

        assertThat(tracker.commitable(0)).containsExactly(Map.entry(p0, new OffsetAndMetadata(0)));
        assertThat(tracker.unfinished()).isEqualTo(2);
    }

    @Test
    void shouldForgetRevokedPartitionsAndCommitThemAfreshWhenReassigned() {
        tracker.received(p0, 4);
        tracker.finished(p0, 4);
        assertThat(tracker.commitable()).containsExactly(Map.entry(p0, new OffsetAndMetadata(5)));
        tracker.received(p0, 5);

        tracker.revoked(List.of(p0));
        assertThat(tracker.unfinished()).isZero();
        assertThat(tracker.commitable()).isEmpty();

        // reassigned: taken again from the committed offset
        tracker.received(p0, 5);
        tracker.finished(p0, 5);
        assertThat(tracker.commitable()).containsExactly(Map.entry(p0, new OffsetAndMetadata(6)));
    }
}
