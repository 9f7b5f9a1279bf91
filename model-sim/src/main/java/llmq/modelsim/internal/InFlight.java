package llmq.modelsim.internal;

import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The exchanges the simulator has accepted but not yet finished answering, and the scheduler
 * that finishes them. A delayed answer holds no thread while it waits: the handler returns, the
 * exchange stays open, and a scheduled step writes to it later. Tracking every open exchange is
 * what lets shutdown close them all, so that none leaks.
 */
public final class InFlight implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(InFlight.class);

    /** One step of writing an answer; it may write, schedule the next step or finish the call. */
    @FunctionalInterface
    interface Step {
        void run() throws IOException;
    }

    /** An open exchange. Whoever {@link #claim() claims} it is the only one who may finish it. */
    final class Call {
        final HttpExchange exchange;
        private final AtomicBoolean done = new AtomicBoolean();
        /** Run when the call is aborted before it was answered; may be null. */
        private final Runnable onAbort;

        private Call(HttpExchange exchange, Runnable onAbort) {
            this.exchange = exchange;
            this.onAbort = onAbort;
        }

        /** Takes the right to finish the call; false if someone else (e.g. shutdown) already has. */
        boolean claim() {
            if (done.compareAndSet(false, true)) {
                open.remove(this);
                return true;
            }
            return false;
        }

        boolean isDone() {
            return done.get();
        }
    }

    private final ScheduledThreadPoolExecutor scheduler;
    private final Set<Call> open = ConcurrentHashMap.newKeySet();
    private final AtomicInteger peak = new AtomicInteger();

    InFlight(ScheduledThreadPoolExecutor scheduler) {
        this.scheduler = scheduler;
        // Cancelled hang timers must not pile up in the queue until they would have fired.
        scheduler.setRemoveOnCancelPolicy(true);
    }

    /** A scheduler with {@code threads} named daemon threads. */
    public static InFlight create(String name, int threads) {
        AtomicInteger n = new AtomicInteger();
        return new InFlight(new ScheduledThreadPoolExecutor(threads, r -> {
            Thread t = new Thread(r, name + "-scheduler-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        }));
    }

    /**
     * Tracks {@code exchange} until it is finished.
     *
     * @param onAbort run if the call is aborted (shutdown, broken connection) before it is claimed; may be null
     */
    Call open(HttpExchange exchange, Runnable onAbort) {
        Call call = new Call(exchange, onAbort);
        open.add(call);
        peak.accumulateAndGet(open.size(), Math::max);
        return call;
    }

    /**
     * Runs {@code step} after {@code delayNanos} (at once, on this thread, when not positive).
     * A step that fails aborts the call (running its hook unless it was already claimed) and
     * closes the exchange.
     */
    void schedule(Call call, long delayNanos, Step step) {
        Runnable guarded = () -> {
            if (call.isDone()) {
                return;
            }
            try {
                step.run();
            } catch (IOException | RuntimeException e) {
                LOG.debug("answer to {} broke off", call.exchange.getRemoteAddress(), e);
                abort(call);
                call.exchange.close();
            }
        };
        if (delayNanos <= 0) {
            guarded.run();
            return;
        }
        try {
            scheduler.schedule(guarded, delayNanos, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            abort(call);
        }
    }

    /** Holds {@code call} open without answering, then closes its connection after {@code hang}. */
    void hang(Call call, Duration hang) {
        schedule(call, hang.toNanos(), () -> {
            if (call.claim()) {
                call.exchange.close();
            }
        });
    }

    /** Closes the call's connection unless it is being answered; runs its abort hook. */
    void abort(Call call) {
        if (call.claim()) {
            Runnable hook = call.onAbort;
            if (hook != null) {
                hook.run();
            }
            call.exchange.close();
        }
    }

    /** Calls currently open. */
    public int size() {
        return open.size();
    }

    /** The most calls that were open at once. */
    public int peak() {
        return peak.get();
    }

    /** Stops the scheduler and closes every open call, so that no client waits for a stopped simulator. */
    @Override
    public void close() {
        scheduler.shutdownNow();
        try {
            if (!scheduler.awaitTermination(2, TimeUnit.SECONDS)) {
                LOG.warn("model-sim scheduler did not stop within 2 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        List<Call> left = new ArrayList<>(open);
        if (!left.isEmpty()) {
            LOG.info("model-sim closing {} unanswered calls", left.size());
        }
        left.forEach(this::abort);
    }
}
