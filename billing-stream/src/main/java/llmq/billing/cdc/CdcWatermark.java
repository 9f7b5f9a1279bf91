package llmq.billing.cdc;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import llmq.common.db.DbConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Proves the change stream live, end to end. It writes a token into the one-row
 * {@code cdc_heartbeat} table (as the service's own database user, the table's owner) and the
 * change-event handler reports each token it has seen streamed, after every change before it was
 * acknowledged by Kafka. So the first token seen means the initial snapshot is published; the
 * time from write to report is the commit-to-topic lag ({@code llmq_billing_cdc_lag_seconds});
 * and the writes keep the replication slot advancing while the config tables themselves are idle
 * (otherwise PostgreSQL would keep WAL for it).
 *
 * <p>Tokens carry this instance's id and the write time, so another instance's heartbeats are
 * ignored. Until the first token is seen it writes every 500 ms, then every heartbeat interval.
 */
public final class CdcWatermark implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(CdcWatermark.class);
    private static final long FAST_MS = 500;

    private final DbConfig db;
    private final long intervalMs;
    private final String instance = UUID.randomUUID().toString().substring(0, 8);
    private final CountDownLatch live = new CountDownLatch(1);
    private final AtomicLong lastWritten = new AtomicLong();
    private final AtomicLong lastSeen = new AtomicLong();
    private final AtomicLong lagMs = new AtomicLong(-1);
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "llmq-billing-cdc-heartbeat");
        t.setDaemon(true);
        return t;
    });
    private volatile boolean failing;

    public CdcWatermark(DbConfig db, Duration interval, MeterRegistry metrics) {
        this.db = db;
        this.intervalMs = interval.toMillis();
        Gauge.builder("llmq_billing_cdc_lag_seconds", lagMs, v -> v.get() < 0 ? Double.NaN : v.get() / 1000.0)
                .description("time from a heartbeat commit in PostgreSQL to its change being handled after Kafka acked "
                        + "everything before it").register(metrics);
        Gauge.builder("llmq_billing_cdc_heartbeat_age_seconds", lastSeen,
                        v -> v.get() == 0 ? Double.NaN : (System.currentTimeMillis() - v.get()) / 1000.0)
                .description("time since the last heartbeat came through the change stream").register(metrics);
    }

    /** Starts writing heartbeats. */
    public CdcWatermark start() {
        timer.schedule(this::tick, 0, TimeUnit.MILLISECONDS);
        return this;
    }

    private void tick() {
        try {
            write();
        } finally {
            if (!timer.isShutdown()) {
                timer.schedule(this::tick, live.getCount() > 0 ? FAST_MS : intervalMs, TimeUnit.MILLISECONDS);
            }
        }
    }

    /** Writes one heartbeat token now; false if PostgreSQL refused it. */
    public boolean write() {
        long now = System.currentTimeMillis();
        try (Connection c = db.connect();
             PreparedStatement ps = c.prepareStatement("UPDATE cdc_heartbeat SET token = ?, at = now() WHERE id = 1")) {
            ps.setString(1, instance + ":" + now);
            if (ps.executeUpdate() != 1) {
                LOG.warn("cdc_heartbeat has no row 1 (migration V003 not applied?)");
            }
            lastWritten.set(now);
            if (failing) {
                LOG.info("CDC heartbeat written again");
            }
            failing = false;
            return true;
        } catch (SQLException e) {
            if (!failing) {
                LOG.warn("cannot write the CDC heartbeat ({}); retrying", e.toString());
            }
            failing = true;
            return false;
        }
    }

    /** Called by the change handler for each streamed heartbeat token, once everything before it is in Kafka. */
    void seen(String token) {
        int colon = token == null ? -1 : token.indexOf(':');
        if (colon < 0 || !token.substring(0, colon).equals(instance)) {
            return;
        }
        long written;
        try {
            written = Long.parseLong(token.substring(colon + 1));
        } catch (NumberFormatException e) {
            return;
        }
        long now = System.currentTimeMillis();
        lagMs.set(now - written);
        lastSeen.set(now);
        if (live.getCount() > 0) {
            LOG.info("change stream live: heartbeat seen {} ms after its commit", now - written);
            live.countDown();
        }
    }

    /** True once a heartbeat written by this instance came through the stream. */
    public boolean live() {
        return live.getCount() == 0;
    }

    /** Waits until {@link #live()}; false on timeout. */
    public boolean awaitLive(Duration timeout) throws InterruptedException {
        return live.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The latest commit-to-handled lag seen, or null before the first. */
    public Duration lag() {
        long l = lagMs.get();
        return l < 0 ? null : Duration.ofMillis(l);
    }

    /** When the last heartbeat came through (epoch ms), 0 if never. */
    public long lastSeenMillis() {
        return lastSeen.get();
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
