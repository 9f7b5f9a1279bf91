package llmq.bench.scenarios;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class KafkaToolsTest {

    @Test
    void shouldReadTheFinalSummaryOfProducerPerformance() {
        String out = "214865 records sent, 42964.4 records/sec (41.96 MB/sec), 569.2 ms avg latency, 803.0 ms max latency.\n"
                + "400000 records sent, 61357.3 records/sec (59.92 MB/sec), 455.21 ms avg latency, 803.00 ms max latency, "
                + "434 ms 50th, 679 ms 95th, 761 ms 99th, 797 ms 99.9th.\n";
        KafkaTools.Producer p = KafkaTools.producer(out);
        assertThat(p.records()).isEqualTo(400_000);
        assertThat(p.recordsPerSecond()).isEqualTo(61357.3);
        assertThat(p.mbPerSecond()).isEqualTo(59.92);
        assertThat(p.p50Ms()).isEqualTo(434);
        assertThat(p.p99Ms()).isEqualTo(761);
        assertThat(p.p999Ms()).isEqualTo(797);
    }

    @Test
    void shouldReadTheSteadyStateSummaryWhenThereIsAWarmUp() {
        String out = "300000 records sent, 48000.0 records/sec (46.88 MB/sec), 500.00 ms avg latency, 900.00 ms max latency, "
                + "450 ms 50th, 700 ms 95th, 800 ms 99th, 890 ms 99.9th.\n"
                + "200000 steady state records sent, 55123.456789 records/sec (53.83 MB/sec), 400.00 ms avg latency, "
                + "800.00 ms max latency, 380 ms 50th, 600 ms 95th, 700 ms 99th, 790 ms 99.9th.\n";
        KafkaTools.Producer p = KafkaTools.producer(out);
        assertThat(p.records()).isEqualTo(200_000);
        assertThat(p.recordsPerSecond()).isEqualTo(55123.456789);
        assertThat(p.p50Ms()).isEqualTo(380);
    }

    @Test
    void shouldReadEndToEndLatencysSummary() {
        String out = "0\t12.5\nAvg latency: 1.8731 ms\nPercentiles: 50th = 1, 99th = 6, 99.9th = 13\n";
        KafkaTools.EndToEnd e = KafkaTools.endToEnd(out);
        assertThat(e.avgMs()).isEqualTo(1.8731);
        assertThat(e.p50Ms()).isEqualTo(1);
        assertThat(e.p99Ms()).isEqualTo(6);
        assertThat(e.p999Ms()).isEqualTo(13);
    }

    @Test
    void shouldReturnNothingForOutputWithoutASummary() {
        assertThat(KafkaTools.producer("Exception in thread main")).isNull();
        assertThat(KafkaTools.endToEnd("")).isNull();
    }
}
