package llmq.ingest.support;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Stands in for the priority-router's admin view ({@code GET /v1/requests/{id}/position},
 * {@code GET /v1/backlog}) with canned answers, so ingest's use of it is tested on its own; the
 * real router is behind {@code PipelineIT}.
 */
public final class StubRouter implements AutoCloseable {

    private final HttpServer server;
    private final Map<String, String> positions = new ConcurrentHashMap<>();
    private volatile String backlog = "{}";

    public StubRouter() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
        server.createContext("/", ex -> {
            String path = ex.getRequestURI().getPath();
            String body = null;
            if (path.equals("/v1/backlog")) {
                body = backlog;
            } else if (path.startsWith("/v1/requests/") && path.endsWith("/position")) {
                body = positions.get(path.substring("/v1/requests/".length(), path.length() - "/position".length()));
            }
            byte[] bytes = (body == null ? "{\"error\":{\"type\":\"not_found\"}}" : body).getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", "application/json");
            ex.sendResponseHeaders(body == null ? 404 : 200, bytes.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(bytes);
            }
        });
        server.start();
    }

    public String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    public void position(String id, String json) {
        positions.put(id, json);
    }

    public void backlog(String json) {
        backlog = json;
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
