package llmq.topics.streams;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import llmq.common.http.HealthCheck;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running Kafka Streams app with llmq's conventions: a failed stream thread is logged and
 * replaced (the failed task's transaction is aborted, so nothing is lost or doubled), client
 * metrics are bound to the service's registry, and health is UP while the app is RUNNING or
 * REBALANCING. Never calls {@code cleanUp()}: local state is kept and restored from changelogs.
 */
public final class StreamsApp implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(StreamsApp.class);

    private final String name;
    private final KafkaStreams streams;
    private final KafkaStreamsMetrics metrics;

    private StreamsApp(String name, KafkaStreams streams, KafkaStreamsMetrics metrics) {
        this.name = name;
        this.streams = streams;
        this.metrics = metrics;
    }

    /** Starts {@code topology} with {@code props}; metrics go to {@code registry} when given. */
    public static StreamsApp start(String name, Topology topology, Map<String, Object> props, MeterRegistry registry) {
        Properties p = new Properties();
        p.putAll(props);
        KafkaStreams streams = new KafkaStreams(topology, p);
        streams.setUncaughtExceptionHandler(e -> {
            LOG.error("{}: stream thread failed; replacing it", name, e);
            return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD;
        });
        streams.setStateListener((now, before) -> LOG.info("{}: {} -> {}", name, before, now));
        KafkaStreamsMetrics m = null;
        if (registry != null) {
            m = new KafkaStreamsMetrics(streams);
            m.bindTo(registry);
        }
        streams.start();
        return new StreamsApp(name, streams, m);
    }

    public KafkaStreams streams() {
        return streams;
    }

    /** Blocks until RUNNING; false on timeout or if the app stopped. */
    public boolean awaitRunning(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            KafkaStreams.State s = streams.state();
            if (s == KafkaStreams.State.RUNNING) {
                return true;
            }
            if (!s.isRunningOrRebalancing() && s != KafkaStreams.State.CREATED) {
                return false;
            }
            Thread.sleep(50);
        }
        return false;
    }

    /** UP while RUNNING or REBALANCING. */
    public HealthCheck health() {
        return () -> {
            KafkaStreams.State s = streams.state();
            return s.isRunningOrRebalancing() ? HealthCheck.Status.up(s.name()) : HealthCheck.Status.down(s.name());
        };
    }

    @Override
    public void close() {
        LOG.info("{}: closing", name);
        // leave the group so that a restarted instance gets its tasks at once instead of after the
        // session timeout (a kill -9 cannot leave: then the session timeout applies)
        streams.close(CloseOptions.timeout(Duration.ofSeconds(30))
                .withGroupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP));
        if (metrics != null) {
            metrics.close();
        }
    }
}
