package llmq.router.schedule;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.ToDoubleFunction;
import llmq.avro.ErrorInfo;
import llmq.avro.EventType;
import llmq.avro.LlmRequest;
import llmq.avro.LlmResult;
import llmq.avro.Priority;
import llmq.avro.Promotion;
import llmq.avro.QueuedRequest;
import llmq.avro.RequestEvent;
import llmq.avro.Tenant;
import llmq.avro.ResultStatus;
import llmq.avro.router.RouterEntry;
import llmq.avro.router.RouterState;
import llmq.router.topology.Routed;
import llmq.router.topology.SchedulerInput;
import llmq.router.view.RouterMetrics;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The scheduler of one stream task (one partition of request ids): parks admitted requests,
 * releases them into the shallow worker queues by level, tenant share and arrival, promotes
 * requests that waited too long, delays requests until their {@code not_before} (or retry time),
 * expires requests past their deadline and cancels requests that have not been released.
 *
 * <p><b>State.</b> {@value #REQUESTS_STORE} holds every admitted request until it is final —
 * the only per-request store, so each state change is one changelogged write. The ordering
 * structures (per level and tenant arrival order, aging, deadline and delay indexes, the
 * released-not-started count per level) are kept in memory and rebuilt from that store when
 * the task starts. {@value #VTC_STORE} keeps the Virtual Token Counters.
 *
 * <p><b>Depth.</b> Per level, {@code released − started} requests of this partition sit in
 * {@code llm.queue.<level>}; the scheduler keeps that at most the level's target depth, so the
 * backlog stays here, where it can be reordered. A request that finds its level with room and no
 * backlog is released in the same {@code process()} call.
 */
public final class SchedulerProcessor implements Processor<String, SchedulerInput, String, Routed> {

    /** Request id → {@link RouterEntry}, until the request is final. */
    public static final String REQUESTS_STORE = "router-requests";
    /** {@code <level>|<tenant>} → virtual token counter; {@code <level>|} → the level's virtual time. */
    public static final String VTC_STORE = "router-vtc";

    private static final Logger LOG = LoggerFactory.getLogger(SchedulerProcessor.class);
    private static final Duration CANCEL_MARKER_TTL = Duration.ofHours(1);

    /** A point in time and a request id, ordered by time then id. */
    private record Timed(long at, String id) implements Comparable<Timed> {
        @Override
        public int compareTo(Timed o) {
            int c = Long.compare(at, o.at);
            return c != 0 ? c : id.compareTo(o.id);
        }
    }

    /** Per level: each tenant's parked keys in arrival order, and the aging index. */
    private static final class Level {
        final Map<String, TreeSet<Bytes>> byTenant = new HashMap<>();
        final TreeSet<Timed> aging = new TreeSet<>();
        final VirtualTokenCounter vtc;
        int parked;
        int delayed;
        int releasedNotStarted;

        Level(ToDoubleFunction<String> weight) {
            vtc = new VirtualTokenCounter(weight);
        }
    }

    private final Map<Priority, Integer> depth;
    private final Map<Priority, Duration> maxWait;
    private final boolean aging;
    private final Duration tick;
    private final CostEstimator cost;
    private final Map<String, Double> configuredWeights;
    private final String tenantsStore;
    private final RouterMetrics metrics;
    private ToDoubleFunction<String> weight;

    private ProcessorContext<String, Routed> context;
    private KeyValueStore<String, RouterEntry> requests;
    private KeyValueStore<String, Long> vtcStore;
    private final Map<Priority, Level> levels = new EnumMap<>(Priority.class);
    private final TreeSet<Timed> delayed = new TreeSet<>();
    private final TreeSet<Timed> deadlines = new TreeSet<>();
    private final TreeSet<Timed> cancelMarkers = new TreeSet<>();
    private RouterMetrics.TaskDepths depths;
    private String taskName;

    /**
     * @param depth   target released-not-started count per level (per partition)
     * @param maxWait how long a request may wait at a level before it is promoted
     * @param aging   whether to promote at all
     * @param tick    wall-clock punctuation interval
     * @param weights configured tenant weights; others come from the tenant table, else 1
     * @param tenantsStore the global tenant store
     */
    public SchedulerProcessor(Map<Priority, Integer> depth, Map<Priority, Duration> maxWait, boolean aging,
                              Duration tick, CostEstimator cost, Map<String, Double> weights, String tenantsStore,
                              RouterMetrics metrics) {
        this.depth = depth;
        this.maxWait = maxWait;
        this.aging = aging;
        this.tick = tick;
        this.cost = cost;
        this.configuredWeights = weights;
        this.tenantsStore = tenantsStore;
        this.metrics = metrics;
    }

    @Override
    public void init(ProcessorContext<String, Routed> context) {
        this.context = context;
        this.requests = context.getStateStore(REQUESTS_STORE);
        this.vtcStore = context.getStateStore(VTC_STORE);
        this.taskName = context.taskId().toString();
        this.depths = metrics.register(taskName);
        ReadOnlyKeyValueStore<String, Tenant> tenants = context.getStateStore(tenantsStore);
        this.weight = tenant -> {
            Double w = configuredWeights.get(tenant);
            if (w != null) {
                return w;
            }
            Tenant t = tenants.get(tenant);
            return t != null && t.getWeight() > 0 ? t.getWeight() : 1.0;
        };
        for (Priority p : Priority.values()) {
            levels.put(p, new Level(weight));
        }
        rebuild();
        context.schedule(tick, PunctuationType.WALL_CLOCK_TIME, this::punctuate);
    }

    /** Rebuilds the in-memory structures from the stores (task start, restore after a crash). */
    private void rebuild() {
        try (KeyValueIterator<String, Long> it = vtcStore.all()) {
            while (it.hasNext()) {
                KeyValue<String, Long> kv = it.next();
                int bar = kv.key.indexOf('|');
                Level level = levels.get(Priority.values()[Integer.parseInt(kv.key.substring(0, bar))]);
                String tenant = kv.key.substring(bar + 1);
                if (tenant.isEmpty()) {
                    level.vtc.restoreVirtualTime(kv.value);
                } else {
                    level.vtc.restore(tenant, kv.value);
                }
            }
        }
        int n = 0;
        try (KeyValueIterator<String, RouterEntry> it = requests.all()) {
            while (it.hasNext()) {
                KeyValue<String, RouterEntry> kv = it.next();
                RouterEntry e = kv.value;
                n++;
                switch (e.getState()) {
                    case PARKED -> index(e);
                    case DELAYED -> {
                        delayed.add(new Timed(e.getEligibleAt().toEpochMilli(), kv.key));
                        levels.get(e.getLevel()).delayed++;
                        indexDeadline(e);
                    }
                    case RELEASED -> levels.get(e.getLevel()).releasedNotStarted++;
                    case CANCELLED_EARLY -> cancelMarkers.add(new Timed(e.getUpdatedAt().toEpochMilli(), kv.key));
                    default -> {
                        // STARTED: nothing to index until it finishes or is retried
                    }
                }
            }
        }
        publishDepths();
        if (n > 0) {
            LOG.info("scheduler {} restored {} requests", taskName, n);
        }
    }

    @Override
    public void process(Record<String, SchedulerInput> record) {
        long now = context.currentSystemTimeMs();
        SchedulerInput in = record.value();
        if (in instanceof SchedulerInput.Admitted a) {
            admit(a.queued(), now);
        } else if (in instanceof SchedulerInput.Event ev) {
            onEvent(ev.event(), now);
        }
        publishDepths();
    }

    // ---------------------------------------------------------------- admission

    private void admit(QueuedRequest q, long now) {
        String id = q.getRequest().getId();
        RouterEntry existing = requests.get(id);
        if (existing != null) {
            if (existing.getState() == RouterState.CANCELLED_EARLY) {
                requests.delete(id);
                cancelMarkers.remove(new Timed(existing.getUpdatedAt().toEpochMilli(), id));
                finish(q, q.getPriority(), EventType.CANCELLED, ResultStatus.CANCELLED, "cancelled",
                        "cancelled before it was scheduled", now);
                metrics.cancelled();
            }
            // otherwise the same request again (a replay within the dedup window): already scheduled
            return;
        }
        LlmRequest r = q.getRequest();
        if (r.getDeadline() != null && r.getDeadline().toEpochMilli() <= now) {
            finish(q, q.getPriority(), EventType.EXPIRED, ResultStatus.EXPIRED, "expired",
                    "deadline passed before the request started", now);
            metrics.expired(q.getPriority());
            return;
        }
        RouterEntry e = RouterEntry.newBuilder().setQueued(q).setState(RouterState.PARKED).setLevel(q.getPriority())
                .setLevelSince(Instant.ofEpochMilli(now)).setUpdatedAt(Instant.ofEpochMilli(now)).build();
        if (r.getNotBefore() != null && r.getNotBefore().toEpochMilli() > now) {
            delay(e, r.getNotBefore().toEpochMilli(), now);
            event(q, EventType.PARKED, q.getPriority(), "not_before " + r.getNotBefore(), now);
            return;
        }
        becomeEligible(e, now, true);
    }

    /** An eligible request: released at once if its level has room and no backlog, else parked. */
    private void becomeEligible(RouterEntry e, long now, boolean announceParking) {
        Level level = levels.get(e.getLevel());
        e.setLevelSince(Instant.ofEpochMilli(now));
        if (level.parked == 0 && room(e.getLevel()) > 0) {
            // lift an idle tenant to the level's virtual time before its charge (release persists it)
            level.vtc.addBacklog(tenant(e));
            level.vtc.removeBacklog(tenant(e));
            release(e, now);
            return;
        }
        park(e, now);
        if (announceParking) {
            event(e.getQueued(), EventType.PARKED, e.getLevel(), null, now);
        }
        topUp(e.getLevel(), now);
    }

    private void park(RouterEntry e, long now) {
        e.setState(RouterState.PARKED);
        e.setUpdatedAt(Instant.ofEpochMilli(now));
        requests.put(id(e), e);
        index(e);
        if (levels.get(e.getLevel()).vtc.backlog(tenant(e)) == 1) {
            persistCounter(e.getLevel(), tenant(e));
        }
    }

    /** Adds a PARKED entry to the in-memory ordering structures. */
    private void index(RouterEntry e) {
        Level level = levels.get(e.getLevel());
        level.byTenant.computeIfAbsent(tenant(e), t -> new TreeSet<>()).add(key(e));
        level.vtc.addBacklog(tenant(e));
        level.parked++;
        if (aging && e.getLevel() != Priority.REALTIME) {
            level.aging.add(new Timed(e.getLevelSince().toEpochMilli() + maxWait.get(e.getLevel()).toMillis(), id(e)));
        }
        indexDeadline(e);
    }

    private void unindex(RouterEntry e) {
        Level level = levels.get(e.getLevel());
        TreeSet<Bytes> keys = level.byTenant.get(tenant(e));
        if (keys != null && keys.remove(key(e))) {
            if (keys.isEmpty()) {
                level.byTenant.remove(tenant(e));
            }
            level.vtc.removeBacklog(tenant(e));
            level.parked--;
        }
        level.aging.remove(new Timed(e.getLevelSince().toEpochMilli() + maxWait.get(e.getLevel()).toMillis(), id(e)));
        unindexDeadline(e);
    }

    private void indexDeadline(RouterEntry e) {
        Instant d = e.getQueued().getRequest().getDeadline();
        if (d != null) {
            deadlines.add(new Timed(d.toEpochMilli(), id(e)));
        }
    }

    private void unindexDeadline(RouterEntry e) {
        Instant d = e.getQueued().getRequest().getDeadline();
        if (d != null) {
            deadlines.remove(new Timed(d.toEpochMilli(), id(e)));
        }
    }

    private void delay(RouterEntry e, long until, long now) {
        e.setState(RouterState.DELAYED);
        e.setEligibleAt(Instant.ofEpochMilli(until));
        e.setUpdatedAt(Instant.ofEpochMilli(now));
        requests.put(id(e), e);
        delayed.add(new Timed(until, id(e)));
        levels.get(e.getLevel()).delayed++;
        indexDeadline(e);
    }

    private void undelay(RouterEntry e) {
        delayed.remove(new Timed(e.getEligibleAt().toEpochMilli(), id(e)));
        levels.get(e.getLevel()).delayed--;
        unindexDeadline(e);
    }

    // ---------------------------------------------------------------- release

    private int room(Priority p) {
        return depth.get(p) - levels.get(p).releasedNotStarted;
    }

    /** Releases parked requests at {@code p} while its queue has room: least-served tenant first, then arrival. */
    private void topUp(Priority p, long now) {
        Level level = levels.get(p);
        while (level.parked > 0 && room(p) > 0) {
            String tenant = level.vtc.next();
            TreeSet<Bytes> keys = level.byTenant.get(tenant);
            Bytes head = keys.first();
            String id = requestId(head, tenant);
            RouterEntry e = requests.get(id);
            if (e == null || e.getState() != RouterState.PARKED) {
                // cannot happen while memory mirrors the store; repair rather than loop forever
                LOG.error("scheduler {}: parked index names {} but the store has {}", taskName, id, e);
                keys.remove(head);
                if (keys.isEmpty()) {
                    level.byTenant.remove(tenant);
                }
                level.vtc.removeBacklog(tenant);
                level.parked--;
                continue;
            }
            unindex(e);
            release(e, now);
        }
    }

    private void release(RouterEntry e, long now) {
        Priority p = e.getLevel();
        Level level = levels.get(p);
        QueuedRequest q = QueuedRequest.newBuilder(e.getQueued()).setPriority(p).setReleasedAt(Instant.ofEpochMilli(now))
                .setEstimatedService(cost.estimate(e.getQueued().getRequest())).build();
        long units = level.vtc.units(tenant(e), q.getEstimatedService());
        level.vtc.charge(tenant(e), units);
        persistCounter(p, tenant(e));
        persistVirtualTime(p);
        e.setQueued(q);
        e.setState(RouterState.RELEASED);
        e.setCharged(units);
        e.setEligibleAt(null);
        e.setUpdatedAt(Instant.ofEpochMilli(now));
        requests.put(id(e), e);
        level.releasedNotStarted++;
        context.forward(new Record<>(id(e), new Routed.Release(q), now));
        event(q, EventType.RELEASED, p, null, now);
        metrics.released(p, q.getAttempt() == 1 ? Duration.ofMillis(now - q.getAcceptedAt().toEpochMilli()) : null, now);
    }

    // ---------------------------------------------------------------- events from workers and ingest

    private void onEvent(RequestEvent ev, long now) {
        switch (ev.getType()) {
            case STARTED -> started(ev, now);
            case RETRY_SCHEDULED -> retry(ev, now);
            case COMPLETED -> completed(ev, now);
            case FAILED, DEAD_LETTERED, EXPIRED -> dropFinished(ev, now);
            case CANCEL_REQUESTED -> cancel(ev, now);
            default -> {
                // the router's own events (RELEASED, PARKED, ...) and ingest's ACCEPTED: nothing to do
            }
        }
    }

    private void started(RequestEvent ev, long now) {
        RouterEntry e = requests.get(ev.getRequestId());
        if (e == null || e.getState() != RouterState.RELEASED) {
            return; // a duplicate STARTED (a worker re-ran the call) or one for a finished request
        }
        e.setState(RouterState.STARTED);
        e.setUpdatedAt(Instant.ofEpochMilli(now));
        requests.put(id(e), e);
        levels.get(e.getLevel()).releasedNotStarted--;
        topUp(e.getLevel(), now);
    }

    /** The worker could not finish this attempt and frees its slot: park again until the retry time. */
    private void retry(RequestEvent ev, long now) {
        RouterEntry e = requests.get(ev.getRequestId());
        if (e == null || (e.getState() != RouterState.RELEASED && e.getState() != RouterState.STARTED)) {
            return;
        }
        QueuedRequest q = e.getQueued();
        int failed = ev.getAttempt() != null ? ev.getAttempt() : q.getAttempt();
        if (failed < q.getAttempt()) {
            return; // news about an older attempt
        }
        boolean wasQueued = e.getState() == RouterState.RELEASED;
        Priority p = e.getLevel();
        refund(e);
        if (wasQueued) {
            levels.get(p).releasedNotStarted--;
        }
        e.setQueued(QueuedRequest.newBuilder(q).setAttempt(failed + 1).build());
        long until = ev.getNotBefore() != null ? ev.getNotBefore().toEpochMilli() : now;
        if (until > now) {
            delay(e, until, now);
        } else {
            becomeEligible(e, now, false);
        }
        if (wasQueued) {
            topUp(p, now);
        }
    }

    private void completed(RequestEvent ev, long now) {
        RouterEntry e = requests.get(ev.getRequestId());
        if (e == null || e.getQueued() == null) {
            return;
        }
        Priority p = e.getLevel();
        if (ev.getUsage() != null && (e.getState() == RouterState.RELEASED || e.getState() == RouterState.STARTED)) {
            Level level = levels.get(p);
            long actual = level.vtc.units(tenant(e), CostEstimator.actual(ev.getUsage().getPromptTokens(),
                    ev.getUsage().getCompletionTokens()));
            level.vtc.charge(tenant(e), actual - e.getCharged());
            persistCounter(p, tenant(e));
        }
        forget(e, now);
    }

    private void dropFinished(RequestEvent ev, long now) {
        RouterEntry e = requests.get(ev.getRequestId());
        if (e == null || e.getQueued() == null) {
            return;
        }
        if (e.getState() == RouterState.RELEASED || e.getState() == RouterState.STARTED) {
            refund(e);
        }
        forget(e, now);
    }

    /** Removes a finished request from every structure and the store. */
    private void forget(RouterEntry e, long now) {
        Priority p = e.getLevel();
        switch (e.getState()) {
            case PARKED -> unindex(e);
            case DELAYED -> undelay(e);
            case RELEASED -> levels.get(p).releasedNotStarted--;
            default -> {
            }
        }
        requests.delete(id(e));
        if (e.getState() == RouterState.RELEASED || e.getState() == RouterState.PARKED) {
            topUp(p, now);
        }
    }

    private void refund(RouterEntry e) {
        if (e.getCharged() != 0) {
            levels.get(e.getLevel()).vtc.charge(tenant(e), -e.getCharged());
            persistCounter(e.getLevel(), tenant(e));
            e.setCharged(0L);
        }
    }

    private void cancel(RequestEvent ev, long now) {
        String id = ev.getRequestId();
        RouterEntry e = requests.get(id);
        if (e == null) {
            // the request has not reached the scheduler yet: remember the cancel for a while
            requests.put(id, RouterEntry.newBuilder().setQueued(null).setState(RouterState.CANCELLED_EARLY)
                    .setLevel(ev.getPriority() != null ? ev.getPriority() : Priority.NORMAL)
                    .setLevelSince(Instant.ofEpochMilli(now)).setUpdatedAt(Instant.ofEpochMilli(now)).build());
            cancelMarkers.add(new Timed(now, id));
            return;
        }
        if (e.getQueued() == null || !tenant(e).equals(ev.getTenantId())) {
            return; // a second cancel before arrival, or not this tenant's request
        }
        switch (e.getState()) {
            case PARKED, DELAYED -> {
                forget(e, now);
                finish(e.getQueued(), e.getLevel(), EventType.CANCELLED, ResultStatus.CANCELLED, "cancelled",
                        "cancelled by the submitter", now);
                metrics.cancelled();
            }
            case RELEASED -> event(e.getQueued(), EventType.CANCEL_REJECTED, e.getLevel(),
                    "already released to a worker queue", now);
            case STARTED -> event(e.getQueued(), EventType.CANCEL_REJECTED, e.getLevel(), "already started", now);
            default -> {
            }
        }
    }

    // ---------------------------------------------------------------- time

    private void punctuate(long now) {
        while (!delayed.isEmpty() && delayed.first().at() <= now) {
            Timed t = delayed.first();
            RouterEntry e = requests.get(t.id());
            delayed.remove(t);
            if (e == null || e.getState() != RouterState.DELAYED) {
                continue;
            }
            levels.get(e.getLevel()).delayed--;
            unindexDeadline(e);
            Instant deadline = e.getQueued().getRequest().getDeadline();
            if (deadline != null && deadline.toEpochMilli() <= now) {
                expire(e, now);
                continue;
            }
            e.setEligibleAt(null);
            becomeEligible(e, now, false);
        }
        while (!deadlines.isEmpty() && deadlines.first().at() <= now) {
            RouterEntry e = requests.get(deadlines.first().id());
            deadlines.remove(deadlines.first());
            if (e != null && (e.getState() == RouterState.PARKED || e.getState() == RouterState.DELAYED)) {
                expire(e, now);
            }
        }
        if (aging) {
            for (Priority p : new Priority[] {Priority.LOW, Priority.NORMAL, Priority.HIGH}) {
                Level level = levels.get(p);
                while (!level.aging.isEmpty() && level.aging.first().at() <= now) {
                    Timed t = level.aging.first();
                    RouterEntry e = requests.get(t.id());
                    if (e == null || e.getState() != RouterState.PARKED || e.getLevel() != p) {
                        level.aging.remove(t);
                        continue;
                    }
                    promote(e, now);
                }
            }
        }
        for (Priority p : Priority.values()) {
            topUp(p, now);
        }
        while (!cancelMarkers.isEmpty() && cancelMarkers.first().at() + CANCEL_MARKER_TTL.toMillis() <= now) {
            Timed t = cancelMarkers.pollFirst();
            RouterEntry e = requests.get(t.id());
            if (e != null && e.getState() == RouterState.CANCELLED_EARLY) {
                requests.delete(t.id());
            }
        }
        publishDepths();
    }

    /** One level up, keeping its place by original arrival among the backlog there. */
    private void promote(RouterEntry e, long now) {
        Priority from = e.getLevel();
        Priority to = Priority.values()[from.ordinal() - 1];
        unindex(e);
        List<Promotion> promotions = new ArrayList<>(e.getQueued().getPromotions());
        promotions.add(new Promotion(from, to, Instant.ofEpochMilli(now)));
        e.setQueued(QueuedRequest.newBuilder(e.getQueued()).setPromotions(promotions).build());
        e.setLevel(to);
        e.setLevelSince(Instant.ofEpochMilli(now));
        park(e, now);
        event(e.getQueued(), EventType.PROMOTED, to, TopicCatalogLevels.name(from) + " → " + TopicCatalogLevels.name(to), now);
        metrics.promoted(from, to);
    }

    private void expire(RouterEntry e, long now) {
        switch (e.getState()) {
            case PARKED -> unindex(e);
            case DELAYED -> {
                if (delayed.remove(new Timed(e.getEligibleAt().toEpochMilli(), id(e)))) {
                    levels.get(e.getLevel()).delayed--;
                }
                unindexDeadline(e);
            }
            default -> {
            }
        }
        requests.delete(id(e));
        finish(e.getQueued(), e.getLevel(), EventType.EXPIRED, ResultStatus.EXPIRED, "expired",
                "deadline passed before the request started", now);
        metrics.expired(e.getLevel());
    }

    // ---------------------------------------------------------------- output

    private void finish(QueuedRequest q, Priority level, EventType type, ResultStatus status, String errorType,
                        String message, long now) {
        LlmRequest r = q.getRequest();
        event(q, type, level, message, now);
        LlmResult result = LlmResult.newBuilder()
                .setRequestId(r.getId()).setTenantId(r.getTenantId()).setStatus(status).setModel(r.getModel())
                .setError(new ErrorInfo(errorType, message, null, false))
                .setAttempts(Math.max(0, q.getAttempt() - 1)).setPriority(level)
                .setSubmittedAt(r.getSubmittedAt()).setCompletedAt(Instant.ofEpochMilli(now))
                .build();
        context.forward(new Record<>(r.getId(), new Routed.Result(result), now));
    }

    private void event(QueuedRequest q, EventType type, Priority level, String reason, long now) {
        RequestEvent e = RequestEvent.newBuilder()
                .setRequestId(q.getRequest().getId()).setTenantId(q.getRequest().getTenantId())
                .setType(type).setAt(Instant.ofEpochMilli(now)).setPriority(level).setAttempt(q.getAttempt())
                .setReason(reason)
                .build();
        context.forward(new Record<>(e.getRequestId(), new Routed.Event(e), now));
    }

    private void persistCounter(Priority p, String tenant) {
        vtcStore.put(p.ordinal() + "|" + tenant, levels.get(p).vtc.counter(tenant));
    }

    private void persistVirtualTime(Priority p) {
        vtcStore.put(p.ordinal() + "|", levels.get(p).vtc.virtualTime());
    }

    private void publishDepths() {
        for (Priority p : Priority.values()) {
            Level level = levels.get(p);
            depths.parked(p, level.parked);
            depths.delayed(p, level.delayed);
            depths.queued(p, level.releasedNotStarted);
        }
    }

    private static String id(RouterEntry e) {
        return e.getQueued().getRequest().getId();
    }

    private static String tenant(RouterEntry e) {
        return e.getQueued().getRequest().getTenantId();
    }

    private static Bytes key(RouterEntry e) {
        return ParkedKey.of(e.getLevel(), tenant(e), e.getQueued().getAcceptedAt(), id(e));
    }

    private static String requestId(Bytes key, String tenant) {
        int offset = 1 + 2 + tenant.getBytes(java.nio.charset.StandardCharsets.UTF_8).length + 8;
        return new String(key.get(), offset, key.get().length - offset, java.nio.charset.StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        metrics.unregister(taskName);
    }

    /** Level names as they appear in topic names and events. */
    private static final class TopicCatalogLevels {
        static String name(Priority p) {
            return llmq.topics.catalog.TopicCatalog.level(p);
        }
    }
}
