package llmq.worker.endpoints;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Active health checks: every {@code worker.health.interval} each endpoint is asked for
 * {@code GET <base>/models}. An answer below 500 counts as up (the server is there and serving;
 * a 401 or 404 is a configuration matter the calls themselves will report); a 5xx, a timeout or
 * a refused connection takes the endpoint out of the rotation until a later probe succeeds.
 * Passive health is the circuit breakers' job (error rates of real calls).
 */
public final class HealthProber implements AutoCloseable {

    private final EndpointPool pool;
    private final Function<String, HttpClient> clients;
    private final ScheduledExecutorService timer;

    private HealthProber(EndpointPool pool, Function<String, HttpClient> clients, ScheduledExecutorService timer) {
        this.pool = pool;
        this.clients = clients;
        this.timer = timer;
    }

    /**
     * Starts probing, or returns a prober that does nothing when the interval is zero.
     *
     * @param clients the HTTP client for an endpoint URL
     */
    public static HealthProber start(EndpointPool pool, Function<String, HttpClient> clients) {
        Duration interval = pool.config().healthInterval();
        if (interval.isZero()) {
            return new HealthProber(pool, clients, null);
        }
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "llmq-worker-health");
            t.setDaemon(true);
            return t;
        });
        HealthProber prober = new HealthProber(pool, clients, timer);
        timer.scheduleWithFixedDelay(prober::probeAll, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
        return prober;
    }

    /** Probes every endpoint once (asynchronously). */
    public void probeAll() {
        for (EndpointConfig e : pool.config().endpoints()) {
            String base = e.url().endsWith("/") ? e.url().substring(0, e.url().length() - 1) : e.url();
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + "/models"))
                    .timeout(pool.config().healthTimeout())
                    .GET();
            if (e.apiKey() != null) {
                b.header("Authorization", "Bearer " + e.apiKey());
            }
            try {
                clients.apply(e.url()).sendAsync(b.build(), HttpResponse.BodyHandlers.discarding())
                        .orTimeout(pool.config().healthTimeout().toMillis() + 100, TimeUnit.MILLISECONDS)
                        .whenComplete((response, error) -> {
                            if (error != null) {
                                pool.probed(e.name(), false, error.toString());
                            } else {
                                pool.probed(e.name(), response.statusCode() < 500, "HTTP " + response.statusCode());
                            }
                        });
            } catch (RuntimeException failure) {
                pool.probed(e.name(), false, failure.toString());
            }
        }
    }

    @Override
    public void close() {
        if (timer != null) {
            timer.shutdownNow();
        }
    }
}
