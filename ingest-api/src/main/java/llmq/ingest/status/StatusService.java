package llmq.ingest.status;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import llmq.avro.Batch;
import llmq.avro.LlmResult;
import llmq.avro.RequestEvent;
import llmq.common.http.HealthCheck;
import llmq.common.json.Json;
import llmq.ingest.cluster.Peers;
import llmq.ingest.internal.avro.BatchMember;
import llmq.ingest.internal.avro.RequestStatus;
import llmq.ingest.tenants.Caller;
import llmq.topics.catalog.TopicCatalog;
import llmq.topics.catalog.TopicSerdes;
import llmq.topics.streams.StreamsApp;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyQueryMetadata;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.StreamsMetadata;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.HostInfo;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/**
 * The status view as a running Streams app ({@link StatusTopology}) and the queries on it. A query
 * for a key is answered from this instance's stores when it owns the key's partition, else
 * forwarded once to the owner's internal API ({@code /internal/v1/...}) with the caller's
 * credentials; queries over all requests of a batch, and the queue statistics, are gathered from
 * every instance. The app starts when the HTTP server is bound ({@link #start(HostInfo)}), because
 * its {@code application.server} is this instance's address.
 */
public final class StatusService implements AutoCloseable {

    /** The stores cannot answer right now (starting, restoring, rebalancing, owner unreachable); retry shortly. */
    public static final class Unavailable extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public Unavailable(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** What the stores hold for one request; either part may be null, not both. */
    public record Snapshot(RequestStatus status, LlmResult result) {
        /** The tenant the request belongs to. */
        public String tenantId() {
            return status != null ? status.getTenantId() : result.getTenantId();
        }
    }

    /** A batch member with its result, as the instance owning it sees it. */
    public record Member(BatchMember member, LlmResult result) {
    }

    private final Supplier<Topology> topology;
    private final Map<String, Object> props;
    private final MeterRegistry metrics;
    private final Peers peers;
    private final TopicSerdes serdes;
    private final String statusChangelog;
    private final String resultsTopic;
    private final QueueStats stats;
    private final java.time.Duration idempotencyWindow;
    private volatile StreamsApp app;
    private volatile HostInfo self;

    public StatusService(Supplier<Topology> topology, Map<String, Object> props, MeterRegistry metrics, Peers peers,
                         TopicSerdes serdes, TopicCatalog catalog, QueueStats stats, java.time.Duration idempotencyWindow) {
        this.idempotencyWindow = idempotencyWindow;
        this.topology = topology;
        this.props = new HashMap<>(props);
        this.metrics = metrics;
        this.peers = peers;
        this.serdes = serdes;
        this.statusChangelog = props.get(StreamsConfig.APPLICATION_ID_CONFIG) + "-" + StatusTopology.STATUS_STORE + "-changelog";
        this.resultsTopic = catalog.results().name();
        this.stats = stats;
    }

    /** Starts the Streams app, advertising {@code self} to the other instances. */
    public synchronized void start(HostInfo self) {
        if (app != null) {
            return;
        }
        this.self = self;
        Map<String, Object> p = new HashMap<>(props);
        p.putIfAbsent(StreamsConfig.APPLICATION_SERVER_CONFIG, self.host() + ":" + self.port());
        app = StreamsApp.start("ingest-status", topology.get(), p, metrics);
    }

    /** UP while the app runs or rebalances; DOWN before it started. */
    public HealthCheck health() {
        return () -> {
            StreamsApp a = app;
            return a == null ? HealthCheck.Status.down("not started") : a.health().check();
        };
    }

    /** This instance as the others reach it (null before {@link #start}). */
    public HostInfo self() {
        return self;
    }

    /** The running app (null before {@link #start}). */
    public StreamsApp app() {
        return app;
    }

    public QueueStats stats() {
        return stats;
    }

    // ---------------------------------------------------------------- requests

    /** The request as {@code caller} may see it: another tenant's request is absent. */
    public Optional<Snapshot> find(Caller caller, String id) {
        HostInfo owner = owner(StatusTopology.STATUS_STORE, id);
        if (owner == null) {
            return findLocal(caller.tenantId(), id);
        }
        Peers.Answer a = ask(owner, "/internal/v1/requests/" + Peers.segment(id), caller);
        if (a.status() == 404) {
            return Optional.empty();
        }
        JsonNode n = json(a);
        RequestStatus s = n.hasNonNull("status") ? serdes.value(RequestStatus.class).deserialize(statusChangelog,
                Base64.getDecoder().decode(n.get("status").asText())) : null;
        LlmResult r = n.hasNonNull("result") ? serdes.value(LlmResult.class).deserialize(resultsTopic,
                Base64.getDecoder().decode(n.get("result").asText())) : null;
        return s == null && r == null ? Optional.empty() : Optional.of(new Snapshot(s, r)).filter(x -> x.tenantId().equals(caller.tenantId()));
    }

    /** From this instance's stores only. */
    public Optional<Snapshot> findLocal(String tenantId, String id) {
        RequestStatus s;
        LlmResult r;
        try {
            s = kv(StatusTopology.STATUS_STORE, RequestStatus.class).get(id);
            r = kv(StatusTopology.RESULTS_STORE, LlmResult.class).get(id);
        } catch (InvalidStateStoreException e) {
            throw new Unavailable("status store not available: " + e.getMessage(), e);
        }
        if (s == null && r == null) {
            return Optional.empty();
        }
        Snapshot snap = new Snapshot(s, r);
        return snap.tenantId().equals(tenantId) ? Optional.of(snap) : Optional.empty();
    }

    /** The internal API's encoding of a snapshot: each part in the wire format, base64. */
    public ObjectNode encode(Snapshot s) {
        ObjectNode n = Json.mapper().createObjectNode();
        if (s.status() != null) {
            n.put("status", Base64.getEncoder().encodeToString(
                    serdes.value(RequestStatus.class).serialize(statusChangelog, s.status())));
        }
        if (s.result() != null) {
            n.put("result", Base64.getEncoder().encodeToString(serdes.value(LlmResult.class).serialize(resultsTopic, s.result())));
        }
        return n;
    }

    // ---------------------------------------------------------------- idempotency

    /** The request id first accepted under {@code dedupKey} ({@code tenant:key}) within the window. */
    public Optional<String> idempotency(Caller caller, String dedupKey) {
        if (!dedupKey.startsWith(caller.tenantId() + ":")) {
            return Optional.empty();
        }
        HostInfo owner = owner(StatusTopology.IDEMPOTENCY_STORE, dedupKey);
        if (owner == null) {
            return idempotencyLocal(dedupKey).map(RequestEvent::getRequestId);
        }
        Peers.Answer a = ask(owner, "/internal/v1/idempotency/" + Peers.segment(dedupKey), caller);
        return a.status() == 404 ? Optional.empty() : Optional.of(json(a).path("request_id").asText());
    }

    /** From this instance's store; an entry older than the window does not count. */
    public Optional<RequestEvent> idempotencyLocal(String dedupKey) {
        RequestEvent e;
        try {
            e = kv(StatusTopology.IDEMPOTENCY_STORE, RequestEvent.class).get(dedupKey);
        } catch (InvalidStateStoreException ex) {
            throw new Unavailable("status store not available: " + ex.getMessage(), ex);
        }
        if (e == null || e.getAt().isBefore(java.time.Instant.now().minus(idempotencyWindow))) {
            return Optional.empty();
        }
        return Optional.of(e);
    }

    // ---------------------------------------------------------------- batches

    /** A batch's metadata (every instance holds all batches). */
    public Optional<Batch> batch(String batchId) {
        try {
            return Optional.ofNullable(kv(StatusTopology.BATCHES_STORE, Batch.class).get(batchId));
        } catch (InvalidStateStoreException e) {
            throw new Unavailable("batch store not available: " + e.getMessage(), e);
        }
    }

    /** Every member of a batch known so far, gathered from all instances. */
    public List<Member> members(Caller caller, String batchId) {
        List<Member> out = new ArrayList<>(membersLocal(batchId));
        for (HostInfo other : others()) {
            Peers.Answer a = ask(other, "/internal/v1/batches/" + Peers.segment(batchId) + "/members", caller);
            for (JsonNode m : json(a).path("members")) {
                BatchMember bm = new BatchMember(m.path("request_id").asText(), m.hasNonNull("custom_id")
                        ? m.get("custom_id").asText() : null, m.path("state").asText(), m.path("done").asBoolean());
                LlmResult r = m.hasNonNull("result") ? serdes.value(LlmResult.class).deserialize(resultsTopic,
                        Base64.getDecoder().decode(m.get("result").asText())) : null;
                out.add(new Member(bm, r));
            }
        }
        return out;
    }

    /** The members of a batch in this instance's partitions, with their results. */
    public List<Member> membersLocal(String batchId) {
        List<Member> out = new ArrayList<>();
        ReadOnlyKeyValueStore<String, BatchMember> members = kv(StatusTopology.BATCH_MEMBERS_STORE, BatchMember.class);
        ReadOnlyKeyValueStore<String, LlmResult> results = kv(StatusTopology.RESULTS_STORE, LlmResult.class);
        try (KeyValueIterator<String, BatchMember> it = members.prefixScan(batchId + "|", Serdes.String().serializer())) {
            while (it.hasNext()) {
                BatchMember m = it.next().value;
                out.add(new Member(m, m.getDone() ? results.get(m.getRequestId()) : null));
            }
        } catch (InvalidStateStoreException e) {
            throw new Unavailable("status store not available: " + e.getMessage(), e);
        }
        return out;
    }

    /** The internal API's encoding of members. */
    public ObjectNode encode(List<Member> members) {
        ObjectNode n = Json.mapper().createObjectNode();
        var arr = n.putArray("members");
        for (Member m : members) {
            ObjectNode o = arr.addObject().put("request_id", m.member().getRequestId())
                    .put("custom_id", m.member().getCustomId()).put("state", m.member().getState())
                    .put("done", m.member().getDone());
            if (m.result() != null) {
                o.put("result", Base64.getEncoder().encodeToString(serdes.value(LlmResult.class).serialize(resultsTopic, m.result())));
            }
        }
        return n;
    }

    // ---------------------------------------------------------------- queue statistics

    /** Every instance's queue statistics (this one's first). */
    public List<QueueStats.Sample> allStats(Caller caller) {
        List<QueueStats.Sample> out = new ArrayList<>();
        out.add(stats.sample());
        for (HostInfo other : others()) {
            try {
                out.add(Json.mapper().readValue(ask(other, "/internal/v1/queues", caller).body(),
                        new TypeReference<QueueStats.Sample>() { }));
            } catch (IOException | RuntimeException e) {
                // statistics of an unreachable instance are left out; the answer says how many instances it covers
            }
        }
        return out;
    }

    // ---------------------------------------------------------------- plumbing

    /** The other instance owning {@code key} of {@code store}, or null when this instance does. */
    private HostInfo owner(String store, String key) {
        KafkaStreams streams = streams();
        KeyQueryMetadata where;
        try {
            where = streams.queryMetadataForKey(store, key, Serdes.String().serializer());
        } catch (RuntimeException e) {
            throw new Unavailable("status view not available: " + e.getMessage(), e);
        }
        if (where == null || where == KeyQueryMetadata.NOT_AVAILABLE || where.activeHost() == null
                || where.activeHost().port() <= 0) {
            throw new Unavailable("status view is rebalancing", null);
        }
        return where.activeHost().equals(self) ? null : where.activeHost();
    }

    /** The other instances running the status app, when every partition has an owner. */
    private List<HostInfo> others() {
        KafkaStreams streams = streams();
        List<HostInfo> out = new ArrayList<>();
        Set<org.apache.kafka.common.TopicPartition> owned = new HashSet<>();
        for (StreamsMetadata m : streams.metadataForAllStreamsClients()) {
            owned.addAll(m.topicPartitions());
            if (!m.hostInfo().equals(self) && m.hostInfo().port() > 0) {
                out.add(m.hostInfo());
            }
        }
        if (owned.isEmpty()) {
            throw new Unavailable("status view is rebalancing", null);
        }
        return out;
    }

    private Peers.Answer ask(HostInfo host, String path, Caller caller) {
        Peers.Answer a;
        try {
            a = peers.get(host, path, caller.authorization());
        } catch (Peers.Unreachable e) {
            throw new Unavailable(e.getMessage(), e);
        }
        if (a.status() != 200 && a.status() != 404) {
            throw new Unavailable("ingest instance " + host + " answered " + a.status(), null);
        }
        return a;
    }

    private static JsonNode json(Peers.Answer a) {
        try {
            return Json.mapper().readTree(a.body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private KafkaStreams streams() {
        StreamsApp a = app;
        if (a == null) {
            throw new Unavailable("status view is starting", null);
        }
        return a.streams();
    }

    private <V> ReadOnlyKeyValueStore<String, V> kv(String store, Class<V> type) {
        try {
            return streams().store(StoreQueryParameters.fromNameAndType(store, QueryableStoreTypes.<String, V>keyValueStore()));
        } catch (InvalidStateStoreException e) {
            throw new Unavailable("status store not available: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        StreamsApp a = app;
        if (a != null) {
            a.close();
        }
    }
}
