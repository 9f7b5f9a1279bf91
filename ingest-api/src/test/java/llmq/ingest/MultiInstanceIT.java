package llmq.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import llmq.avro.LlmRequest;
import llmq.avro.LlmResult;
import llmq.avro.Priority;
import llmq.avro.ResultStatus;
import llmq.avro.Usage;
import llmq.ingest.status.StatusService;
import llmq.ingest.status.StatusTopology;
import llmq.ingest.support.Api;
import llmq.ingest.support.Tenants;
import llmq.ingest.tenants.Caller;
import llmq.ingest.tenants.Tenant;
import llmq.testsupport.Infra;
import llmq.testsupport.IntegrationTest;
import llmq.testsupport.KafkaIo;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.state.HostInfo;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Two ingest instances sharing the status view (one Streams application id): a request's status, an
 * idempotency key and a batch's progress and results are answered by either instance, whichever owns
 * the partitions — queries for the other's partitions are forwarded with the caller's credentials.
 */
@IntegrationTest
class MultiInstanceIT {

    static Infra infra;
    static IngestApi a;
    static IngestApi b;
    static Api apiA;
    static Api apiB;
    static Tenants.Created acme;
    static Tenants.Created globex;

    @BeforeAll
    static void start(Infra shared) {
        infra = shared;
        acme = Tenants.create(infra, "multi-acme", Priority.HIGH, null, null);
        globex = Tenants.create(infra, "multi-globex", Priority.HIGH, null, null);
        String app = "multi-it-" + UUID.randomUUID();
        a = IngestApi.start(settings(app, "a"));
        b = IngestApi.start(settings(app, "b"));
        apiA = new Api(a.url());
        apiB = new Api(b.url());
        // both instances own partitions of the status view before the tests start
        KafkaIo.until(() -> owners(a), o -> o.size() == 2 && ready(a) && ready(b));
        assertThat(owners(a)).as("both instances own status partitions").hasSize(2);
    }

    private static llmq.common.config.Settings settings(String app, String name) {
        return infra.settings(Map.of(
                "ingest.port", "0",
                "ingest.models", "m",
                "ingest.status.application-id", app,
                "ingest.status.state-dir", infra.newDirectory("multi-" + name).toString(),
                "ingest.callbacks.group-id", app + "-callbacks"));
    }

    @AfterAll
    static void stop() {
        for (IngestApi i : new IngestApi[] {b, a}) {
            if (i != null) {
                i.close();
            }
        }
    }

    private static boolean ready(IngestApi i) {
        return i.bean(StatusService.class).app().streams().state() == KafkaStreams.State.RUNNING;
    }

    private static Set<HostInfo> owners(IngestApi i) {
        Set<HostInfo> out = new HashSet<>();
        i.bean(StatusService.class).app().streams().metadataForAllStreamsClients().forEach(m -> {
            if (!m.topicPartitions().isEmpty()) {
                out.add(m.hostInfo());
            }
        });
        return out;
    }

    private static HostInfo owner(String store, String key) {
        return a.bean(StatusService.class).app().streams().queryMetadataForKey(store, key, Serdes.String().serializer()).activeHost();
    }

    private static JsonNode json(HttpResponse<String> r) {
        return Api.json(r);
    }

    @Test
    void shouldAnswerAnyRequestsStatusFromEitherInstance() {
        List<String> ids = new ArrayList<>();
        // request ids hash to partitions of either instance: submit until each instance owns some
        // (a run of 40 on one instance's partitions has odds of 2^-39)
        Set<HostInfo> seen = new HashSet<>();
        for (int i = 0; i < 40 && (ids.size() < 12 || seen.size() < 2); i++) {
            HttpResponse<String> r = apiA.post("/v1/requests", acme.key(), Api.request("m", "multi " + i));
            assertThat(r.statusCode()).isEqualTo(202);
            String id = json(r).path("id").asText();
            ids.add(id);
            seen.add(owner(StatusTopology.STATUS_STORE, id));
        }
        Set<HostInfo> owners = new HashSet<>();
        for (String id : ids) {
            HttpResponse<String> viaB = KafkaIo.until(() -> apiB.get("/v1/requests/" + id, acme.key()), r -> r.statusCode() == 200);
            assertThat(viaB.statusCode()).as("GET %s via the other instance", id).isEqualTo(200);
            assertThat(json(viaB).path("id").asText()).isEqualTo(id);
            assertThat(apiB.get("/v1/requests/" + id, globex.key()).statusCode()).isEqualTo(404);
            assertThat(apiA.get("/v1/requests/" + id, globex.key()).statusCode()).isEqualTo(404);
            owners.add(owner(StatusTopology.STATUS_STORE, id));
        }
        assertThat(owners).as("the requests live on both instances, so some answers were forwarded").hasSize(2);
    }

