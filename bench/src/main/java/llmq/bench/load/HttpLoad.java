package llmq.bench.load;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongFunction;
import llmq.bench.stats.Latencies;
import llmq.common.json.Json;
import org.HdrHistogram.Histogram;

/**
 * Open-loop HTTP load on llmq's native API ({@code POST /v1/requests}): the JDK's asynchronous
 * HttpClient keeps many requests in flight on a few threads; each latency runs from the request's
 * intended send time to its response. At most {@code maxInFlight} requests are outstanding; one
 * due while that many wait is counted as an error ({@code client_overloaded}) and not sent.
 */
public final class HttpLoad implements AutoCloseable {

    /**
     * One step at a fixed offered rate.
     *
     * @param accepted      202 answers
     * @param statuses      answers by HTTP status
     * @param errors        failures without an answer, by exception class
     * @param latency       intended send → 202, microseconds
     * @param acceptedPerSecond 202s over the time from the first intended send to the last answer
     * @param ids           request ids from the 202 answers, with their intended send time (epoch µs)
     */
    public record Step(double offeredRate, long sent, long accepted, Map<Integer, Long> statuses,
                       Map<String, Long> errors, Histogram latency, double acceptedPerSecond,
                       Map<String, Long> ids) {

        public long failures() {
            return sent - accepted + errors.getOrDefault("client_overloaded", 0L);
        }

        public ObjectNode json() {
            ObjectNode n = Json.mapper().createObjectNode();
            n.put("offered_per_second", offeredRate);
            n.put("sent", sent);
            n.put("accepted", accepted);
            n.put("accepted_per_second", Math.round(acceptedPerSecond));
            ObjectNode s = n.putObject("statuses");
            statuses.forEach((k, v) -> s.put(Integer.toString(k), v));
            ObjectNode e = n.putObject("errors");
            errors.forEach(e::put);
            n.set("latency_intended_to_202", Latencies.summary(latency));
            return n;
        }
    }

    private final HttpClient client;
    private final ExecutorService executor;
    private final URI submit;
    private final String apiKey;
    private final int maxInFlight;

    public HttpLoad(String baseUrl, String apiKey, int maxInFlight) {
        this.executor = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "bench-http");
            t.setDaemon(true);
            return t;
        });
        this.client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).executor(executor)
                .connectTimeout(Duration.ofSeconds(5)).build();
        this.submit = URI.create(baseUrl + "/v1/requests");
        this.apiKey = apiKey;
        this.maxInFlight = maxInFlight;
    }

    /**
     * Offers {@code rate}/s for {@code duration}, then waits up to {@code drain} for the answers still
     * outstanding (those never answered count as {@code timeout}).
     *
     * @param body request {@code i}'s JSON body
     */
    public Step step(double rate, Duration duration, LongFunction<String> body, Duration drain) throws Exception {
        Histogram latency = Latencies.histogram();
        Map<Integer, Long> statuses = new ConcurrentHashMap<>();
        Map<String, Long> errors = new ConcurrentHashMap<>();
        Map<String, Long> ids = new ConcurrentHashMap<>();
        AtomicLong accepted = new AtomicLong();
        AtomicLong lastAnswerMicros = new AtomicLong();
        Semaphore inFlight = new Semaphore(maxInFlight);
        long firstIntended = BenchClock.nowMicros();
        long sent = OpenLoop.run(rate, duration, (i, intended) -> {
            if (!inFlight.tryAcquire()) {
                errors.merge("client_overloaded", 1L, Long::sum);
                return;
            }
            HttpRequest req = HttpRequest.newBuilder(submit).timeout(Duration.ofSeconds(30))
                    .header("Authorization", "Bearer " + apiKey).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body.apply(i))).build();
            client.sendAsync(req, HttpResponse.BodyHandlers.ofString()).whenComplete((resp, err) -> {
                long now = BenchClock.nowMicros();
                inFlight.release();
                lastAnswerMicros.accumulateAndGet(now, Math::max);
                if (err != null) {
                    Throwable cause = err.getCause() != null ? err.getCause() : err;
                    errors.merge(cause.getClass().getSimpleName(), 1L, Long::sum);
                    return;
                }
                statuses.merge(resp.statusCode(), 1L, Long::sum);
                if (resp.statusCode() == 202) {
                    accepted.incrementAndGet();
                    synchronized (latency) {
                        latency.recordValue(Latencies.clamp(now - intended));
                    }
                    String id = id(resp.body());
                    if (id != null) {
                        ids.put(id, intended);
                    }
                }
            });
        });
        long sentRequests = sent - errors.getOrDefault("client_overloaded", 0L);
        long deadline = System.nanoTime() + drain.toNanos();
        while (inFlight.availablePermits() < maxInFlight && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        long unanswered = maxInFlight - inFlight.availablePermits();
        if (unanswered > 0) {
            errors.merge("timeout", unanswered, Long::sum);
        }
        double seconds = Math.max(1e-3, (lastAnswerMicros.get() - firstIntended) / 1e6);
        return new Step(rate, sentRequests, accepted.get(), new TreeMap<>(statuses), new TreeMap<>(errors), latency,
                accepted.get() / seconds, Collections.unmodifiableMap(ids));
    }

    /** Sends one request and returns its status (e.g. for a start-up probe). */
    public int once(String body, Duration timeout) {
        try {
            HttpRequest req = HttpRequest.newBuilder(submit).timeout(timeout)
                    .header("Authorization", "Bearer " + apiKey).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build();
            return client.send(req, HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        } catch (Exception e) {
            return -1;
        }
    }

    private static String id(String body) {
        try {
            JsonNode n = Json.mapper().readTree(body);
            return n.path("id").isTextual() ? n.get("id").asText() : null;
        } catch (Exception e) {
            return null;
        }
    }

    /** A native-API body of about {@code promptChars} characters of prompt. */
    public static String body(String model, String priority, String prompt, int maxTokens) {
        ObjectNode n = Json.mapper().createObjectNode();
        n.put("model", model);
        n.put("priority", priority);
        n.put("max_tokens", maxTokens);
        ObjectNode m = n.putArray("messages").addObject();
        m.put("role", "user");
        m.put("content", prompt);
        return n.toString();
    }

    /** A prompt of {@code chars} characters that differs per {@code i} (so no two requests look alike). */
    public static String prompt(long i, int chars) {
        StringBuilder b = new StringBuilder(chars + 24);
        b.append("request ").append(i).append(": ");
        String words = "summarise the quarterly figures for the northern region and list the risks ";
        while (b.length() < chars) {
            b.append(words);
        }
        b.setLength(chars);
        return b.toString();
    }

    @Override
    public void close() {
        executor.shutdownNow();
        try {
            executor.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
