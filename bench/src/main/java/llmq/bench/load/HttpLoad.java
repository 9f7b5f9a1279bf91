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
        Tally tally = new Tally();
        OpenLoop.run(rate, duration, (i, intended) -> tally.send(i, intended, body, () -> { }, () -> { }));
        return tally.finish(rate, drain);
    }

    /**
     * A closed loop for {@code duration}: a request goes out whenever {@code slots} has a permit, and the
     * caller gives the permit back when the request is done (e.g. on its COMPLETED event); a request
     * not accepted gives its permit back at once. With as many permits as requests should be in the
     * system, this keeps the system exactly that busy: what it completes per second is then its
     * throughput at saturation, without an open loop's backlog growing past it. Latency here runs
     * from send to 202 (there is no intended time in a closed loop). {@link Step#offeredRate()} is the
     * rate the loop reached.
     */
    public Step closed(Semaphore slots, Duration duration, LongFunction<String> body, Duration drain) throws Exception {
        return closed(slots, duration, body, drain, () -> { });
    }

    /**
     * A closed loop of {@code outstanding} requests for {@code duration} in which each answer sends the next request:
     * {@link Step#acceptedPerSecond()} is then the rate of 202s at saturation, e.g. of an endpoint whose limit another
     * is compared with.
     */
    public Step saturate(int outstanding, Duration duration, LongFunction<String> body, Duration drain) throws Exception {
        Semaphore slots = new Semaphore(outstanding);
        return closed(slots, duration, body, drain, slots::release);
    }

    private Step closed(Semaphore slots, Duration duration, LongFunction<String> body, Duration drain, Runnable onAccepted)
            throws Exception {
        Tally tally = new Tally();
        long end = System.nanoTime() + duration.toNanos();
        long i = 0;
        while (true) {
            long left = end - System.nanoTime();
            if (left <= 0 || !slots.tryAcquire(left, TimeUnit.NANOSECONDS)) {
                break;
            }
            tally.send(i++, BenchClock.nowMicros(), body, slots::release, onAccepted);
        }
        return tally.finish(i / Math.max(1e-3, duration.toNanos() / 1e9), drain);
    }

    /** The answers of one step, as they come in. */
    private final class Tally {
        private final Histogram latency = Latencies.histogram();
        private final Map<Integer, Long> statuses = new ConcurrentHashMap<>();
        private final Map<String, Long> errors = new ConcurrentHashMap<>();
        private final Map<String, Long> ids = new ConcurrentHashMap<>();
        private final AtomicLong accepted = new AtomicLong();
        private final AtomicLong sent = new AtomicLong();
        private final AtomicLong lastAnswerMicros = new AtomicLong();
        private final Semaphore inFlight = new Semaphore(maxInFlight);
        private final long firstIntended = BenchClock.nowMicros();

        /** Sends request {@code i}; {@code notAccepted} runs when it gets no 202, {@code onAccepted} when it does. */
        void send(long i, long intended, LongFunction<String> body, Runnable notAccepted, Runnable onAccepted) {
            if (!inFlight.tryAcquire()) {
                errors.merge("client_overloaded", 1L, Long::sum);
                notAccepted.run();
                return;
            }
            sent.incrementAndGet();
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
                    notAccepted.run();
                    return;
                }
                statuses.merge(resp.statusCode(), 1L, Long::sum);
                if (resp.statusCode() != 202) {
                    notAccepted.run();
                    return;
                }
                accepted.incrementAndGet();
                onAccepted.run();
                synchronized (latency) {
                    latency.recordValue(Latencies.clamp(now - intended));
                }
                String id = id(resp.body());
                if (id != null) {
                    ids.put(id, intended);
                }
            });
        }

        /** Waits up to {@code drain} for the answers still outstanding (those never answered count as timeouts). */
        Step finish(double rate, Duration drain) throws InterruptedException {
            long deadline = System.nanoTime() + drain.toNanos();
            while (inFlight.availablePermits() < maxInFlight && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            long unanswered = maxInFlight - inFlight.availablePermits();
            if (unanswered > 0) {
                errors.merge("timeout", unanswered, Long::sum);
            }
            double seconds = Math.max(1e-3, (lastAnswerMicros.get() - firstIntended) / 1e6);
            return new Step(rate, sent.get(), accepted.get(), new TreeMap<>(statuses), new TreeMap<>(errors), latency,
                    accepted.get() / seconds, Collections.unmodifiableMap(ids));
        }
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
