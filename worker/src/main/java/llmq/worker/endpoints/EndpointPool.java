package llmq.worker.endpoints;

import io.github.bucket4j.Bucket;
import io.github.resilience4j.bulkhead.Bulkhead;
import io.github.resilience4j.bulkhead.BulkheadConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import llmq.avro.LlmRequest;
import llmq.worker.metrics.WorkerMetrics;
import llmq.worker.model.ChatCompletions;
import llmq.worker.model.Completion;
import llmq.worker.model.HttpChatCompletions;
import llmq.worker.model.ModelCall;
import llmq.worker.model.ModelCallException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The model endpoints of one worker and the choice among them. For each request it resolves
 * the model (alias, endpoints, ordered fallbacks), orders that model's endpoints by the
 * balancing strategy (or by conversation affinity), and reserves the first that can take the
 * call: its circuit breaker (Resilience4j) must permit it, its bulkhead (Resilience4j, the
 * endpoint's {@code max-concurrent}) must have a free permit, and its RPM and TPM token
 * buckets (bucket4j) must hold the tokens. A model whose endpoints are all at capacity makes
 * the caller wait ({@link Selection.Busy}); a model whose endpoints are all unavailable (open
 * circuit, failed health probe) falls back to the next fallback model, and waits when there is
 * none. Thread-safe: choices are serialized; calls run concurrently.
 */
public final class EndpointPool implements Endpoints {

    private static final Logger LOG = LoggerFactory.getLogger(EndpointPool.class);

    private final PoolConfig config;
    private final WorkerMetrics metrics;
    private final List<Endpoint> endpoints = new ArrayList<>();
    private final Map<String, Endpoint> byName = new LinkedHashMap<>();
    private final Map<String, List<Route>> routes = new ConcurrentHashMap<>();
    private long rotation;

    /** A model's endpoints, resolved once per requested model name. */
    private record Route(String model, String upstream, List<Endpoint> candidates) {
    }

    private enum Refusal { UNAVAILABLE, BUSY }

    /**
     * @param clients builds the HTTP client of each endpoint (tests pass fakes)
     */
    public EndpointPool(PoolConfig config, Function<EndpointConfig, ChatCompletions> clients, WorkerMetrics metrics) {
        this.config = config;
        this.metrics = metrics;
        CircuitConfig c = config.circuit();
        CircuitBreakerConfig breakerConfig = CircuitBreakerConfig.custom()
                .failureRateThreshold(c.failureRate())
                .slidingWindow(c.window(), Math.min(c.minimumCalls(), c.window()),
                        CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
                .waitDurationInOpenState(c.openDuration())
                .permittedNumberOfCallsInHalfOpenState(c.halfOpenCalls())
                .writableStackTraceEnabled(false)
                .build();
        for (EndpointConfig ec : config.endpoints()) {
            Endpoint e = new Endpoint(ec, clients.apply(ec), CircuitBreaker.of(ec.name(), breakerConfig));
            e.breaker.getEventPublisher().onStateTransition(t ->
                    LOG.warn("endpoint {}: circuit {}", ec.name(), t.getStateTransition()));
            endpoints.add(e);
            byName.put(ec.name(), e);
            Map<String, String> tags = Map.of("endpoint", ec.name());
            metrics.gauge("llmq_worker_endpoint_in_flight", "calls in flight to the endpoint", tags, e.outstanding::get);
            metrics.gauge("llmq_worker_endpoint_circuit_state", "0 closed, 1 half open, 2 open, 3 other", tags,
                    () -> stateCode(e.breaker.getState()));
            metrics.gauge("llmq_worker_endpoint_healthy", "1 when the last active probe succeeded", tags,
                    () -> e.healthy ? 1 : 0);
        }
    }

    public PoolConfig config() {
        return config;
    }

    /** Names of the endpoints, in configuration order. */
    public List<String> endpointNames() {
        return List.copyOf(byName.keySet());
    }

    /** The circuit state of an endpoint. */
    public CircuitBreaker.State circuitState(String endpoint) {
        return endpoint(endpoint).breaker.getState();
    }

    /** Calls in flight to an endpoint. */
    public int outstanding(String endpoint) {
        return endpoint(endpoint).outstanding.get();
    }

    /** Whether an endpoint's last active probe succeeded (true until the first probe). */
    public boolean healthy(String endpoint) {
        return endpoint(endpoint).healthy;
    }

    /** Records the result of an active health probe. */
    public void probed(String endpoint, boolean up, String detail) {
        Endpoint e = endpoint(endpoint);
        if (e.healthy != up) {
            if (up) {
                LOG.info("endpoint {} passes its health probe again", endpoint);
            } else {
                LOG.warn("endpoint {} fails its health probe: {}", endpoint, detail);
            }
        }
        e.healthy = up;
    }

    private Endpoint endpoint(String name) {
        Endpoint e = byName.get(name);
        if (e == null) {
            throw new IllegalArgumentException("no endpoint " + name);
        }
        return e;
    }

    @Override
    public Selection select(LlmRequest request) {
        List<Route> chain = routes.computeIfAbsent(request.getModel(), m -> resolve(m, new HashSet<>()));
        if (chain.stream().allMatch(r -> r.candidates().isEmpty())) {
            return new Selection.Unroutable("no endpoint serves model " + request.getModel());
        }
        int tokens = estimatedTokens(request);
        String conversation = config.affinity() ? request.getConversationId() : null;
        synchronized (this) {
            for (Route route : chain) {
                if (route.candidates().isEmpty()) {
                    continue;
                }
                boolean busy = false;
                for (Endpoint e : order(route.candidates(), conversation)) {
                    Object r = e.tryAcquire(tokens);
                    if (r instanceof EndpointLease lease) {
                        chosen(route.candidates(), e);
                        return new Selection.Acquired(lease.forModel(route.upstream()));
                    }
                    if (r == Refusal.BUSY) {
                        busy = true;
                        if (conversation != null) {
                            // the conversation's endpoint is up but full: wait for it rather than move
                            break;
                        }
                    }
                }
                if (busy) {
                    return new Selection.Busy("endpoints of " + route.model() + " are at their limits");
                }
            }
        }
        return new Selection.Busy("no endpoint of " + request.getModel() + " (or its fallbacks) is available");
    }

    private List<Route> resolve(String model, Set<String> seen) {
        seen.add(model);
        List<Route> out = new ArrayList<>();
        ModelRoute r = config.models().get(model);
        String upstream = r == null ? model : r.upstream();
        List<Endpoint> candidates = new ArrayList<>();
        if (r != null && !r.endpoints().isEmpty()) {
            r.endpoints().forEach(n -> candidates.add(byName.get(n)));
        } else {
            endpoints.stream().filter(e -> e.config.serves(upstream)).forEach(candidates::add);
        }
        out.add(new Route(model, upstream, List.copyOf(candidates)));
        if (r != null) {
            for (String fallback : r.fallbacks()) {
                if (!seen.contains(fallback)) {
                    out.addAll(resolve(fallback, seen));
                }
            }
        }
        return out;
    }

    /** The order in which to try a route's endpoints; endpoints failing their health probe are left out. */
    private List<Endpoint> order(List<Endpoint> candidates, String conversation) {
        List<Endpoint> healthy = new ArrayList<>();
        for (Endpoint e : candidates) {
            if (e.healthy) {
                healthy.add(e);
            }
        }
        if (healthy.size() <= 1) {
            return healthy;
        }
        if (conversation != null) {
            // rendezvous hashing: the same conversation ranks the endpoints the same way while they stay in the pool
            healthy.sort(Comparator.comparingDouble((Endpoint e) -> -affinityScore(conversation, e)));
            return healthy;
        }
        int n = healthy.size();
        long turn = rotation++;
        Map<Endpoint, Integer> position = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            position.put(healthy.get(i), (int) Math.floorMod(i - turn, (long) n));
        }
        if (config.balancing() == Balancing.LEAST_OUTSTANDING) {
            healthy.sort((a, b) -> {
                long byLoad = (long) a.outstanding.get() * b.config.weight() - (long) b.outstanding.get() * a.config.weight();
                return byLoad != 0 ? Long.signum(byLoad) : Integer.compare(position.get(a), position.get(b));
            });
        } else {
            healthy.sort((a, b) -> {
                long byCredit = (b.current + b.config.weight()) - (a.current + a.config.weight());
                return byCredit != 0 ? Long.signum(byCredit) : Integer.compare(position.get(a), position.get(b));
            });
        }
        return healthy;
    }

    /** Smooth weighted round robin bookkeeping: every eligible endpoint earns its weight, the chosen one pays the total. */
    private void chosen(List<Endpoint> candidates, Endpoint chosen) {
        if (config.balancing() != Balancing.ROUND_ROBIN) {
            return;
        }
        long total = 0;
        for (Endpoint e : candidates) {
            if (e.healthy && e.breaker.getState() != CircuitBreaker.State.OPEN) {
                e.current += e.config.weight();
                total += e.config.weight();
            }
        }
        chosen.current -= total;
    }

    private static double affinityScore(String conversation, Endpoint e) {
        long h = fnv(conversation + '\u0000' + e.config.name());
        double u = ((h >>> 11) + 0.5) / (double) (1L << 53);
        return e.config.weight() / -Math.log(u);
    }

    private static long fnv(String s) {
        long h = 0xcbf29ce484222325L;
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ (b & 0xff)) * 0x100000001b3L;
        }
        // SplitMix64 finaliser: FNV alone leaves the high bits poorly mixed for short keys
        h = (h ^ (h >>> 30)) * 0xbf58476d1ce4e5b9L;
        h = (h ^ (h >>> 27)) * 0x94d049bb133111ebL;
        return h ^ (h >>> 31);
    }

    /** Tokens reserved against a TPM limit before the call: the prompt estimate plus {@code max_tokens}. */
    static int estimatedTokens(LlmRequest r) {
        Integer max = r.getParams() == null ? null : r.getParams().getMaxTokens();
        return HttpChatCompletions.estimateTokens(r) + (max == null ? 0 : max);
    }

    private static int stateCode(CircuitBreaker.State s) {
        switch (s) {
            case CLOSED: return 0;
            case HALF_OPEN: return 1;
            case OPEN: return 2;
            default: return 3;
        }
    }

    /** One endpoint with its breaker, bulkhead, buckets and counters. */
    private final class Endpoint {
        final EndpointConfig config;
        final ChatCompletions client;
        final CircuitBreaker breaker;
        final Bulkhead bulkhead;
        final Bucket rpm;
        final Bucket tpm;
        final AtomicInteger outstanding = new AtomicInteger();
        volatile boolean healthy = true;
        /** Smooth weighted round robin credit; guarded by the pool. */
        long current;

        Endpoint(EndpointConfig config, ChatCompletions client, CircuitBreaker breaker) {
            this.config = config;
            this.client = client;
            this.breaker = breaker;
            this.bulkhead = config.maxConcurrent() == 0 ? null : Bulkhead.of(config.name(), BulkheadConfig.custom()
                    .maxConcurrentCalls(config.maxConcurrent())
                    .maxWaitDuration(Duration.ZERO)
                    .writableStackTraceEnabled(false)
                    .build());
            this.rpm = perMinute(config.rpm());
            this.tpm = perMinute(config.tpm());
        }

        private Bucket perMinute(long limit) {
            return limit == 0 ? null : Bucket.builder()
                    .addLimit(b -> b.capacity(limit).refillGreedy(limit, Duration.ofMinutes(1)))
                    .build();
        }

        /** A lease, or the reason there is none. */
        Object tryAcquire(int tokens) {
            if (!breaker.tryAcquirePermission()) {
                return Refusal.UNAVAILABLE;
            }
            if (bulkhead != null && !bulkhead.tryAcquirePermission()) {
                breaker.releasePermission();
                return Refusal.BUSY;
            }
            if (rpm != null && !rpm.tryConsume(1)) {
                releaseReservation(0, false);
                return Refusal.BUSY;
            }
            long reserved = tpm == null ? 0 : Math.max(1, Math.min(tokens, config.tpm()));
            if (tpm != null && !tpm.tryConsume(reserved)) {
                releaseReservation(0, true);
                return Refusal.BUSY;
            }
            outstanding.incrementAndGet();
            return new EndpointLease(this, null, reserved);
        }

        private void releaseReservation(long tpmTokens, boolean rpmTaken) {
            if (rpmTaken && rpm != null) {
                rpm.addTokens(1);
            }
            if (tpmTokens > 0 && tpm != null) {
                tpm.addTokens(tpmTokens);
            }
            if (bulkhead != null) {
                bulkhead.releasePermission();
            }
            breaker.releasePermission();
        }
    }

    /** A reservation on one endpoint. */
    private final class EndpointLease implements Lease {
        private final Endpoint endpoint;
        private final String model;
        private final long reservedTokens;
        private boolean used;

        EndpointLease(Endpoint endpoint, String model, long reservedTokens) {
            this.endpoint = endpoint;
            this.model = model;
            this.reservedTokens = reservedTokens;
        }

        EndpointLease forModel(String upstream) {
            return new EndpointLease(endpoint, upstream, reservedTokens);
        }

        @Override
        public String endpoint() {
            return endpoint.config.name();
        }

        @Override
        public String model() {
            return model;
        }

        @Override
        public synchronized CompletableFuture<Completion> call(ModelCall call) {
            if (used) {
                throw new IllegalStateException("a lease is good for one call");
            }
            used = true;
            long start = System.nanoTime();
            CompletableFuture<Completion> f;
            try {
                f = endpoint.client.complete(call);
            } catch (RuntimeException e) {
                f = CompletableFuture.failedFuture(e);
            }
            return f.handle((c, error) -> {
                long nanos = System.nanoTime() - start;
                String name = endpoint.config.name();
                try {
                    if (error == null) {
                        endpoint.breaker.onSuccess(nanos, TimeUnit.NANOSECONDS);
                        metrics.call(name, model, "ok", nanos);
                        metrics.tokens(name, model, c.promptTokens(), c.completionTokens());
                        if (c.ttftNanos() >= 0) {
                            metrics.ttft(name, model, c.ttftNanos());
                        }
                        if (endpoint.tpm != null) {
                            long used = (long) c.promptTokens() + c.completionTokens() - reservedTokens;
                            if (used > 0) {
                                endpoint.tpm.consumeIgnoringRateLimits(used);
                            } else if (used < 0) {
                                endpoint.tpm.addTokens(-used);
                            }
                        }
                        return c;
                    }
                    ModelCallException mce = asModelCallException(error, name);
                    if (mce.endpointFault()) {
                        endpoint.breaker.onError(nanos, TimeUnit.NANOSECONDS, mce);
                    } else if ("rate_limited".equals(mce.type()) || "cancelled".equals(mce.type())) {
                        endpoint.breaker.releasePermission();
                    } else {
                        endpoint.breaker.onSuccess(nanos, TimeUnit.NANOSECONDS);
                    }
                    metrics.call(name, model, mce.type(), nanos);
                    if (endpoint.tpm != null && reservedTokens > 0) {
                        endpoint.tpm.addTokens(reservedTokens);
                    }
                    throw mce;
                } finally {
                    if (endpoint.bulkhead != null) {
                        endpoint.bulkhead.onComplete();
                    }
                    endpoint.outstanding.decrementAndGet();
                }
            });
        }
    }

    private static ModelCallException asModelCallException(Throwable error, String endpoint) {
        Throwable t = error;
        while (t instanceof CompletionException && t.getCause() != null) {
            t = t.getCause();
        }
        if (t instanceof ModelCallException m) {
            return m.endpoint() == null ? m.at(endpoint) : m;
        }
        return new ModelCallException("internal_error", String.valueOf(t), null, false, null, endpoint, t);
    }
}
