package llmq.worker.run;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import llmq.avro.LlmRequest;
import llmq.avro.Priority;
import llmq.avro.QueuedRequest;
import llmq.worker.endpoints.Endpoints;
import llmq.worker.endpoints.Lease;
import llmq.worker.endpoints.Selection;
import llmq.worker.metrics.WorkerMetrics;
import llmq.worker.model.Completion;
import llmq.worker.model.ModelCall;
import llmq.worker.model.ModelCallException;
import llmq.worker.outcome.Outcomes;
import llmq.worker.outcome.StaleOutcome;
import llmq.worker.retry.RetryPolicy;
import llmq.worker.schedule.FairQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the requests the consumer took: keeps them in the {@link FairQueue}, and whenever a
 * slot is free (fewer than {@code maxInFlight} calls running) takes the head of the level that
 * is due by weighted fair share, provided an endpoint can take it, and starts its call
 * asynchronously. Each finished call publishes its outcome: COMPLETED (result, usage, event);
 * RETRY_SCHEDULED for a retryable failure with attempts left (the slot is freed, the router
 * releases the next attempt later); FAILED and DEAD_LETTERED otherwise. A request whose
 * deadline has passed is not called: it is EXPIRED. Exactly one STARTED event is written per
 * record taken.
 *
 * <p>Dispatching happens on whichever thread frees a slot or offers work (the consumer thread,
 * an HTTP client thread), one at a time (a drain loop), so a finished call starts the next one
 * at once, without waiting for the consumer's next poll. When the outcome of a record is
 * durable (Kafka acknowledged every record of it in the open transaction), the {@link Finisher}
 * hears of it, so the consumer can commit the record's offset in that transaction. An outcome
 * that was not written because its record is no longer this worker's ({@code StaleOutcome})
 * is counted as superseded, not as an error.
 */
public final class Dispatcher {

    private static final Logger LOG = LoggerFactory.getLogger(Dispatcher.class);

    /** Told when a taken record's outcome is durable (or could not be made durable, or was handed back). */
    @FunctionalInterface
    public interface Finisher {
        void finished(Pending pending, boolean durable);
    }

    private enum Kind { CALL, EXPIRED, UNROUTABLE }

    private record Admission(Kind kind, Lease lease, String why) {
    }

    /** A call that is running, so that shutdown can hand it back. */
    private static final class Running {
        final Pending pending;
        volatile CompletableFuture<Completion> call;
        volatile boolean handedBack;

        Running(Pending pending) {
            this.pending = pending;
        }
    }

    private final Object lock = new Object();
    private final FairQueue<Pending> queue;
    private final int maxInFlight;
    private final Endpoints endpoints;
    private final Outcomes outcomes;
    private final RetryPolicy retry;
    private final WorkerMetrics metrics;
    private final Clock clock;
    private final AtomicInteger wip = new AtomicInteger();
    private final AtomicInteger unresolved = new AtomicInteger();
    private final Set<Running> running = ConcurrentHashMap.newKeySet();
    private volatile Finisher finisher = (p, durable) -> { };
    /** Calls holding a slot; guarded by {@link #lock}. */
    private int inFlight;
    private volatile boolean closed;

    public Dispatcher(FairQueue<Pending> queue, int maxInFlight, Endpoints endpoints, Outcomes outcomes,
                      RetryPolicy retry, WorkerMetrics metrics, Clock clock) {
        if (maxInFlight < 1) {
            throw new IllegalArgumentException("maxInFlight must be at least 1");
        }
        this.queue = queue;
        this.maxInFlight = maxInFlight;
        this.endpoints = endpoints;
        this.outcomes = outcomes;
        this.retry = retry;
        this.metrics = metrics;
        this.clock = clock;
        metrics.gauge("llmq_worker_in_flight", "model calls in flight", java.util.Map.of(), this::inFlight);
        for (Priority p : Priority.values()) {
            metrics.gauge("llmq_worker_buffered", "records taken from Kafka and waiting for a slot",
                    java.util.Map.of("level", llmq.topics.catalog.TopicCatalog.level(p)), () -> buffered(p));
        }
    }

