package llmq.worker.endpoints;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import llmq.avro.LlmRequest;
import llmq.avro.Priority;
import llmq.common.config.Settings;
import llmq.worker.metrics.WorkerMetrics;
import llmq.worker.model.ChatCompletions;
import llmq.worker.model.Completion;
import llmq.worker.model.ModelCall;
import llmq.worker.model.ModelCallException;
import llmq.worker.testing.HeldModel;
import llmq.worker.testing.Requests;
import org.junit.jupiter.api.Test;

/**
 * Choosing endpoints: concurrency and rate limits (Resilience4j bulkhead, bucket4j), weighted
 * round robin, least outstanding, conversation affinity, circuit breaking with failover, and
 * fallback models.
 */
class EndpointPoolTest {

    private final Map<String, HeldModel> models = new HashMap<>();

    private EndpointPool pool(Balancing balancing, List<EndpointConfig> endpoints, Map<String, ModelRoute> routes,
                              CircuitConfig circuit) {
        return new EndpointPool(new PoolConfig(endpoints, routes, balancing, true, circuit, Duration.ZERO,
                Duration.ofSeconds(1)), e -> models.computeIfAbsent(e.name(), n -> new HeldModel()),
                new WorkerMetrics(new SimpleMeterRegistry()));
    }

    private EndpointPool pool(Balancing balancing, EndpointConfig... endpoints) {
        return pool(balancing, List.of(endpoints), Map.of(), CircuitConfig.from(Settings.of(Map.of())));
    }

    private static EndpointConfig endpoint(String name, int weight, int maxConcurrent, String... models) {
        return new EndpointConfig(name, "http://127.0.0.1:1/v1", null, weight, maxConcurrent, 0, 0,
                Duration.ofSeconds(60), List.of(models), false);
    }

    private static LlmRequest request(String model, String conversation) {
        LlmRequest r = Requests.queued("acme", Priority.NORMAL, "hi", Instant.now()).getRequest();
        r.setModel(model);
        r.setConversationId(conversation);
        return r;
    }

    /** Selects and immediately answers, returning the endpoint used. */
    private String callAndAnswer(EndpointPool pool, LlmRequest r) {
        Lease lease = ((Selection.Acquired) pool.select(r)).lease();
        CompletableFuture<Completion> f = lease.call(new ModelCall(r, lease.model(), 1));
        models.get(lease.endpoint()).releaseAll();
        f.join();
        return lease.endpoint();
    }

    @Test
    void shouldNeverLeaseMoreThanAnEndpointsMaxConcurrentCalls() {
        EndpointPool pool = pool(Balancing.LEAST_OUTSTANDING, endpoint("a", 1, 4));
        List<CompletableFuture<Completion>> calls = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            Lease lease = ((Selection.Acquired) pool.select(request("m", null))).lease();
            calls.add(lease.call(new ModelCall(request("m", null), "m", 1)));
        }
        assertThat(pool.select(request("m", null))).isInstanceOf(Selection.Busy.class);
        assertThat(pool.outstanding("a")).isEqualTo(4);

