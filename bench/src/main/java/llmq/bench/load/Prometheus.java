package llmq.bench.load;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** Reads one series from a service's Prometheus text ({@code GET /metrics}), e.g. a timer's sum and count. */
public final class Prometheus {

    private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private Prometheus() {
    }

    /** The scrape, or "" if it failed. */
    public static String scrape(String url) {
        try {
            HttpResponse<String> r = CLIENT.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 ? r.body() : "";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "";
        } catch (Exception e) {
            return "";
        }
    }

    /** The sum of every sample of {@code metric} whose labels contain {@code labelFragment} (NaN if none). */
    public static double value(String scrape, String metric, String labelFragment) {
        double sum = 0;
        boolean found = false;
        for (String line : scrape.split("\n")) {
            if (line.startsWith("#") || !line.startsWith(metric)) {
                continue;
            }
            String rest = line.substring(metric.length());
            if (!(rest.startsWith("{") || rest.startsWith(" "))) {
                continue; // a longer metric name with this prefix
            }
            if (!labelFragment.isEmpty() && !rest.contains(labelFragment)) {
                continue;
            }
            String[] parts = line.trim().split("\\s+");
            try {
                sum += Double.parseDouble(parts[parts.length - 1]);
                found = true;
            } catch (NumberFormatException ignored) {
                // not a sample line
            }
        }
        return found ? sum : Double.NaN;
    }
}