    /** Sets who hears of durable outcomes; call before the first {@link #offer}. */
    public void finisher(Finisher f) {
        this.finisher = f;
    }

    /** Adds a taken record to its level's buffer (call {@link #pump} after a batch). */
    public void offer(Priority level, Pending p) {
        synchronized (lock) {
            if (closed) {
                return;
            }
            queue.offer(level, p);
        }
    }

    /** True when {@code level}'s buffer is full: its partitions should be paused. */
    public boolean full(Priority level) {
        synchronized (lock) {
            return queue.full(level);
        }
    }

    /** Records of {@code level} waiting for a slot. */
    public int buffered(Priority level) {
        synchronized (lock) {
            return queue.size(level);
        }
    }

    /** Calls holding a slot. */
    public int inFlight() {
        synchronized (lock) {
            return inFlight;
        }
    }

    /** Records taken whose outcome is not yet durable (calls running, outcomes being written). */
    public int unresolved() {
        return unresolved.get();
    }

    /** Forgets buffered records matching {@code filter} (their partitions were revoked); running calls go on. */
    public int drop(Predicate<Pending> filter) {
        synchronized (lock) {
            return queue.removeIf(filter);
        }
    }

    /** Stops taking work: buffered records are dropped (their offsets stay uncommitted). */
    public void close() {
        synchronized (lock) {
            closed = true;
            queue.removeIf(p -> true);
        }
    }

    /**
     * Gives up on the calls still running (shutdown grace over): their outcomes are not
     * published and their records not reported durable, so their offsets are not committed and
     * the next owner of the partition runs them.
     */
    public int handBack() {
        int n = 0;
        for (Running r : running) {
            r.handedBack = true;
            CompletableFuture<Completion> call = r.call;
            if (call != null) {
                call.cancel(true);
            }
            n++;
        }
        return n;
    }

    /** Starts as many calls as slots, buffers and endpoints allow. Safe to call from any thread. */
    public void pump() {
        if (wip.getAndIncrement() != 0) {
            return;
        }
        int missed = 1;
        do {
            while (true) {
                FairQueue.Admitted<Pending, Admission> next;
                synchronized (lock) {
                    if (closed || inFlight >= maxInFlight) {
                        break;
                    }
                    next = queue.pollNext(this::admit);
                    if (next == null) {
                        break;
                    }
                    inFlight++;
                }
                unresolved.incrementAndGet();
                try {
                    start(next);
                } catch (RuntimeException e) {
                    LOG.error("could not start {}; its record will run again after a restart", next.item().offset(), e);
                    slotFreed();
                    resolve(next.item(), CompletableFuture.failedFuture(e), false);
                }
            }
            missed = wip.addAndGet(-missed);
        } while (missed != 0);
    }

    private Admission admit(Pending p) {
        LlmRequest r = p.request().getRequest();
        Instant deadline = r.getDeadline();
        if (deadline != null && deadline.isBefore(clock.instant())) {
            return new Admission(Kind.EXPIRED, null, null);
        }
        Selection s = endpoints.select(r);
        if (s instanceof Selection.Acquired a) {
            return new Admission(Kind.CALL, a.lease(), null);
        }
        if (s instanceof Selection.Unroutable u) {
            return new Admission(Kind.UNROUTABLE, null, u.why());
        }
        return null;
    }

    private void start(FairQueue.Admitted<Pending, Admission> next) {
        Pending p = next.item();
        QueuedRequest q = p.request();
        Instant now = clock.instant();
        metrics.queueWait(next.level(), Duration.between(q.getReleasedAt(), now), Duration.between(q.getAcceptedAt(), now));
        Admission a = next.admission();
        switch (a.kind()) {
            case EXPIRED: {
                metrics.request("expired");
                CompletableFuture<Void> done = CompletableFuture.allOf(outcomes.started(p, q, now, null),
                        outcomes.expired(p, q, now, now));
                slotFreed();
                resolve(p, done, false);
                return;
            }
            case UNROUTABLE: {
                ModelCallException e = new ModelCallException("no_endpoint", a.why(), null, false, null, null, null);
                metrics.request("failed");
                metrics.deadLetter(e.type());
                CompletableFuture<Void> done = CompletableFuture.allOf(outcomes.started(p, q, now, null),
                        outcomes.failed(p, q, e, "not retryable", now, now));
                slotFreed();
                resolve(p, done, false);
                return;
            }
            default:
                call(p, a.lease(), now);
        }
    }

