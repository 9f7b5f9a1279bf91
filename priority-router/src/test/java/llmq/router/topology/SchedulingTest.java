package llmq.router.topology;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import llmq.avro.EventType;
import llmq.avro.LlmRequest;
import llmq.avro.LlmResult;
import llmq.avro.Priority;
import llmq.avro.QueuedRequest;
import llmq.avro.ResultStatus;
import llmq.avro.Usage;
import llmq.router.schedule.CostEstimator;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Parking, release, aging, fairness and the time rules, with the wall clock moved by hand. */
class SchedulingTest {

    private RouterDriver router;

    private RouterDriver router(Map<String, String> settings) {
        router = new RouterDriver(settings);
        return router;
    }

    @AfterEach
    void close() {
        if (router != null) {
            router.close();
        }
    }

    @Test
    void shouldReleaseARealtimeRequestInTheSameProcessCallWhenItsQueueHasRoom() {
        RouterDriver r = router(Map.of());
        r.submit("rt-1", "acme", Priority.REALTIME);
        // no wall-clock time has passed: no punctuation ran, so process() itself released it
        assertThat(r.released()).singleElement().satisfies(rec -> {
            assertThat(rec.key()).isEqualTo("rt-1");
            assertThat(rec.value().getPriority()).isEqualTo(Priority.REALTIME);
            assertThat(rec.value().getAttempt()).isEqualTo(1);
        });
        assertThat(r.events("rt-1", EventType.RELEASED)).hasSize(1);
        assertThat(r.events("rt-1", EventType.PARKED)).isEmpty();
    }

    @Test
    void shouldParkWhenTheQueueIsFullAndReleaseAsRoomFreesInTenantShareThenArrivalOrder() {
        RouterDriver r = router(Map.of("router.queue.depth.normal", "2"));
        for (String id : List.of("a1", "a2", "a3", "a4")) {
            r.submit(id, "acme", Priority.NORMAL);
            r.advance(Duration.ofMillis(10));
        }
        r.submit("b1", "globex", Priority.NORMAL);
        r.advance(Duration.ofMillis(10));
        r.submit("b2", "globex", Priority.NORMAL);
        assertThat(r.releasedIds()).containsExactly("a1", "a2");
        assertThat(r.events("a3", EventType.PARKED)).hasSize(1);
        assertThat(r.metrics.parked(Priority.NORMAL)).isEqualTo(4);

        // each start frees one place; the least-served tenant goes next, its oldest request first
        for (String id : List.of("a1", "a2", "a3", "b1", "a4")) {
            r.started(id, id.startsWith("a") ? "acme" : "globex");
        }
        assertThat(r.releasedIds()).containsExactly("a1", "a2", "a3", "b1", "a4", "b2");
        // b2 waits in the queue; a5 takes the second place; a6 must wait, and a duplicate STARTED
        // (a worker re-running a1 after a crash) frees no place
        r.submit("a5", "acme", Priority.NORMAL);
        r.submit("a6", "acme", Priority.NORMAL);
        r.started("a1", "acme");
        assertThat(r.releasedIds()).containsExactly("a1", "a2", "a3", "b1", "a4", "b2", "a5");
    }

