package llmq.common.http;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import llmq.common.json.Json;

/**
 * The small HTTP endpoint every non-Micronaut service exposes: {@code GET /health} (JSON, 200
 * when every check is up, else 503) and {@code GET /metrics} (Prometheus text). Services may
 * add their own read-only routes (e.g. billing's usage queries).
 */
public final class AdminServer implements AutoCloseable {

    static {
        // TCP_NODELAY for the JDK server (read once, when the first HttpServer of the JVM is created)
        llmq.common.lifecycle.JvmDefaults.apply();
    }

    private final HttpServer server;
    private final ExecutorService executor;
    private final Map<String, HealthCheck> checks = new LinkedHashMap<>();

    private AdminServer(HttpServer server, ExecutorService executor) {
        this.server = server;
        this.executor = executor;
    }

    /**
     * Binds {@code host:port} (port 0 picks a free one) and serves health and metrics.
     *
     * @param service name shown in the health document
     */
    public static AdminServer start(String service, String host, int port, PrometheusMeterRegistry metrics)
            throws IOException {
        HttpServer http = HttpServer.create(new InetSocketAddress(host, port), 64);
        ExecutorService pool = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, service + "-admin-http");
            t.setDaemon(true);
            return t;
        });
        http.setExecutor(pool);
        AdminServer admin = new AdminServer(http, pool);
        http.createContext("/health", ex -> admin.health(service, ex));
        http.createContext("/metrics", ex -> {
            if (!"GET".equals(ex.getRequestMethod())) {
                respond(ex, 405, "text/plain", "method not allowed\n");
                return;
            }
            respond(ex, 200, "text/plain; version=0.0.4; charset=utf-8", metrics.scrape());
        });
        http.start();
        return admin;
    }

    /** Adds a named health check. */
    public synchronized AdminServer check(String name, HealthCheck check) {
        checks.put(name, check);
        return this;
    }

    /** Serves {@code handler} under {@code path}. */
    public AdminServer route(String path, HttpHandler handler) {
        server.createContext(path, handler);
        return this;
    }

    /** The bound port. */
    public int port() {
        return server.getAddress().getPort();
    }

    private void health(String service, HttpExchange ex) throws IOException {
        ObjectNode doc = Json.mapper().createObjectNode();
        doc.put("service", service);
        ObjectNode details = doc.putObject("checks");
        boolean allUp = true;
        Map<String, HealthCheck> snapshot;
        synchronized (this) {
            snapshot = new LinkedHashMap<>(checks);
        }
        for (Map.Entry<String, HealthCheck> e : snapshot.entrySet()) {
            HealthCheck.Status s;
            try {
                s = e.getValue().check();
            } catch (RuntimeException failure) {
                s = HealthCheck.Status.down(failure.toString());
            }
            allUp &= s.up();
            ObjectNode c = details.putObject(e.getKey());
            c.put("status", s.up() ? "UP" : "DOWN");
            c.put("detail", s.detail());
        }
        doc.put("status", allUp ? "UP" : "DOWN");
        respond(ex, allUp ? 200 : 503, "application/json", Json.mapper().writeValueAsString(doc));
    }

    /** Writes a complete response and closes the exchange. */
    public static void respond(HttpExchange ex, int status, String contentType, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", contentType);
        ex.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
        try {
            executor.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