    @Test
    void shouldFindAnIdempotencyKeyAcceptedByTheOtherInstance() {
        Caller caller = new Caller(new Tenant(acme.id(), acme.id(), "standard", Priority.NORMAL, Priority.HIGH, 1.0),
                "Bearer " + acme.key());
        Set<HostInfo> owners = new HashSet<>();
        // keys hash to partitions of either instance: go on until each instance owned one (a run of
        // 40 keys on one instance's partitions has odds of 2^-39)
        for (int i = 0; i < 40 && owners.size() < 2; i++) {
            String key = "multi-key-" + i + "-" + UUID.randomUUID();
            String id = json(apiA.post("/v1/requests", acme.key(), Api.request("m", "once"), "Idempotency-Key", key)).path("id").asText();
            assertThat(KafkaIo.until(() -> {
                try {
                    return b.bean(StatusService.class).idempotency(caller, acme.id() + ":" + key);
                } catch (RuntimeException e) {
                    return java.util.Optional.<String>empty();
                }
            }, java.util.Optional::isPresent)).contains(id);
            HttpResponse<String> again = apiB.post("/v1/requests", acme.key(), Api.request("m", "once"), "Idempotency-Key", key);
            assertThat(again.statusCode()).isEqualTo(200);
            assertThat(json(again).path("id").asText()).isEqualTo(id);
            owners.add(owner(StatusTopology.IDEMPOTENCY_STORE, acme.id() + ":" + key));
        }
        assertThat(owners).as("keys owned by both instances").hasSize(2);
    }

    @Test
    void shouldGatherABatchsProgressAndResultsFromBothInstances() throws Exception {
        StringBuilder body = new StringBuilder();
        Set<String> customIds = new TreeSet<>();
        for (int i = 0; i < 20; i++) {
            customIds.add("c" + i);
            body.append("{\"custom_id\":\"c").append(i).append("\",\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"b")
                    .append(i).append("\"}]}\n");
        }
        HttpResponse<String> r = apiA.post("/v1/batches", acme.key(), body.toString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        String batch = json(r).path("id").asText();
        // the test plays the worker: every request of the batch gets its result
        Set<HostInfo> owners = new HashSet<>();
        try (KafkaIo io = new KafkaIo(infra)) {
            List<KafkaIo.Received<LlmRequest>> requests = io.await(infra.catalog().intake(Priority.NORMAL),
                    x -> batch.equals(x.value().getBatchId()), 20);
            assertThat(requests).hasSize(20);
            for (KafkaIo.Received<LlmRequest> q : requests) {
                String id = q.value().getId();
                owners.add(owner(StatusTopology.STATUS_STORE, id));
                io.send(infra.catalog().results(), id, LlmResult.newBuilder().setRequestId(id).setTenantId(acme.id())
                        .setStatus(ResultStatus.COMPLETED).setModel("m").setOutput("answer " + q.value().getCustomId())
                        .setUsage(new Usage(1, 2, 0, false)).setAttempts(1).setCompletedAt(Instant.now()).build());
            }
        }
        assertThat(owners).as("the batch's requests are spread over both instances").hasSize(2);
        JsonNode progress = KafkaIo.until(() -> json(apiB.get("/v1/batches/" + batch, acme.key())),
                n -> n.path("status").asText().equals("completed"));
        assertThat(progress.path("done").asInt()).isEqualTo(20);
        String[] lines = apiB.get("/v1/batches/" + batch + "/results", acme.key()).body().split("\n");
        Set<String> seen = new TreeSet<>();
        for (String line : lines) {
            JsonNode l = llmq.common.json.Json.mapper().readTree(line);
            seen.add(l.path("custom_id").asText());
            assertThat(l.path("output").asText()).isEqualTo("answer " + l.path("custom_id").asText());
        }
        assertThat(seen).isEqualTo(customIds);
        assertThat(apiB.get("/v1/batches/" + batch, globex.key()).statusCode()).isEqualTo(404);
    }
}