    @Test
    void shouldPromoteALowRequestAfter120sToNormalByItsOriginalArrivalAndReleaseItOnce() {
        RouterDriver r = router(Map.of("router.queue.depth.normal", "1", "router.queue.depth.low", "1"));
        r.submit("n0", "acme", Priority.NORMAL);       // fills the normal queue
        r.submit("l0", "acme", Priority.LOW);          // fills the low queue
        r.submit("l1", "acme", Priority.LOW);          // parks at low, arrival t=0
        r.advance(Duration.ofSeconds(100));
        r.submit("n1", "acme", Priority.NORMAL);       // park at normal, arrival t=100 s
        r.advance(Duration.ofSeconds(10));
        r.submit("n2", "acme", Priority.NORMAL);       // arrival t=110 s
        r.advance(Duration.ofSeconds(11));             // t=121 s: l1 waited 120 s at low

        assertThat(r.events("l1", EventType.PROMOTED)).singleElement()
                .satisfies(e -> assertThat(e.getPriority()).isEqualTo(Priority.NORMAL));
        assertThat(r.releasedIds()).containsExactly("n0", "l0");

        r.started("n0", "acme");
        r.started("l0", "acme");  // frees the low queue: l1 is no longer at low, nothing to release there
        List<TestRecord<String, QueuedRequest>> l1 = r.released("l1");
        assertThat(l1).singleElement().satisfies(rec -> {
            assertThat(rec.value().getPriority()).isEqualTo(Priority.NORMAL);
            assertThat(rec.value().getOriginalPriority()).isEqualTo(Priority.LOW);
            assertThat(rec.value().getPromotions()).singleElement().satisfies(p -> {
                assertThat(p.getFrom()).isEqualTo(Priority.LOW);
                assertThat(p.getTo()).isEqualTo(Priority.NORMAL);
            });
        });
        // it went ahead of n1 and n2, which arrived later
        assertThat(r.releasedIds()).containsExactly("n0", "l0", "l1");
        r.started("l1", "acme");
        r.started("n1", "acme");
        r.advance(Duration.ofSeconds(1));
        assertThat(r.releasedIds()).containsExactly("n0", "l0", "l1", "n1", "n2");
        assertThat(r.releasedIds().stream().filter("l1"::equals)).hasSize(1);
    }

    @Test
    void shouldKeepPromotingAParkedRequestUntilItReachesRealtime() {
        RouterDriver r = router(Map.of("router.queue.depth.low", "1", "router.queue.depth.normal", "1",
                "router.queue.depth.high", "1", "router.queue.depth.realtime", "1"));
        for (Priority p : Priority.values()) {
            r.submit("fill-" + p, "acme", p);
        }
        r.submit("old", "acme", Priority.LOW);
        r.advance(Duration.ofSeconds(120 + 30 + 5 + 1));
        assertThat(r.events("old", EventType.PROMOTED)).extracting(e -> e.getPriority())
                .containsExactly(Priority.NORMAL, Priority.HIGH, Priority.REALTIME);
        r.started("fill-REALTIME", "acme");
        assertThat(r.released("old")).singleElement()
                .satisfies(rec -> assertThat(rec.value().getPriority()).isEqualTo(Priority.REALTIME));
    }

    /**
     * VTC's bound (Sheng et al., OSDI 2024, Theorem 4.3 for two clients): while two tenants are both
     * backlogged, the service (input + 2 × output tokens) released to each differs by at most 2U,
     * U being the largest cost of one request — here, with equal weights.
     */
    @Test
    void shouldServeTwoTenantsSendingTenToOneWithinTheVtcBound() {
        RouterDriver r = router(Map.of("router.queue.depth.normal", "1"));
        Random random = new Random(7);
        Map<String, LlmRequest> requests = new HashMap<>();
        int heavyLeft = 0;
        int lightLeft = 0;
        for (int i = 0; i < 440; i++) {
            boolean light = i % 11 == 10;
            String id = (light ? "light-" : "heavy-") + i;
            LlmRequest req = RouterDriver.request(id, light ? "light" : "heavy", Priority.NORMAL, 16 + random.nextInt(240));
            requests.put(id, r.submit(req));
            if (light) {
                lightLeft++;
            } else {
                heavyLeft++;
            }
        }
        CostEstimator cost = new CostEstimator(256);
        long maxCost = requests.values().stream().mapToLong(cost::estimate).max().orElseThrow();
        long heavyService = 0;
        long lightService = 0;
        long worstGap = 0;
        int index = 0;
        while (index < r.released().size()) {
            QueuedRequest q = r.released().get(index++).value();
            String tenant = q.getRequest().getTenantId();
            boolean bothBacklogged = heavyLeft > 0 && lightLeft > 0;
            if ("light".equals(tenant)) {
                lightLeft--;
                lightService += q.getEstimatedService();
            } else {
                heavyLeft--;
                heavyService += q.getEstimatedService();
            }
            if (bothBacklogged && index > 1) {
                worstGap = Math.max(worstGap, Math.abs(heavyService - lightService));
            }
            r.started(q.getRequest().getId(), tenant);
        }
        assertThat(r.released()).hasSize(440);
        assertThat(worstGap).as("largest service gap while both were backlogged (U = %d)", maxCost)
                .isLessThanOrEqualTo(2 * maxCost);
        // the light tenant's 40 requests went out while the heavy one still had hundreds waiting
        int lastLight = r.releasedIds().lastIndexOf(r.releasedIds().stream().filter(id -> id.startsWith("light")).reduce((a, b) -> b).orElseThrow());
        assertThat(lastLight).isLessThan(100);
    }

