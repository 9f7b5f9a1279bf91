package llmq.bench.stats;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

class WindowedLatencyTest {

    @Test
    void shouldKeepPercentilesPerSeriesAndWindow() {
        WindowedLatency w = new WindowedLatency(10_000, 1000);
        for (int i = 1; i <= 100; i++) {
            w.record("realtime", 10_100, i * 1000L);         // window 0: 1..100 ms
            w.record("realtime", 11_900, 500_000L);          // window 1: all 500 ms
        }
        w.record("low", 12_000, 9_000_000L);                 // window 2 of another series
        List<WindowedLatency.Point> p50 = w.percentile("realtime", 50, 1);
        assertThat(p50).hasSize(2);
        assertThat(p50.get(0).seconds()).isEqualTo(0.5);
        assertThat(p50.get(0).millis()).isCloseTo(50, within(0.1));
        assertThat(p50.get(1).millis()).isCloseTo(500, within(0.5));
        assertThat(w.percentile("realtime", 99, 1).get(0).millis()).isCloseTo(99, within(0.1));
        assertThat(w.percentile("low", 50, 1)).extracting(WindowedLatency.Point::seconds).containsExactly(2.5);
        assertThat(w.names()).containsExactly("realtime", "low");
    }

    @Test
    void shouldTakeTheMedianOfTheWindowsPercentileSoOneBadWindowDoesNotSetIt() {
        WindowedLatency w = new WindowedLatency(0, 1000);
        long[] p99s = {20, 22, 24, 400, 21};                   // one window with a 400-ms stall
        for (int win = 0; win < p99s.length; win++) {
            for (int i = 1; i <= 100; i++) {
                w.record("rt", win * 1000L + 10, (i == 100 ? p99s[win] : 5) * 1000L);
            }
        }
        w.record("rt", 5_010, 999_000L);                      // a sixth window with a single value: skipped
        assertThat(w.medianOverWindows("rt", 100, 10)).isCloseTo(22, within(0.1));
        assertThat(w.medianOverWindows("rt", 100, 1)).isCloseTo(23, within(0.1)); // six windows: mean of 22 and 24
        assertThat(w.medianOverWindows("missing", 99, 1)).isNaN();
    }

    @Test
    void shouldSkipWindowsWithTooFewValuesAndTimesBeforeTheOrigin() {
        WindowedLatency w = new WindowedLatency(10_000, 1000);
        w.record("a", 9_999, 1000);
        w.record("a", 10_000, 1000);
        assertThat(w.percentile("a", 50, 2)).isEmpty();
        assertThat(w.percentile("a", 50, 1)).hasSize(1);
        assertThat(w.percentile("missing", 50, 1)).isEmpty();
    }

    @Test
    void shouldSummariseInMillisecondsAndClampNegativeClockSkew() {
        Histogram h = Latencies.histogram();
        h.recordValue(Latencies.clamp(-5));
        h.recordValue(Latencies.clamp(2_000));
        assertThat(Latencies.summary(h).get("count").asLong()).isEqualTo(2);
        assertThat(Latencies.summary(h).get("max_ms").asDouble()).isCloseTo(2.0, within(0.01));
        assertThat(Latencies.ms(Latencies.histogram(), 99)).isNaN();
        assertThat(Latencies.summary(Latencies.histogram()).has("p99_ms")).isFalse();
    }
}
