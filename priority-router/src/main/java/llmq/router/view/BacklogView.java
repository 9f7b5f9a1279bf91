package llmq.router.view;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import llmq.avro.Priority;
import llmq.avro.router.RouterEntry;
import llmq.avro.router.RouterState;
import llmq.common.http.AdminServer;
import llmq.common.json.Json;
import llmq.router.schedule.SchedulerProcessor;
import llmq.topics.catalog.TopicCatalog;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyQueryMetadata;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.StreamsMetadata;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.HostInfo;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/**
 * The router's read-only HTTP view, on its admin port:
 *
 * <ul>
 *   <li>{@code GET /v1/backlog}: per level, parked (eligible), delayed (not_before or retry) and
 *       queued (released, not started) requests and the release rate, summed over every router
 *       instance ({@code ?scope=local} for this instance only);</li>
 *   <li>{@code GET /v1/requests/{id}/position}: where a request is — parked at a level with its
 *       position and an estimated wait, delayed until a time, queued or running — answered by the
 *       instance that owns the request's partition (interactive queries; other instances forward).</li>
 * </ul>
 * The position counts parked requests of the same level that arrived earlier; the estimated wait
 * divides it by the level's recent release rate. Both are estimates: fairness across tenants
 * and promotions reorder the backlog.
 */
public final class BacklogView {

    private final KafkaStreams streams;
    private final RouterMetrics metrics;
    private final HostInfo self;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    public BacklogView(KafkaStreams streams, RouterMetrics metrics, HostInfo self) {
        this.streams = streams;
        this.metrics = metrics;
        this.self = self;
    }

    /** Installs the routes on the admin server. */
    public void install(AdminServer admin) {
        admin.route("/v1/backlog", ex -> answer(ex, () -> backlog(ex)));
        admin.route("/v1/requests/", ex -> answer(ex, () -> position(ex)));
    }

    private interface Body {
        JsonNode get() throws Exception;
    }

    private static void answer(HttpExchange ex, Body body) throws IOException {
        if (!"GET".equals(ex.getRequestMethod())) {
            AdminServer.respond(ex, 405, "application/json", "{\"error\":{\"type\":\"method_not_allowed\"}}");
            return;
        }
        try {
            JsonNode n = body.get();
            int status = n.has("error") ? n.path("status").asInt(404) : 200;
            if (n.has("error")) {
                ((ObjectNode) n).remove("status");
            }
            AdminServer.respond(ex, status, "application/json", Json.mapper().writeValueAsString(n));
        } catch (InvalidStateStoreException e) {
            AdminServer.respond(ex, 503, "application/json",
                    "{\"error\":{\"type\":\"unavailable\",\"message\":\"router state is being restored; retry shortly\"}}");
        } catch (Exception e) {
            AdminServer.respond(ex, 500, "application/json", Json.mapper().writeValueAsString(
                    Json.mapper().createObjectNode().putObject("error").put("type", "internal").put("message", e.toString())));
        }
    }

    private JsonNode backlog(HttpExchange ex) throws Exception {
        ObjectNode out = Json.mapper().createObjectNode();
        long now = System.currentTimeMillis();
        ObjectNode levels = out.putObject("levels");
        for (Priority p : Priority.values()) {
            levels.putObject(TopicCatalog.level(p))
                    .put("parked", metrics.parked(p))
                    .put("delayed", metrics.delayed(p))
                    .put("queued", metrics.queued(p))
                    .put("releases_per_second", metrics.releaseRate(p, now));
        }
        boolean local = "scope=local".equals(ex.getRequestURI().getQuery());
        int instances = 1;
        if (!local) {
            for (StreamsMetadata m : streams.metadataForAllStreamsClients()) {
                if (m.hostInfo().equals(self) || m.hostInfo().port() <= 0) {
                    continue;
                }
                JsonNode other = get(m.hostInfo(), "/v1/backlog?scope=local");
                instances++;
                for (Priority p : Priority.values()) {
                    ObjectNode mine = (ObjectNode) levels.get(TopicCatalog.level(p));
                    JsonNode theirs = other.path("levels").path(TopicCatalog.level(p));
                    for (String f : new String[] {"parked", "delayed", "queued"}) {
                        mine.put(f, mine.path(f).asLong() + theirs.path(f).asLong());
                    }
                    mine.put("releases_per_second", mine.path("releases_per_second").asDouble()
                            + theirs.path("releases_per_second").asDouble());
                }
            }
        }
        out.put("instances", instances);
        out.put("scope", local ? "local" : "all");
        return out;
    }