    @Test
    void shouldCorrectATenantsCounterWithTheRealUsageOfACompletedCall() {
        RouterDriver r = router(Map.of("router.queue.depth.normal", "1"));
        // acme's first call is estimated at max_tokens 1000 but used 1 token: after the correction
        // acme is not held back behind globex
        r.submit(RouterDriver.request("a1", "acme", Priority.NORMAL, 1000));
        r.submit(RouterDriver.request("a2", "acme", Priority.NORMAL, 10));
        r.submit(RouterDriver.request("g1", "globex", Priority.NORMAL, 10));
        r.submit(RouterDriver.request("g2", "globex", Priority.NORMAL, 10));
        r.started("a1", "acme");
        r.event("a1", "acme", EventType.COMPLETED, 1, null, new Usage(5, 1, 0, false));
        assertThat(r.releasedIds()).containsExactly("a1", "a2");
    }

    @Test
    void shouldHoldARequestUntilNotBeforeThenRelease() {
        RouterDriver r = router(Map.of());
        LlmRequest delayed = RouterDriver.request("later", "acme", Priority.HIGH, 10);
        delayed.setNotBefore(RouterDriver.START.plusSeconds(10));
        r.submit(delayed);
        r.advance(Duration.ofSeconds(9));
        assertThat(r.released()).isEmpty();
        assertThat(r.events("later", EventType.PARKED)).hasSize(1);
        r.advance(Duration.ofSeconds(2));
        assertThat(r.releasedIds()).containsExactly("later");
    }

    @Test
    void shouldExpireAParkedRequestAtItsDeadlineAndNeverReleaseIt() {
        RouterDriver r = router(Map.of("router.queue.depth.normal", "1"));
        r.submit("first", "acme", Priority.NORMAL);
        LlmRequest hurried = RouterDriver.request("hurried", "acme", Priority.NORMAL, 10);
        hurried.setDeadline(RouterDriver.START.plusSeconds(5));
        r.submit(hurried);
        r.advance(Duration.ofSeconds(6));
        assertThat(r.events("hurried", EventType.EXPIRED)).hasSize(1);
        List<LlmResult> results = r.results();
        assertThat(results).singleElement().satisfies(res -> {
            assertThat(res.getRequestId()).isEqualTo("hurried");
            assertThat(res.getStatus()).isEqualTo(ResultStatus.EXPIRED);
        });
        r.started("first", "acme");
        r.advance(Duration.ofSeconds(1));
        assertThat(r.releasedIds()).containsExactly("first");
    }

    @Test
    void shouldExpireARequestWhoseDeadlineHasPassedOnArrival() {
        RouterDriver r = router(Map.of());
        r.advance(Duration.ofSeconds(10));
        LlmRequest late = RouterDriver.request("late", "acme", Priority.REALTIME, 10);
        late.setDeadline(RouterDriver.START.plusSeconds(5));
        r.submit(late);
        assertThat(r.released()).isEmpty();
        assertThat(r.results()).extracting(LlmResult::getStatus).containsExactly(ResultStatus.EXPIRED);
    }

    @Test
    void shouldCancelAParkedRequestAndRejectCancellingAReleasedOne() {
        RouterDriver r = router(Map.of("router.queue.depth.normal", "1"));
        r.submit("running", "acme", Priority.NORMAL);
        r.submit("waiting", "acme", Priority.NORMAL);
        r.event("waiting", "acme", EventType.CANCEL_REQUESTED, null, null, null);
        r.event("running", "acme", EventType.CANCEL_REQUESTED, null, null, null);
        assertThat(r.events("waiting", EventType.CANCELLED)).hasSize(1);
        assertThat(r.events("running", EventType.CANCEL_REJECTED)).singleElement()
                .satisfies(e -> assertThat(e.getReason()).contains("already released"));
        assertThat(r.results()).singleElement().satisfies(res -> {
            assertThat(res.getRequestId()).isEqualTo("waiting");
            assertThat(res.getStatus()).isEqualTo(ResultStatus.CANCELLED);
        });
        r.started("running", "acme");
        r.advance(Duration.ofSeconds(1));
        assertThat(r.releasedIds()).containsExactly("running");
    }

