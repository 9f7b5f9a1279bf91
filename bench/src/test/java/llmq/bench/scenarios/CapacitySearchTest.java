package llmq.bench.scenarios;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import llmq.bench.RunContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CapacitySearchTest {

    @TempDir
    Path dir;

    private RunContext ctx(boolean quick) {
        return new RunContext("test", quick, "run", dir, dir, Map.of());
    }

    @Test
    void shouldBisectBetweenTheLadderRungsToWithinTheResolutionAndNeverAboveTheLimit() throws Exception {
        List<Integer> tried = new ArrayList<>();
        CapacitySearch.Outcome o = CapacitySearch.find(ctx(false), new int[] {200, 400, 600, 800}, 0.1, 25, f -> { },
                (rate, attempt) -> {
                    tried.add(rate);
                    return rate <= 537;
                });
        // 400 holds, 600 fails (twice), then 500 holds and 550 fails (twice): 50 apart, within 10 % of 500
        assertThat(o.sustained()).isEqualTo(500);
        assertThat(o.failed()).isEqualTo(550);
        assertThat(tried).containsExactly(200, 400, 600, 600, 500, 550, 550);
    }

    @Test
    void shouldRunAFailedRateOnceMoreAndGoOnWhenItHoldsThen() throws Exception {
        List<String> tried = new ArrayList<>();
        CapacitySearch.Outcome o = CapacitySearch.find(ctx(false), new int[] {100, 200, 300}, 0.1, 25, f -> { },
                (rate, attempt) -> {
                    tried.add(rate + "#" + attempt);
                    return !(rate == 200 && attempt == 1);
                });
        assertThat(o.sustained()).isEqualTo(300);
        assertThat(o.aboveLadder()).isTrue();
        assertThat(tried).containsExactly("100#1", "200#1", "200#2", "300#1");
    }

    @Test
    void shouldNotRunAgainAStepThatFailedByFar() throws Exception {
        List<String> tried = new ArrayList<>();
        int[] last = {0};
        CapacitySearch.Outcome o = CapacitySearch.find(ctx(false), new int[] {100, 200, 400}, 0.1, 25, f -> { },
                CapacitySearch.probe((rate, attempt) -> {
                    tried.add(rate + "#" + attempt);
                    last[0] = rate;
                    return rate < 300;
                }, () -> last[0] < 400));
        // 400 failed by far: no second attempt; 300 failed narrowly: a second one
        assertThat(tried).containsExactly("100#1", "200#1", "400#1", "300#1", "300#2", "250#1", "275#1");
        assertThat(o.sustained()).isEqualTo(275);
        assertThat(o.failed()).isEqualTo(300);
    }

    @Test
    void shouldNotRetryInQuickModeAndReportNothingSustainedWhenTheFirstRungFails() throws Exception {
        List<Integer> tried = new ArrayList<>();
        CapacitySearch.Outcome o = CapacitySearch.find(ctx(true), new int[] {100, 200}, 0.5, 25, f -> { }, (rate, attempt) -> {
            tried.add(rate);
            return false;
        });
        // nothing held: between 0 and 100 the search still looks (50, then 25) before it gives up
        assertThat(o.sustained()).isZero();
        assertThat(tried).startsWith(100).doesNotContain(200);
    }

    @Test
    void shouldSettleBeforeEveryStepAndSayWhenTheStepBeforeFailed() throws Exception {
        List<String> log = new ArrayList<>();
        CapacitySearch.find(ctx(false), new int[] {100, 200}, 0.5, 100, f -> log.add("settle" + (f ? "!" : "")),
                (rate, attempt) -> {
                    log.add(rate + "#" + attempt);
                    return rate == 100;
                });
        assertThat(log).containsExactly("settle", "100#1", "settle", "200#1", "settle!", "200#2");
    }

    @Test
    void shouldRefuseALadderThatIsNotAscending() {
        assertThatThrownBy(() -> CapacitySearch.ladder("200, 100")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("ascending");
        assertThat(CapacitySearch.ladder(" 100, 200 ,400")).containsExactly(100, 200, 400);
    }

    @Test
    void shouldStartTheLadderAtTheHighestRungAtOrUnderAGivenRate() {
        int[] ladder = {800, 1600, 3200, 4800, 6400};
        assertThat(CapacitySearch.from(ladder, 3200)).containsExactly(3200, 4800, 6400);
        assertThat(CapacitySearch.from(ladder, 4000)).containsExactly(3200, 4800, 6400);
        assertThat(CapacitySearch.from(ladder, 400)).containsExactly(800, 1600, 3200, 4800, 6400);
        assertThat(CapacitySearch.from(ladder, 9600)).containsExactly(6400);
    }
}
