package llmq.worker.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import llmq.avro.Priority;
import llmq.common.config.ConfigException;
import org.junit.jupiter.api.Test;

/** The stride choice across levels: exact weights when all are backlogged, work-conserving, no banked credit. */
class FairQueueTest {

    private static final Map<Priority, Integer> WEIGHTS =
            Map.of(Priority.REALTIME, 8, Priority.HIGH, 4, Priority.NORMAL, 2, Priority.LOW, 1);

    @Test
    void shouldServeBackloggedLevelsExactlyByWeightInEveryCycle() {
        FairQueue<Integer> q = new FairQueue<>(WEIGHTS, 1000);
        for (Priority p : Priority.values()) {
            for (int i = 0; i < 100; i++) {
                q.offer(p, i);
            }
        }
        for (int cycle = 0; cycle < 4; cycle++) {
            Map<Priority, Integer> served = new EnumMap<>(Priority.class);
            for (int i = 0; i < 15; i++) {
                served.merge(q.pollNext(x -> true).level(), 1, Integer::sum);
            }
            assertThat(served).containsExactlyInAnyOrderEntriesOf(WEIGHTS);
        }
    }

    @Test
    void shouldKeepEachLevelInArrivalOrder() {
        FairQueue<Integer> q = new FairQueue<>(WEIGHTS, 10);
        for (int i = 0; i < 5; i++) {
            q.offer(Priority.LOW, i);
        }
        List<Integer> out = new ArrayList<>();
        FairQueue.Admitted<Integer, Boolean> a;
        while ((a = q.pollNext(x -> true)) != null) {
            out.add(a.item());
        }
        assertThat(out).containsExactly(0, 1, 2, 3, 4);
        assertThat(q.size()).isZero();
    }

    @Test
    void shouldGiveAnEmptyLevelsShareToTheOthers() {
        FairQueue<Integer> q = new FairQueue<>(WEIGHTS, 1000);
        for (int i = 0; i < 300; i++) {
            q.offer(Priority.NORMAL, i);
            q.offer(Priority.LOW, i);
        }
        Map<Priority, Integer> served = new EnumMap<>(Priority.class);
        for (int i = 0; i < 300; i++) {
            served.merge(q.pollNext(x -> true).level(), 1, Integer::sum);
        }
        assertThat(served).containsOnly(Map.entry(Priority.NORMAL, 200), Map.entry(Priority.LOW, 100));
    }

    @Test
    void shouldNotLetALevelBankCreditWhileItWasIdle() {
        FairQueue<Integer> q = new FairQueue<>(WEIGHTS, 1000);
        for (int i = 0; i < 1000; i++) {
            q.offer(Priority.LOW, i);
        }
        for (int i = 0; i < 500; i++) {
            assertThat(q.pollNext(x -> true).level()).isEqualTo(Priority.LOW);
        }
        // realtime was idle all along: it now gets its 8:1 share, not a burst of everything it "missed"
        for (int i = 0; i < 100; i++) {
            q.offer(Priority.REALTIME, i);
        }
        Map<Priority, Integer> served = new EnumMap<>(Priority.class);
        for (int i = 0; i < 90; i++) {
            served.merge(q.pollNext(x -> true).level(), 1, Integer::sum);
        }
        // 8:1 within one pick of phase; without the lift to virtual time realtime would take all 90
        assertThat(served.get(Priority.REALTIME)).isBetween(80, 81);
        assertThat(served.get(Priority.LOW)).isBetween(9, 10);
    }

    @Test
    void shouldSkipALevelWhoseHeadCannotStartWithoutChargingIt() {
        FairQueue<String> q = new FairQueue<>(WEIGHTS, 10);
        q.offer(Priority.REALTIME, "blocked");
        q.offer(Priority.LOW, "free");
        FairQueue.Admitted<String, String> a = q.pollNext(x -> x.equals("blocked") ? null : "ok");
        assertThat(a.item()).isEqualTo("free");
        assertThat(a.admission()).isEqualTo("ok");
        assertThat(q.pollNext(x -> x.equals("blocked") ? null : "ok")).isNull();
        assertThat(q.pollNext(x -> "ok").item()).isEqualTo("blocked");
    }

    @Test
    void shouldReportALevelFullAtItsCapacityAndDropRevokedItems() {
        FairQueue<Integer> q = new FairQueue<>(WEIGHTS, 3);
        q.offer(Priority.HIGH, 1);
        q.offer(Priority.HIGH, 2);
        assertThat(q.full(Priority.HIGH)).isFalse();
        q.offer(Priority.HIGH, 3);
        assertThat(q.full(Priority.HIGH)).isTrue();
        assertThat(q.full(Priority.LOW)).isFalse();

        assertThat(q.removeIf(x -> x % 2 == 1)).isEqualTo(2);
        assertThat(q.size(Priority.HIGH)).isEqualTo(1);
        assertThat(q.size()).isEqualTo(1);
    }

    @Test
    void shouldRefuseAWeightBelowOne() {
        Map<Priority, Integer> w = new EnumMap<>(WEIGHTS);
        w.put(Priority.HIGH, 0);
        assertThatThrownBy(() -> new FairQueue<Integer>(w, 10))
                .isInstanceOf(ConfigException.class).hasMessageContaining("worker.weights.high");
    }
}
