package llmq.ingest.cluster;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.apache.kafka.streams.state.HostInfo;

/**
 * Calls another ingest instance's internal API (forwarded queries for partitions it owns), passing
 * the caller's {@code Authorization} header on so that the other instance authenticates the caller
 * itself. Bounded by a short timeout; a failure is the caller's to turn into a 503.
 */
public final class Peers {

    /** A peer's answer. */
    public record Answer(int status, String body) {
    }

    /** The peer could not be asked (down, timed out). */
    public static final class Unreachable extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Unreachable(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2))
            .version(HttpClient.Version.HTTP_1_1).build();
    private final Duration timeout;

    public Peers(Duration timeout) {
        this.timeout = timeout;
    }

    /** {@code GET http://host:port<path>} with the caller's Authorization header. */
    public Answer get(HostInfo host, String path, String authorization) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://" + host.host() + ":" + host.port() + path))
                .timeout(timeout).header("Accept", "application/json").header("X-LLMQ-Forwarded", "1").GET();
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        try {
            HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
            return new Answer(r.statusCode(), r.body());
        } catch (IOException e) {
            throw new Unreachable("ingest instance " + host + " did not answer: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Unreachable("interrupted asking " + host, e);
        }
    }

    /** A path segment, URL-encoded. */
    public static String segment(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
