package llmq.billing.topology;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class StoreKeysTest {

    @Test
    void shouldSortTimestampsAsTextLikeTheNumbersIncludingNegativeOnes() {
        List<Long> times = List.of(Long.MIN_VALUE, -86_400_000L, -1L, 0L, 1L, 1_767_225_600_000L, Long.MAX_VALUE);
        List<String> encoded = new ArrayList<>(times.stream().map(StoreKeys::sortable).toList());
        List<String> sorted = new ArrayList<>(encoded);
        sorted.sort(null);

        assertThat(sorted).isEqualTo(encoded);
        assertThat(encoded).allSatisfy(s -> assertThat(s).hasSize(20));
    }

    @Test
    void shouldKeepEveryKeyOfATenantInsideItsRangeAndOtherTenantsOutside() {
        String from = StoreKeys.tenantFrom("acme");
        String to = StoreKeys.tenantTo("acme");
        List<String> inside = List.of(StoreKeys.hourly("acme", "m", "USD"), StoreKeys.daily("acme", "EUR"),
                StoreKeys.hourly("acme", "", "USD"));
        List<String> outside = List.of(StoreKeys.hourly("acme2", "m", "USD"), StoreKeys.hourly("acm", "m", "USD"),
                StoreKeys.daily("acme ", "USD"), StoreKeys.daily("acme-x", "USD"));

        assertThat(inside).allSatisfy(k -> assertThat(k.compareTo(from) >= 0 && k.compareTo(to) < 0).isTrue());
        assertThat(outside).allSatisfy(k -> assertThat(k.compareTo(from) >= 0 && k.compareTo(to) < 0).isFalse());
        assertThat(StoreKeys.split(StoreKeys.hourly("acme", "m", "USD"))).containsExactly("acme", "m", "USD");
    }
}
