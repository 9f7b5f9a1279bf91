package llmq.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import llmq.avro.LlmResult;
import llmq.avro.Priority;
import llmq.avro.QueuedRequest;
import llmq.avro.ResultStatus;
import llmq.avro.UsageEvent;
import llmq.modelsim.ModelSimConfig;
import llmq.modelsim.ModelSimulator;
import llmq.modelsim.audit.Audit;
import llmq.testsupport.Infra;
import llmq.testsupport.IntegrationTest;
import llmq.testsupport.KafkaIo;
import llmq.testsupport.KafkaIo.Received;
import llmq.topics.catalog.TopicCatalog;
import llmq.worker.testing.Requests;
import llmq.worker.testing.WorkerRig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code kill -9} of a worker process under load, then a restart: every request completes, and
 * the model simulator's audit and {@code llm.usage}, each deduplicated by request id, agree
 * request by request and tenant by tenant. The worker runs as a real separate JVM (the test's
 * classpath, {@code llmq.worker.WorkerService}) that the test destroys forcibly.
 */
@IntegrationTest
class WorkerCrashIT {

    private static final Logger LOG = LoggerFactory.getLogger(WorkerCrashIT.class);
    private static final int REQUESTS = 600;

    private final WorkerRig rig;
    private final TopicCatalog catalog;
    private final KafkaIo kafka;
    private final String run;
    private ModelSimulator sim;

    WorkerCrashIT(Infra infra) {
        this.rig = new WorkerRig(infra);
        this.catalog = rig.catalog();
        this.kafka = rig.kafka();
        this.run = rig.run();
    }

    @AfterEach
    void stop() throws Exception {
        rig.close();
    }