    private JsonNode position(HttpExchange ex) throws Exception {
        String path = ex.getRequestURI().getPath();
        if (!path.endsWith("/position")) {
            return error(404, "not_found", "unknown path " + path);
        }
        String id = path.substring("/v1/requests/".length(), path.length() - "/position".length());
        KeyQueryMetadata where = streams.queryMetadataForKey(SchedulerProcessor.REQUESTS_STORE, id, Serdes.String().serializer());
        if (where != null && where.activeHost() != null && where.activeHost().port() > 0 && !where.activeHost().equals(self)) {
            return get(where.activeHost(), path);
        }
        ReadOnlyKeyValueStore<String, RouterEntry> store = streams.store(StoreQueryParameters.fromNameAndType(
                SchedulerProcessor.REQUESTS_STORE, QueryableStoreTypes.keyValueStore()));
        RouterEntry e = store.get(id);
        if (e == null || e.getQueued() == null) {
            return error(404, "not_found", "request " + id + " is not waiting in the router (finished, or not yet admitted)");
        }
        ObjectNode out = Json.mapper().createObjectNode();
        out.put("id", id);
        out.put("tenant_id", e.getQueued().getRequest().getTenantId());
        out.put("level", TopicCatalog.level(e.getLevel()));
        out.put("attempt", e.getQueued().getAttempt());
        out.put("promotions", e.getQueued().getPromotions().size());
        switch (e.getState()) {
            case PARKED -> {
                long ahead = ahead(store, e);
                double rate = metrics.releaseRate(e.getLevel(), System.currentTimeMillis());
                out.put("state", "parked");
                out.put("position", ahead + 1);
                if (rate > 0) {
                    out.put("estimated_wait_ms", Math.round((ahead + 1) / rate * 1000));
                }
            }
            case DELAYED -> {
                out.put("state", "delayed");
                out.put("eligible_at", e.getEligibleAt().toString());
            }
            case RELEASED -> out.put("state", "queued");
            case STARTED -> out.put("state", "running");
            default -> out.put("state", e.getState().name().toLowerCase());
        }
        return out;
    }

    /** Parked requests of the same level, in this partition's store, that arrived before {@code e}. */
    private static long ahead(ReadOnlyKeyValueStore<String, RouterEntry> store, RouterEntry e) {
        Instant arrival = e.getQueued().getAcceptedAt();
        long n = 0;
        try (KeyValueIterator<String, RouterEntry> it = store.all()) {
            while (it.hasNext()) {
                RouterEntry other = it.next().value;
                if (other.getState() == RouterState.PARKED && other.getLevel() == e.getLevel()
                        && other.getQueued() != null && other.getQueued().getAcceptedAt().isBefore(arrival)) {
                    n++;
                }
            }
        }
        return n;
    }

    private JsonNode get(HostInfo host, String path) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://" + host.host() + ":" + host.port() + path))
                .timeout(Duration.ofSeconds(5)).GET().build(), HttpResponse.BodyHandlers.ofString());
        JsonNode n = Json.mapper().readTree(r.body());
        if (r.statusCode() != 200 && n.isObject()) {
            ((ObjectNode) n).put("status", r.statusCode());
        }
        return n;
    }

    private static JsonNode error(int status, String type, String message) {
        ObjectNode n = Json.mapper().createObjectNode();
        n.putObject("error").put("type", type).put("message", message);
        n.put("status", status);
        return n;
    }
}