    private void call(Pending p, Lease lease, Instant startedAt) {
        QueuedRequest q = p.request();
        CompletableFuture<Void> started = outcomes.started(p, q, startedAt, lease.endpoint());
        Running run = new Running(p);
        running.add(run);
        CompletableFuture<Completion> call;
        try {
            call = lease.call(new ModelCall(q.getRequest(), lease.model(), q.getAttempt()));
        } catch (RuntimeException e) {
            call = CompletableFuture.failedFuture(e);
        }
        metrics.overhead(System.nanoTime() - p.receivedNanos());
        run.call = call;
        CompletableFuture<Void> outcome = call.handle((c, error) -> {
            running.remove(run);
            try {
                return outcome(run, lease, c, error, startedAt);
            } finally {
                slotFreed();
            }
        }).thenCompose(f -> f);
        resolve(p, CompletableFuture.allOf(started, outcome), run.handedBack);
        if (run.handedBack && !call.isDone()) {
            call.cancel(true);
        }
    }

    private CompletableFuture<Void> outcome(Running run, Lease lease, Completion c, Throwable error, Instant startedAt) {
        if (run.handedBack) {
            return CompletableFuture.failedFuture(new CancellationException("handed back at shutdown"));
        }
        Pending p = run.pending;
        QueuedRequest q = p.request();
        Instant end = clock.instant();
        if (error == null) {
            metrics.request("completed");
            return outcomes.completed(p, q, c, startedAt, end);
        }
        ModelCallException e = unwrap(error, lease.endpoint());
        RetryPolicy.Decision d = retry.decide(e, q.getAttempt(), end);
        if (d instanceof RetryPolicy.Retry r) {
            metrics.request("retry_scheduled");
            metrics.retry(e.type());
            return outcomes.retryScheduled(p, q, e, r.notBefore(), end);
        }
        metrics.request("failed");
        metrics.deadLetter(e.type());
        return outcomes.failed(p, q, e, ((RetryPolicy.GiveUp) d).why(), startedAt, end);
    }

    private static ModelCallException unwrap(Throwable error, String endpoint) {
        Throwable t = error;
        while (t instanceof CompletionException && t.getCause() != null) {
            t = t.getCause();
        }
        if (t instanceof ModelCallException m) {
            return m.endpoint() == null ? m.at(endpoint) : m;
        }
        return new ModelCallException("internal_error", String.valueOf(t), null, false, null, endpoint, t);
    }

    private void resolve(Pending p, CompletableFuture<Void> done, boolean quiet) {
        done.whenComplete((v, e) -> {
            boolean durable = e == null;
            Throwable cause = durable ? null : unwrapAll(e);
            if (cause instanceof StaleOutcome) {
                metrics.request("superseded");
                LOG.debug("outcome of {}@{} not written: {}", p.tp(), p.offset(), cause.getMessage());
            } else if (!durable && !(cause instanceof CancellationException) && !quiet) {
                metrics.request("not_durable");
                LOG.error("outcome of {}@{} (request {}) is not durable; it will run again after a restart",
                        p.tp(), p.offset(), p.request().getRequest().getId(), e);
            }
            try {
                finisher.finished(p, durable);
            } finally {
                unresolved.decrementAndGet();
            }
        });
    }

    private static Throwable unwrapAll(Throwable e) {
        Throwable t = e;
        while (t instanceof CompletionException && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    private void slotFreed() {
        synchronized (lock) {
            inFlight--;
        }
        pump();
    }
}
