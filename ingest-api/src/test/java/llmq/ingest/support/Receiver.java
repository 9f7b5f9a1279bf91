package llmq.ingest.support;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/** A callback receiver: records every POST (headers and body) and answers 500 to the first {@code failFirst}. */
public final class Receiver implements AutoCloseable {

    /** One received call. */
    public record Call(String path, Map<String, List<String>> headers, byte[] body, int answered) {
        public String header(String name) {
            return headers.entrySet().stream().filter(e -> e.getKey().equalsIgnoreCase(name))
                    .map(e -> e.getValue().get(0)).findFirst().orElse(null);
        }
    }

    private final HttpServer server;
    private final List<Call> calls = new CopyOnWriteArrayList<>();
    private final AtomicInteger failures;

    public Receiver(int failFirst) throws IOException {
        this.failures = new AtomicInteger(failFirst);
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
        server.createContext("/", ex -> {
            byte[] body = ex.getRequestBody().readAllBytes();
            int status = failures.getAndDecrement() > 0 ? 500 : 204;
            calls.add(new Call(ex.getRequestURI().getPath(), Map.copyOf(ex.getRequestHeaders()), body, status));
            ex.sendResponseHeaders(status, -1);
            try (OutputStream out = ex.getResponseBody()) {
                out.flush();
            }
        });
        server.start();
    }

    public String url(String path) {
        return "http://127.0.0.1:" + server.getAddress().getPort() + path;
    }

    public List<Call> calls() {
        return List.copyOf(calls);
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