    @Test
    void shouldIgnoreACancelFromAnotherTenant() {
        RouterDriver r = router(Map.of("router.queue.depth.normal", "1"));
        r.submit("running", "acme", Priority.NORMAL);
        r.submit("waiting", "acme", Priority.NORMAL);
        r.event("waiting", "mallory", EventType.CANCEL_REQUESTED, null, null, null);
        r.started("running", "acme");
        assertThat(r.releasedIds()).containsExactly("running", "waiting");
    }

    @Test
    void shouldCancelARequestWhoseCancelArrivedFirst() {
        RouterDriver r = router(Map.of());
        r.event("early", "acme", EventType.CANCEL_REQUESTED, null, null, null);
        r.submit("early", "acme", Priority.HIGH);
        assertThat(r.released()).isEmpty();
        assertThat(r.results()).extracting(LlmResult::getStatus).containsExactly(ResultStatus.CANCELLED);
    }

    @Test
    void shouldParkARetryUntilItsNotBeforeAndReleaseTheNextAttempt() {
        RouterDriver r = router(Map.of());
        r.submit("flaky", "acme", Priority.HIGH);
        r.started("flaky", "acme");
        r.event("flaky", "acme", EventType.RETRY_SCHEDULED, 1, r.now().plusSeconds(2), null);
        r.advance(Duration.ofMillis(1900));
        assertThat(r.released("flaky")).hasSize(1);
        r.advance(Duration.ofMillis(200));
        assertThat(r.released("flaky")).extracting(rec -> rec.value().getAttempt()).containsExactly(1, 2);
        // news about the old attempt changes nothing
        r.event("flaky", "acme", EventType.RETRY_SCHEDULED, 1, r.now(), null);
        r.advance(Duration.ofMillis(100));
        assertThat(r.released("flaky")).hasSize(2);
    }

    @Test
    void shouldNeverReleaseADuplicateKeyWithinTheWindow() {
        RouterDriver r = router(Map.of());
        LlmRequest first = RouterDriver.request("orig", "acme", Priority.NORMAL, 10);
        first.setIdempotencyKey("order-7");
        LlmRequest again = RouterDriver.request("dup", "acme", Priority.HIGH, 10);
        again.setIdempotencyKey("order-7");
        r.submit(first);
        r.advance(Duration.ofHours(1));
        r.submit(again);
        assertThat(r.releasedIds()).containsExactly("orig");
        assertThat(r.events("dup", EventType.DEDUPLICATED)).singleElement()
                .satisfies(e -> assertThat(e.getRelatedRequestId()).isEqualTo("orig"));
    }

    @Test
    void shouldAdmitADeliberateRerunOfAFinishedRequestWithinTheWindow() {
        RouterDriver r = router(Map.of());
        LlmRequest req = RouterDriver.request("again", "acme", Priority.NORMAL, 10);
        r.submit(req);
        r.started("again", "acme");
        r.event("again", "acme", EventType.FAILED, 1, null, null);
        r.submit(req);                 // a plain replay within the window: dropped
        assertThat(r.released("again")).hasSize(1);
        r.rerun(req);                  // a dead-letter replay: run again
        assertThat(r.released("again")).hasSize(2);
    }

    @Test
    void shouldReportDepthsThroughMetrics() {
        RouterDriver r = router(Map.of("router.queue.depth.low", "2"));
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            ids.add(r.submit("low-" + i, "acme", Priority.LOW).getId());
        }
        assertThat(r.metrics.queued(Priority.LOW)).isEqualTo(2);
        assertThat(r.metrics.parked(Priority.LOW)).isEqualTo(3);
    }
}
