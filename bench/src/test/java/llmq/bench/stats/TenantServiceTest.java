package llmq.bench.stats;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class TenantServiceTest {

    private static TenantService.Served s(long at, String tenant, long cost) {
        return new TenantService.Served(at, tenant, cost);
    }

    @Test
    void shouldCountOutputTokensTwice() {
        assertThat(TenantService.cost(100, 50)).isEqualTo(200);
    }

    @Test
    void shouldBoundTheGapOfStrictAlternationByOneRequest() {
        List<TenantService.Served> served = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            served.add(s(i, i % 2 == 0 ? "a" : "b", 10));
        }
        assertThat(TenantService.maxGap(served, List.of("a", "b"), 0, 1000)).isEqualTo(10);
    }

    @Test
    void shouldFindTheLargestGapOverAnySubIntervalNotOnlyFromTheStart() {
        // b leads by 30 early, then a catches up and leads by 20: over [early, late] a gained 50 on b
        List<TenantService.Served> served = List.of(s(1, "b", 30), s(2, "a", 50), s(3, "b", 0));
        assertThat(TenantService.maxGap(served, List.of("a", "b"), 0, 10)).isEqualTo(50);
    }

    @Test
    void shouldTakeTheWorstPairAmongManyTenants() {
        List<TenantService.Served> served = List.of(s(1, "a", 5), s(2, "b", 5), s(3, "c", 40), s(4, "a", 5));
        // c over a in (1, 3]: a got nothing there, c got 40 (from the start it would be only 35)
        assertThat(TenantService.maxGap(served, List.of("a", "b", "c"), 0, 10)).isEqualTo(40);
    }

    @Test
    void shouldIgnoreServiceOutsideTheIntervalAndOfOtherTenants() {
        List<TenantService.Served> served = List.of(s(1, "a", 1000), s(5, "a", 10), s(6, "b", 10), s(7, "x", 500),
                s(50, "b", 1000));
        assertThat(TenantService.maxGap(served, List.of("a", "b"), 2, 20)).isEqualTo(10);
    }

    @Test
    void shouldGiveOneJainIndexPerFullWindowWithService() {
        List<TenantService.Served> served = List.of(
                s(0, "a", 10), s(500, "b", 10),       // window 0: even
                s(1000, "a", 30),                     // window 1: only a
                s(2500, "a", 1), s(2600, "b", 1));    // window 2 is not full: [0, 2500) holds two windows
        List<Double> j = TenantService.jainPerWindow(served, List.of("a", "b"), 0, 2500, 1000);
        assertThat(j).hasSize(2);
        assertThat(j.get(0)).isEqualTo(1.0);
        assertThat(j.get(1)).isCloseTo(0.5, within(1e-12));
    }

    @Test
    void shouldLeaveOutWindowsWithoutAnyService() {
        List<TenantService.Served> served = List.of(s(0, "a", 10), s(10, "b", 10), s(2500, "a", 10), s(2600, "b", 10));
        assertThat(TenantService.jainPerWindow(served, List.of("a", "b"), 0, 3000, 1000)).containsExactly(1.0, 1.0);
    }
}
