package llmq.bench.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The closed loop keeps at most as many requests out as it has permits, and gets a permit back by
 * itself only for a request that was not accepted (an accepted one is the caller's to give back).
 * A loopback HTTP server stands in for ingest.
 */
class HttpLoadClosedLoopTest {

    private HttpServer server;
    private final AtomicInteger served = new AtomicInteger();
    private volatile int status = 202;

    @BeforeEach
    void start() throws Exception {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(Executors.newFixedThreadPool(4));
        server.createContext("/v1/requests", exchange -> {
            int n = served.incrementAndGet();
            byte[] body = ("{\"id\":\"r" + n + "\"}").getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(status, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    @Test
    void sendsNoMoreThanItHasPermitsWhenNothingComesBack() throws Exception {
        try (HttpLoad load = new HttpLoad(url(), "key", 64)) {
            Semaphore slots = new Semaphore(5);
            HttpLoad.Step step = load.closed(slots, Duration.ofMillis(500), i -> "{}", Duration.ofSeconds(5));
            assertEquals(5, step.sent(), "one request per permit, none given back");
            assertEquals(5, step.accepted());
            assertEquals(5, step.ids().size());
            assertEquals(0, slots.availablePermits());
        }
    }

    @Test
    void keepsGoingAsPermitsComeBack() throws Exception {
        try (HttpLoad load = new HttpLoad(url(), "key", 64)) {
            Semaphore slots = new Semaphore(2);
            Thread giver = new Thread(() -> {
                for (int i = 0; i < 8; i++) {
                    try {
                        Thread.sleep(30);
                    } catch (InterruptedException e) {
                        return;
                    }
                    slots.release();
                }
            });
            giver.start();
            HttpLoad.Step step = load.closed(slots, Duration.ofMillis(800), i -> "{}", Duration.ofSeconds(5));
            giver.join();
            assertEquals(10, step.sent(), "two permits at the start and eight given back");
            assertEquals(10, step.accepted());
        }
    }

    @Test
    void givesThePermitBackForARequestNotAccepted() throws Exception {
        status = 400;
        try (HttpLoad load = new HttpLoad(url(), "key", 64)) {
            Semaphore slots = new Semaphore(3);
            HttpLoad.Step step = load.closed(slots, Duration.ofMillis(300), i -> "{}", Duration.ofSeconds(5));
            assertTrue(step.sent() > 3, "rejected requests free their permits, so more than three went out: " + step.sent());
            assertEquals(0, step.accepted());
            assertEquals(step.sent(), (long) step.statuses().get(400));
            assertEquals(step.sent(), step.failures());
        }
    }

    @Test
    void keepsAsManyOutAsItSaturatesWithEachAnswerSendingTheNext() throws Exception {
        try (HttpLoad load = new HttpLoad(url(), "key", 64)) {
            HttpLoad.Step step = load.saturate(4, Duration.ofMillis(300), i -> "{}", Duration.ofSeconds(5));
            assertTrue(step.sent() > 4, "each 202 sends the next, so more than four went out: " + step.sent());
            assertEquals(step.sent(), step.accepted(), "every request answered before the step ended");
            assertEquals(step.sent(), served.get());
        }
    }
}