    @Test
    void shouldCompleteEveryRequestAfterAKillAndBillEachOnceAsTheModelServedIt() throws Exception {
        sim = rig.simulator(Map.of(ModelSimConfig.TTFT, "40ms", ModelSimConfig.JITTER, "0.8"));
        String group = rig.newGroup("it-crash");
        Map<String, QueuedRequest> sent = new HashMap<>();
        List<String> tenants = List.of("acme-" + run, "globex-" + run, "initech-" + run);
        for (int i = 0; i < REQUESTS; i++) {
            QueuedRequest q = Requests.queued(tenants.get(i % 3), Priority.values()[i % 4], "crash test " + i,
                    Instant.now().truncatedTo(ChronoUnit.MILLIS));
            sent.put(q.getRequest().getId(), q);
            kafka.send(catalog.queue(q.getPriority()), q.getRequest().getId(), q);
        }

        Process first = startWorker(group, "first");
        List<Received<LlmResult>> before = kafka.await(catalog.results(), r -> sent.containsKey(r.key()), REQUESTS / 4);
        int inFlightAtKill = sim.inFlight();
        first.destroyForcibly();
        assertThat(first.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(before.size()).as("results before the kill").isGreaterThanOrEqualTo(REQUESTS / 4);
        assertThat(inFlightAtKill).as("calls in flight when the worker was killed").isPositive();
        assertThat(sim.audit().servedCount()).as("the kill came before the end of the work").isLessThan(REQUESTS);

        Process second = startWorker(group, "second");
        // wait for every request id
        Set<String> done = KafkaIo.until(() -> kafka.readAll(catalog.results(), r -> sent.containsKey(r.key())).stream()
                .map(Received::key).collect(Collectors.toSet()), ids -> ids.size() == REQUESTS);
        assertThat(done).hasSize(REQUESTS);
        second.destroy(); // SIGTERM: finishes in-flight calls and commits
        assertThat(second.waitFor(60, TimeUnit.SECONDS)).isTrue();

        Map<String, LlmResult> finalResults = new HashMap<>();
        List<Received<LlmResult>> resultRecords = kafka.readAll(catalog.results(), r -> sent.containsKey(r.key()));
        resultRecords.forEach(r -> finalResults.put(r.key(), r.value()));
        // outcomes commit with their offsets: what the killed worker wrote after its last commit was aborted
        assertThat(resultRecords).as("result records (one per request)").hasSize(REQUESTS);
        assertThat(finalResults).as("every request has a result").containsOnlyKeys(sent.keySet());
        assertThat(finalResults.values()).allSatisfy(r -> assertThat(r.getStatus()).isEqualTo(ResultStatus.COMPLETED));

        // the billing invariant: what the model served and what llm.usage reports, each request once
        Map<String, UsageEvent> usage = new HashMap<>();
        List<Received<UsageEvent>> usageRecords = kafka.readAll(catalog.usage(),
                u -> sent.containsKey(u.value().getRequestId()));
        usageRecords.forEach(u -> usage.putIfAbsent(u.value().getRequestId(), u.value()));
        assertThat(usageRecords).as("usage records (one per request)").hasSize(REQUESTS);
        Map<String, Audit.Entry> served = new HashMap<>();
        List<Audit.Entry> servedCalls = sim.audit().entries().stream()
                .filter(e -> e.status() == 200 && sent.containsKey(e.requestId())).toList();
        servedCalls.forEach(e -> served.putIfAbsent(e.requestId(), e));
        assertThat(usage.keySet()).isEqualTo(served.keySet()).isEqualTo(sent.keySet());
        for (String id : sent.keySet()) {
            assertThat(usage.get(id).getPromptTokens()).as("prompt tokens of %s", id).isEqualTo(served.get(id).promptTokens());
            assertThat(usage.get(id).getCompletionTokens()).as("completion tokens of %s", id)
                    .isEqualTo(served.get(id).completionTokens());
        }
        assertThat(perTenant(usage.values().stream().collect(Collectors.toMap(UsageEvent::getRequestId,
                u -> new long[] {u.getPromptTokens(), u.getCompletionTokens()})), sent))
                .isEqualTo(perTenant(served.values().stream().collect(Collectors.toMap(Audit.Entry::requestId,
                        e -> new long[] {e.promptTokens(), e.completionTokens()})), sent));
        String skipped = Files.readAllLines(Path.of("target", "worker-crash-second-" + run + ".log")).stream()
                .filter(l -> l.contains("finished by the previous owner")).collect(Collectors.joining("; "));
        LOG.info("kill -9 under load: {} results before the kill, {} calls in flight at the kill; {} model calls for {} "
                + "requests ({} ran twice), {} usage records; skipped after the restart: {}", before.size(),
                inFlightAtKill, servedCalls.size(), REQUESTS, servedCalls.size() - served.size(), usageRecords.size(),
                skipped.isEmpty() ? "none" : skipped);
    }

    private static Map<String, List<Long>> perTenant(Map<String, long[]> tokensById, Map<String, QueuedRequest> sent) {
        Map<String, long[]> sums = new TreeMap<>();
        tokensById.forEach((id, t) -> {
            long[] s = sums.computeIfAbsent(sent.get(id).getRequest().getTenantId(), k -> new long[3]);
            s[0]++;
            s[1] += t[0];
            s[2] += t[1];
        });
        Map<String, List<Long>> out = new TreeMap<>();
        sums.forEach((k, v) -> out.put(k, List.of(v[0], v[1], v[2])));
        return out;
    }

    private Process startWorker(String group, String name) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Path log = Path.of("target", "worker-crash-" + name + "-" + run + ".log");
        Files.createDirectories(log.getParent());
        List<String> cmd = new ArrayList<>(List.of(java, "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path"), "llmq.worker.WorkerService"));
        Map<String, String> settings = new TreeMap<>(Map.of(
                "kafka.bootstrap.servers", rig.infra().bootstrapServers(),
                "registry.url", rig.infra().registryUrl(),
                "worker.group-id", group,
                "worker.id", "crash-" + name,
                "worker.admin.port", "0",
                "worker.max-in-flight", "8",
                "worker.health.interval", "0",
                "worker.endpoint.url", sim.baseUrl(),
                "worker.endpoint.name", "sim",
                "worker.shutdown-grace", "20s"));
        // the killed member holds its partitions until its session times out: keep that short (broker minimum)
        settings.put("kafka.client.session.timeout.ms", "6000");
        settings.forEach((k, v) -> {
            cmd.add("--set");
            cmd.add(k + "=" + v);
        });
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        rig.track(() -> {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        });
        LOG.info("started worker {} as pid {} (log {})", name, p.pid(), log.toAbsolutePath());
        return p;
    }
}