        models.get("a").releaseAll();
        calls.forEach(CompletableFuture::join);
        assertThat(pool.outstanding("a")).isZero();
        assertThat(pool.select(request("m", null))).isInstanceOf(Selection.Acquired.class);
    }

    @Test
    void shouldSplitTrafficByWeightUnderRoundRobin() {
        EndpointPool pool = pool(Balancing.ROUND_ROBIN, endpoint("a", 3, 0), endpoint("b", 1, 0));
        Map<String, Integer> used = new HashMap<>();
        for (int i = 0; i < 400; i++) {
            used.merge(callAndAnswer(pool, request("m", null)), 1, Integer::sum);
        }
        assertThat(used).containsOnly(Map.entry("a", 300), Map.entry("b", 100));
    }

    @Test
    void shouldPreferTheEndpointWithFewestCallsInFlight() {
        EndpointPool pool = pool(Balancing.LEAST_OUTSTANDING, endpoint("a", 1, 0), endpoint("b", 1, 0));
        List<String> chosen = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            Lease lease = ((Selection.Acquired) pool.select(request("m", null))).lease();
            lease.call(new ModelCall(request("m", null), "m", 1));
            chosen.add(lease.endpoint());
        }
        assertThat(chosen.stream().filter("a"::equals).count()).isEqualTo(3);
        // a's calls finish: the next calls go to a until it carries as many as b
        models.get("a").releaseAll();
        for (int i = 0; i < 3; i++) {
            Lease lease = ((Selection.Acquired) pool.select(request("m", null))).lease();
            lease.call(new ModelCall(request("m", null), "m", 1));
            assertThat(lease.endpoint()).isEqualTo("a");
        }
    }

    @Test
    void shouldSendEveryCallOfAConversationToOneEndpointWhileItIsHealthy() {
        EndpointPool pool = pool(Balancing.LEAST_OUTSTANDING, endpoint("a", 1, 0), endpoint("b", 1, 0),
                endpoint("c", 1, 0));
        Map<String, Integer> used = new HashMap<>();
        for (int i = 0; i < 50; i++) {
            used.merge(callAndAnswer(pool, request("m", "conv-42")), 1, Integer::sum);
        }
        assertThat(used).hasSize(1);

        // other conversations spread over the pool
        Map<String, Integer> spread = new HashMap<>();
        for (int i = 0; i < 60; i++) {
            spread.merge(callAndAnswer(pool, request("m", "conv-" + i)), 1, Integer::sum);
        }
        assertThat(spread).hasSize(3);
    }

    @Test
    void shouldMoveAConversationWhenItsEndpointFailsItsHealthProbe() {
        EndpointPool pool = pool(Balancing.LEAST_OUTSTANDING, endpoint("a", 1, 0), endpoint("b", 1, 0));
        String home = callAndAnswer(pool, request("m", "conv-7"));
        pool.probed(home, false, "HTTP 503");
        String other = callAndAnswer(pool, request("m", "conv-7"));
        assertThat(other).isNotEqualTo(home);
        pool.probed(home, true, "HTTP 200");
        assertThat(callAndAnswer(pool, request("m", "conv-7"))).isEqualTo(home);
    }

    @Test
    void shouldOpenTheCircuitOfAFailingEndpointAndFailOverToTheHealthyOne() {
        CircuitConfig circuit = new CircuitConfig(50, 10, 5, Duration.ofMinutes(5), 1);
        EndpointPool pool = pool(Balancing.ROUND_ROBIN, List.of(endpoint("good", 1, 0), endpoint("bad", 1, 0)), Map.of(),
                circuit);
        Map<String, Integer> used = new HashMap<>();
        for (int i = 0; i < 40; i++) {
            LlmRequest r = request("m", null);
            Lease lease = ((Selection.Acquired) pool.select(r)).lease();
            CompletableFuture<Completion> f = lease.call(new ModelCall(r, "m", 1));
            used.merge(lease.endpoint(), 1, Integer::sum);
            if (lease.endpoint().equals("bad")) {
                models.get("bad").fail("hi", ModelCallException.forStatus(500, "boom", null, "bad"));
                assertThat(f).isCompletedExceptionally();
            } else {
                models.get("good").releaseAll();
            }
        }
        assertThat(pool.circuitState("bad")).isEqualTo(CircuitBreaker.State.OPEN);
        assertThat(used.get("bad")).as("calls to bad before its circuit opened").isEqualTo(5);
        assertThat(used.get("good")).isEqualTo(35);
    }

    @Test
    void shouldNotCountRateLimitsOrBadRequestsAgainstAnEndpointsHealth() {
        CircuitConfig circuit = new CircuitConfig(50, 10, 5, Duration.ofMinutes(5), 1);
        EndpointPool pool = pool(Balancing.ROUND_ROBIN, List.of(endpoint("a", 1, 0)), Map.of(), circuit);
        for (int i = 0; i < 20; i++) {
            LlmRequest r = request("m", null);
            Lease lease = ((Selection.Acquired) pool.select(r)).lease();
            lease.call(new ModelCall(r, "m", 1));
            models.get("a").fail("hi", i % 2 == 0 ? ModelCallException.forStatus(429, "slow", Duration.ofSeconds(1), "a")
                    : ModelCallException.forStatus(400, "bad", null, "a"));
        }
        assertThat(pool.circuitState("a")).isEqualTo(CircuitBreaker.State.CLOSED);
    }

    @Test
    void shouldFallBackToTheNextModelWhenNoEndpointOfTheRequestedOneIsAvailable() {
        CircuitConfig circuit = new CircuitConfig(50, 2, 2, Duration.ofMinutes(5), 1);
        Map<String, ModelRoute> routes = Map.of(
                "smart", new ModelRoute("smart", "big-model-v2", List.of("big"), List.of("fast")),
                "fast", new ModelRoute("fast", "small-model-v1", List.of("small"), List.of()));
        EndpointPool pool = pool(Balancing.ROUND_ROBIN, List.of(endpoint("big", 1, 0), endpoint("small", 1, 0)), routes,
                circuit);

        Lease first = ((Selection.Acquired) pool.select(request("smart", null))).lease();
        assertThat(first.endpoint()).isEqualTo("big");
        assertThat(first.model()).as("alias resolved to the upstream id").isEqualTo("big-model-v2");
        for (int i = 0; i < 2; i++) {
            LlmRequest r = request("smart", null);
            Lease lease = i == 0 ? first : ((Selection.Acquired) pool.select(r)).lease();
            lease.call(new ModelCall(r, lease.model(), 1));
            models.get("big").fail("hi", ModelCallException.forStatus(503, "down", null, "big"));
        }
        assertThat(pool.circuitState("big")).isEqualTo(CircuitBreaker.State.OPEN);

        Lease fallback = ((Selection.Acquired) pool.select(request("smart", null))).lease();
        assertThat(fallback.endpoint()).isEqualTo("small");
        assertThat(fallback.model()).isEqualTo("small-model-v1");
    }

    @Test
    void shouldWaitRatherThanFallBackWhenTheModelsEndpointsAreMerelyFull() {
        Map<String, ModelRoute> routes = Map.of("smart", new ModelRoute("smart", "big", List.of("big"), List.of("fast")));
        EndpointPool pool = pool(Balancing.ROUND_ROBIN, List.of(endpoint("big", 1, 1), endpoint("small", 1, 0, "fast")),
                routes, CircuitConfig.from(Settings.of(Map.of())));
        ((Selection.Acquired) pool.select(request("smart", null))).lease().call(new ModelCall(request("smart", null), "big", 1));

        assertThat(pool.select(request("smart", null))).isInstanceOf(Selection.Busy.class);
    }

    @Test
    void shouldRouteOnlyToEndpointsThatServeTheModel() {
        EndpointPool pool = pool(Balancing.ROUND_ROBIN, endpoint("a", 1, 0, "m1"), endpoint("b", 1, 0, "m2"));
        for (int i = 0; i < 5; i++) {
            assertThat(callAndAnswer(pool, request("m2", null))).isEqualTo("b");
        }
        assertThat(pool.select(request("m3", null))).isInstanceOf(Selection.Unroutable.class);
    }

    @Test
    void shouldHoldCallsBackAtTheRequestsPerMinuteLimit() {
        EndpointConfig limited = new EndpointConfig("a", "http://127.0.0.1:1/v1", null, 1, 0, 3, 0,
                Duration.ofSeconds(60), List.of(), false);
        EndpointPool pool = pool(Balancing.ROUND_ROBIN, limited);
        for (int i = 0; i < 3; i++) {
            callAndAnswer(pool, request("m", null));
        }
        assertThat(pool.select(request("m", null))).isInstanceOf(Selection.Busy.class);
    }

    @Test
    void shouldChargeTheTokensPerMinuteLimitWithWhatCallsReallyUsed() {
        EndpointConfig limited = new EndpointConfig("a", "http://127.0.0.1:1/v1", null, 1, 0, 0, 100,
                Duration.ofSeconds(60), List.of(), false);
        ChatCompletions big = call -> CompletableFuture.completedFuture(
                new Completion("x", "stop", "m", 40, 50, 0, false, "a", 1));
        EndpointPool pool = new EndpointPool(new PoolConfig(List.of(limited), Map.of(), Balancing.ROUND_ROBIN, true,
                CircuitConfig.from(Settings.of(Map.of())), Duration.ZERO, Duration.ofSeconds(1)), e -> big,
                new WorkerMetrics(new SimpleMeterRegistry()));
        LlmRequest r = request("m", null);
        ((Selection.Acquired) pool.select(r)).lease().call(new ModelCall(r, "m", 1)).join();

        // 90 of 100 tokens used: a request estimated at more than the 10 left must wait, a small one not
        LlmRequest large = request("m", null);
        large.getParams().setMaxTokens(20);
        assertThat(pool.select(large)).isInstanceOf(Selection.Busy.class);
        assertThat(pool.select(request("m", null))).isInstanceOf(Selection.Acquired.class);
    }

    @Test
    void shouldAttributeAFailureToTheEndpointThatProducedIt() {
        EndpointPool pool = pool(Balancing.ROUND_ROBIN, endpoint("a", 1, 0));
        LlmRequest r = request("m", null);
        Lease lease = ((Selection.Acquired) pool.select(r)).lease();
        CompletableFuture<Completion> f = lease.call(new ModelCall(r, "m", 1));
        models.get("a").fail("hi", new ModelCallException("timeout", "slow", null, true, null, null, null));
        Throwable failure = f.handle((c, e) -> e).join();
        assertThat(failure).isInstanceOf(CompletionException.class);
        assertThat(failure.getCause()).isInstanceOfSatisfying(ModelCallException.class,
                e -> assertThat(e.endpoint()).isEqualTo("a"));
    }
}
