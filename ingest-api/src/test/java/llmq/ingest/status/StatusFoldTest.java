package llmq.ingest.status;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import llmq.avro.EventType;
import llmq.avro.Priority;
import llmq.avro.RequestEvent;
import llmq.ingest.internal.avro.RequestStatus;
import org.junit.jupiter.api.Test;

class StatusFoldTest {

    private static int clock;

    private static RequestEvent event(EventType type, Integer attempt) {
        return RequestEvent.newBuilder().setRequestId("r").setTenantId("t").setType(type)
                .setAt(Instant.ofEpochSecond(++clock)).setPriority(Priority.HIGH).setAttempt(attempt).build();
    }

    private static RequestStatus fold(RequestEvent... events) {
        RequestStatus s = null;
        for (RequestEvent e : events) {
            s = StatusFold.apply(s, e);
        }
        return s;
    }

    @Test
    void shouldWalkTheHappyPath() {
        assertThat(fold(event(EventType.ACCEPTED, null)).getState()).isEqualTo("queued");
        assertThat(fold(event(EventType.ACCEPTED, null), event(EventType.RELEASED, null), event(EventType.STARTED, 1))
                .getState()).isEqualTo("running");
        RequestStatus done = fold(event(EventType.ACCEPTED, null), event(EventType.RELEASED, null),
                event(EventType.STARTED, 1), event(EventType.COMPLETED, 1));
        assertThat(done.getState()).isEqualTo("completed");
        assertThat(done.getFinishedAt()).isNotNull();
        assertThat(done.getPriority()).isEqualTo("high");
    }

    @Test
    void shouldNotMoveBackWhenAnEarlyEventArrivesLate() {
        RequestStatus s = fold(event(EventType.RELEASED, null), event(EventType.STARTED, 1), event(EventType.ACCEPTED, null));
        assertThat(s.getState()).isEqualTo("running");
        assertThat(s.getAcceptedAt()).isNotNull();
    }

    @Test
    void shouldNeverLeaveAFinalState() {
        assertThat(fold(event(EventType.STARTED, 1), event(EventType.FAILED, 1), event(EventType.STARTED, 1)).getState())
                .isEqualTo("failed");
        assertThat(fold(event(EventType.COMPLETED, 1), event(EventType.CANCELLED, null)).getState()).isEqualTo("completed");
    }

    @Test
    void shouldRunAgainOnlyForANewerAttemptAfterARetryWasScheduled() {
        RequestStatus retrying = fold(event(EventType.STARTED, 1), event(EventType.RETRY_SCHEDULED, 1));
        assertThat(retrying.getState()).isEqualTo("retrying");
        assertThat(StatusFold.apply(retrying, event(EventType.STARTED, 1)).getState()).isEqualTo("retrying");
        RequestStatus again = StatusFold.apply(retrying, event(EventType.STARTED, 2));
        assertThat(again.getState()).isEqualTo("running");
        assertThat(again.getAttempts()).isEqualTo(2);
    }

    @Test
    void shouldPointADuplicateAtItsOriginal() {
        RequestEvent dup = RequestEvent.newBuilder(event(EventType.DEDUPLICATED, null)).setRelatedRequestId("orig").build();
        RequestStatus s = fold(event(EventType.ACCEPTED, null), dup);
        assertThat(s.getState()).isEqualTo("deduplicated");
        assertThat(s.getRelatedRequestId()).isEqualTo("orig");
    }

    @Test
    void shouldKeepWhatTheAcceptanceCarriesAndTheRoutersCancelVerdict() {
        RequestEvent accepted = RequestEvent.newBuilder(event(EventType.ACCEPTED, null)).setIdempotencyKey("k")
                .setCallbackUrl("http://hook").setBatchId("b").setCustomId("c").build();
        RequestEvent rejected = RequestEvent.newBuilder(event(EventType.CANCEL_REJECTED, null)).setReason("already started").build();
        RequestStatus s = fold(accepted, event(EventType.CANCEL_REQUESTED, null), rejected);
        assertThat(s.getIdempotencyKey()).isEqualTo("k");
        assertThat(s.getCallbackUrl()).isEqualTo("http://hook");
        assertThat(s.getBatchId()).isEqualTo("b");
        assertThat(s.getCustomId()).isEqualTo("c");
        assertThat(s.getCancelRequestedAt()).isNotNull();
        assertThat(s.getCancelRejectedReason()).isEqualTo("already started");
        assertThat(s.getState()).as("a refused cancel changes nothing else").isEqualTo("queued");
    }

    @Test
    void shouldRecordEachPromotionFromTheLevelItLeft() {
        RequestEvent toNormal = RequestEvent.newBuilder(event(EventType.PROMOTED, null)).setPriority(Priority.NORMAL).build();
        RequestEvent toHigh = RequestEvent.newBuilder(event(EventType.PROMOTED, null)).setPriority(Priority.HIGH).build();
        RequestEvent low = RequestEvent.newBuilder(event(EventType.ACCEPTED, null)).setPriority(Priority.LOW).build();
        RequestStatus s = fold(low, toNormal, toHigh);
        assertThat(s.getPromotions()).extracting(p -> p.getFrom() + ">" + p.getTo()).containsExactly("low>normal", "normal>high");
        assertThat(s.getPriority()).isEqualTo("high");
        assertThat(s.getOriginalPriority()).isEqualTo("low");
    }
}
