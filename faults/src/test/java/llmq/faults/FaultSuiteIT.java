package llmq.faults;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import llmq.avro.DeadLetter;
import llmq.avro.LlmResult;
import llmq.common.auth.ApiKeys;
import llmq.common.json.Json;
import llmq.common.kafka.KafkaConfig;
import llmq.embedded.kafka.EmbeddedKafka;
import llmq.embedded.postgres.LocalPostgres;
import llmq.modelsim.ModelSimConfig;
import llmq.modelsim.ModelSimulator;
import llmq.modelsim.audit.Audit;
import llmq.modelsim.faults.FaultSettings;
import llmq.registry.RegistryConfig;
import llmq.registry.RegistryServer;
import llmq.schemas.registry.HttpSchemaRegistryClient;
import llmq.standalone.DevSeed;
import llmq.topics.catalog.TopicCatalog;
import llmq.topics.catalog.TopicSerdes;
import llmq.topics.provision.TopicProvisioner;
import llmq.topics.replay.Position;
import llmq.topics.replay.TopicRange;
import llmq.common.config.Settings;
import llmq.testsupport.ServiceProcess;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.Test;

/**
 * The guarantees under failure. Every service runs as its own JVM on a real broker (also its
 * own JVM) and a real PostgreSQL, under steady load from a generator, while the test kills
 * router, worker, billing-stream and ingest-api with {@code kill -9} several times, stops and
 * restarts the broker, stops PostgreSQL for 30 s, and has the model fail 30 % of calls (429
 * with Retry-After and 500). A few requests name a model the endpoint does not serve: those,
 * and only those plus requests whose four attempts all met an injected fault, may end in the
 * dead-letter topic. After the load stops and the system drains, the auditor checks:
 *
 * <ul>
 *   <li>every request the generator saw accepted (202) has exactly one final status — none lost;</li>
 *   <li>the billed rows in PostgreSQL are exactly the completed requests, and for every tenant the
 *       tokens billed equal the tokens the model simulator served, each request id once — nothing
 *       double-billed;</li>
 *   <li>every dead letter was meant to fail.</li>
 * </ul>
 */
class FaultSuiteIT {

    private static final Duration LOAD = Duration.ofSeconds(90);
    private static final int RATE_PER_SECOND = 12;
    private static final List<String> TENANTS = List.of("dev", "acme", "globex");

    private final Path dir = Path.of("target", "faults-" + UUID.randomUUID().toString().substring(0, 8)).toAbsolutePath();
    private final Map<String, ServiceProcess> running = new ConcurrentHashMap<>();
    private final Map<String, Integer> restarts = new ConcurrentHashMap<>();
    private final Map<String, Map<String, String>> configs = new HashMap<>();

    @Test
    void shouldLoseNothingAndBillNothingTwiceWhileEverythingFails() throws Exception {
        Files.createDirectories(dir);
        int kafkaPort = EmbeddedKafka.freePort();
        int controllerPort = EmbeddedKafka.freePort();
        int ingestPort = EmbeddedKafka.freePort();
        String bootstrap = "127.0.0.1:" + kafkaPort;

        start("broker", "llmq.embedded.kafka.BrokerMain", Map.of("broker.data-dir", dir.resolve("kafka").toString(),
                "broker.port", Integer.toString(kafkaPort), "broker.controller-port", Integer.toString(controllerPort)));
        awaitBroker(bootstrap);
        KafkaConfig kafka = new KafkaConfig(bootstrap, "http://unused", Map.of());
        try (LocalPostgres pg = LocalPostgres.start(dir.resolve("postgres"), 0);
             RegistryServer registry = RegistryServer.start(RegistryConfig.from(Settings.of(Map.of("registry.port", "0"))), kafka);
             ModelSimulator model = ModelSimulator.start(ModelSimConfig.from(Settings.of(Map.of(
                     "modelsim.port", "0", "modelsim.models", "sim-small,sim-large", "modelsim.ttft", "20ms",
                     "modelsim.seed", "7"))))) {
            try (Admin admin = Admin.create(kafka.common("faults-admin"))) {
                new TopicProvisioner(admin, TopicCatalog.defaults()).apply();
            }
            Map<String, String> keys = seed(pg);
            model.faults().set(FaultSettings.NONE.withRateLimitRate(0.15).withRetryAfter(Duration.ofSeconds(1))
                    .withServerErrorRate(0.15));

            Map<String, String> common = new HashMap<>();
            common.put("kafka.bootstrap.servers", bootstrap);
            common.put("registry.url", registry.url());
            common.put("db.url", pg.jdbcUrl());
            common.put("db.user", LocalPostgres.DATABASE);
            configs.put("router", with(common, "router.state-dir", dir.resolve("router").toString(), "router.admin.port", "0"));
            configs.put("worker", with(common, "worker.endpoint.url", model.baseUrl(), "worker.endpoint.name", "model-sim",
                    "worker.admin.port", "0", "worker.retry.initial-backoff", "200ms", "worker.retry.max-backoff", "2s"));
            configs.put("billing", with(common, "billing.state-dir", dir.resolve("billing").toString(), "billing.admin.port", "0"));
            configs.put("ingest", with(common, "ingest.port", Integer.toString(ingestPort),
                    "ingest.status.state-dir", dir.resolve("ingest-status").toString()));
            start("router", "llmq.router.RouterService", configs.get("router"));
            start("worker", "llmq.worker.WorkerService", configs.get("worker"));
            start("billing", "llmq.billing.BillingService", configs.get("billing"));
            start("ingest", "llmq.ingest.IngestApi", configs.get("ingest"));
            awaitHealthy("http://127.0.0.1:" + ingestPort + "/health");

            Load load = new Load("http://127.0.0.1:" + ingestPort, keys);
            Thread generator = new Thread(load, "load-generator");
            long t0 = System.nanoTime();
            generator.start();
            chaos(t0, pg, kafkaPort, controllerPort);
            generator.join();
            model.faults().clear();
            System.out.printf("load done: %d accepted, %d refused or unreachable%n", load.accepted.size(), load.refused.get());

            TopicSerdes serdes = new TopicSerdes(new HttpSchemaRegistryClient(registry.url()));
            Audit audit = model.audit();
            Report report = awaitDrained(kafka, serdes, load, pg);
            report.print(load, audit);

            assertThat(load.accepted).as("the load was accepted at all").hasSizeGreaterThan(200);
            assertThat(report.lost).as("accepted requests without a final status").isEmpty();
            assertThat(report.conflicting).as("requests with two different final statuses").isEmpty();
            assertThat(report.billedIds).as("billed rows are exactly the completed requests")
                    .isEqualTo(report.completed);
            assertThat(report.unexpectedDeadLetters).as("dead letters that were not meant to fail").isEmpty();
            Map<String, long[]> served = servedTokensByTenant(audit, load.accepted.keySet());
            assertThat(report.billedTokensByTenant).as("tokens billed per tenant vs served per tenant (each request once)")
                    .isEqualTo(asMap(served));
        } finally {
            for (ServiceProcess p : running.values()) {
                p.close();
            }
        }
    }

    // ---------------------------------------------------------------- chaos

    private void chaos(long t0, LocalPostgres pg, int kafkaPort, int controllerPort) throws Exception {
        Random random = new Random(42);
        String[] order = {"router", "worker", "billing", "ingest"};
        for (String s : order) {
            at(t0, 6 + random.nextInt(4) + 8 * List.of(order).indexOf(s));
            kill9AndRestart(s);
        }
        at(t0, 40);
        System.out.println("chaos: stopping the broker");
        running.get("broker").stop(30);
        Thread.sleep(6_000);
        start("broker", "llmq.embedded.kafka.BrokerMain", Map.of("broker.data-dir", dir.resolve("kafka").toString(),
                "broker.port", Integer.toString(kafkaPort), "broker.controller-port", Integer.toString(controllerPort)));
        at(t0, 52);
        System.out.println("chaos: stopping PostgreSQL for 30 s");
        pg.stop();
        for (String s : order) {
            at(t0, 56 + 6 * List.of(order).indexOf(s) + random.nextInt(3));
            kill9AndRestart(s);
        }
        at(t0, 82);
        pg.start();
        System.out.println("chaos: PostgreSQL back");
    }

    private void kill9AndRestart(String service) throws Exception {
        System.out.printf("chaos: kill -9 %s%n", service);
        running.get(service).kill();
        Thread.sleep(1_500);
        String main = switch (service) {
            case "router" -> "llmq.router.RouterService";
            case "worker" -> "llmq.worker.WorkerService";
            case "billing" -> "llmq.billing.BillingService";
            default -> "llmq.ingest.IngestApi";
        };
        start(service, main, configs.get(service));
    }

    private static void at(long t0, int second) throws InterruptedException {
        long wait = t0 + Duration.ofSeconds(second).toNanos() - System.nanoTime();
        if (wait > 0) {
            Thread.sleep(wait / 1_000_000);
        }
    }

    private void start(String name, String main, Map<String, String> settings) throws Exception {
        int n = restarts.merge(name, 1, Integer::sum);
        running.put(name, ServiceProcess.start(main, settings, dir.resolve("logs").resolve(name + "-" + n + ".log")));
    }

    private static Map<String, String> with(Map<String, String> base, String... kv) {
        Map<String, String> m = new HashMap<>(base);
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return m;
    }

    // ---------------------------------------------------------------- set-up

    /** Tenants with keys, and a price for a model no endpoint serves (requests that are meant to fail). */
    private Map<String, String> seed(LocalPostgres pg) throws Exception {
        Map<String, String> keys = new HashMap<>();
        keys.put("dev", DevSeed.ensure(pg.db(), dir.resolve("dev-api-key")));
        try (Connection c = pg.db().connect(); Statement st = c.createStatement()) {
            for (String t : TENANTS.subList(1, TENANTS.size())) {
                st.execute("INSERT INTO tenants (id, name, default_priority, max_priority) VALUES ('" + t + "', '" + t
                        + "', 'normal', 'realtime')");
                ApiKeys.Generated k = ApiKeys.generate();
                st.execute("INSERT INTO api_keys (id, tenant_id, key_hash) VALUES ('" + k.id() + "', '" + t + "', '"
                        + ApiKeys.hash(k.key()) + "')");
                keys.put(t, k.key());
            }
            st.execute("INSERT INTO model_prices (model, input_per_million, output_per_million) VALUES ('sim-retired', 1, 1)");
        }
        return keys;
    }

    private static void awaitBroker(String bootstrap) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap, "default.api.timeout.ms", 2000,
                    "request.timeout.ms", 1000))) {
                admin.describeCluster().clusterId().get();
                return;
            } catch (Exception e) {
                Thread.sleep(200);
            }
        }
        throw new AssertionError("broker did not start");
    }

    private static void awaitHealthy(String url) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (System.nanoTime() < deadline) {
            try {
                if (http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.discarding())
                        .statusCode() == 200) {
                    return;
                }
            } catch (Exception e) {
                // not up yet
            }
            Thread.sleep(250);
        }
        throw new AssertionError(url + " did not become healthy");
    }

    // ---------------------------------------------------------------- load

    /** Submits requests at a steady rate for {@link #LOAD}; remembers which were accepted, for which tenant. */
    private static final class Load implements Runnable {
        final Map<String, String> accepted = new ConcurrentHashMap<>();
        final Set<String> meantToFail = ConcurrentHashMap.newKeySet();
        final AtomicLong refused = new AtomicLong();
        private final String base;
        private final Map<String, String> keys;
        private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

        Load(String base, Map<String, String> keys) {
            this.base = base;
            this.keys = keys;
        }

        @Override
        public void run() {
            Random random = new Random(11);
            long start = System.nanoTime();
            long n = LOAD.toSeconds() * RATE_PER_SECOND;
            String[] levels = {"realtime", "high", "normal", "low"};
            for (long i = 0; i < n; i++) {
                long due = start + i * 1_000_000_000L / RATE_PER_SECOND;
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    try {
                        Thread.sleep(wait / 1_000_000);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                String tenant = TENANTS.get(random.nextInt(TENANTS.size()));
                boolean doomed = random.nextInt(50) == 0;
                String body = "{\"model\":\"" + (doomed ? "sim-retired" : random.nextBoolean() ? "sim-small" : "sim-large")
                        + "\",\"priority\":\"" + levels[random.nextInt(4)] + "\",\"max_tokens\":" + (8 + random.nextInt(56))
                        + ",\"messages\":[{\"role\":\"user\",\"content\":\"fault suite " + i + " " + UUID.randomUUID() + "\"}]}";
                http.sendAsync(HttpRequest.newBuilder(URI.create(base + "/v1/requests")).timeout(Duration.ofSeconds(15))
                                .header("Authorization", "Bearer " + keys.get(tenant)).header("Content-Type", "application/json")
                                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString())
                        .whenComplete((r, e) -> {
                            if (e == null && r.statusCode() == 202) {
                                try {
                                    String id = Json.mapper().readTree(r.body()).path("id").asText();
                                    accepted.put(id, tenant);
                                    if (doomed) {
                                        meantToFail.add(id);
                                    }
                                } catch (Exception parse) {
                                    refused.incrementAndGet();
                                }
                            } else {
                                refused.incrementAndGet();
                            }
                        });
            }
            try {
                Thread.sleep(16_000); // let the last answers arrive
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
        }
    }

    // ---------------------------------------------------------------- audit

    /** What the auditor found. */
    private static final class Report {
        final Set<String> lost = new HashSet<>();
        /** Request id to its results (status, attempt, endpoint, offset), for requests with two different final statuses. */
        final Map<String, String> conflicting = new TreeMap<>();
        /** Result records beyond the first for the same request (with transactional outcomes: none expected). */
        int repeatedResults;
        final Set<String> completed = new HashSet<>();
        final Set<String> failed = new HashSet<>();
        final Map<String, String> deadLetters = new HashMap<>();
        final Set<String> unexpectedDeadLetters = new HashSet<>();
        Set<String> billedIds = new HashSet<>();
        Map<String, List<Long>> billedTokensByTenant = new TreeMap<>();
        BigDecimal billedCost = BigDecimal.ZERO;

        void print(Load load, Audit audit) {
            System.out.println();
            System.out.println("fault suite auditor");
            System.out.printf("  accepted            %6d%n", load.accepted.size());
            System.out.printf("  completed           %6d%n", completed.size());
            System.out.printf("  failed              %6d%n", failed.size());
            System.out.printf("  dead-lettered       %6d  (meant to fail: %d model not served, %d retries exhausted)%n",
                    deadLetters.size(), deadLetters.values().stream().filter("not_found"::equals).count(),
                    deadLetters.values().stream().filter(c -> !c.equals("not_found")).count());
            System.out.printf("  billed rows         %6d  (cost %s)%n", billedIds.size(), billedCost.stripTrailingZeros().toPlainString());
            System.out.printf("  model calls         %6d  (%d answered 200, %d distinct request ids)%n", audit.callCount(),
                    audit.servedCount(), audit.callsByRequestId().size());
            System.out.printf("  lost                %6d%n", lost.size());
            System.out.printf("  double-billed       %6d%n", billedIds.size() - new HashSet<>(billedIds).size());
            System.out.printf("  conflicting status  %6d%n", conflicting.size());
            System.out.printf("  repeated results    %6d%n", repeatedResults);
        }
    }

    /** Waits until every accepted request has a final result and the billed rows stop changing. */
    private Report awaitDrained(KafkaConfig kafka, TopicSerdes serdes, Load load, LocalPostgres pg) throws Exception {
        long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
        Map<String, List<String>> statuses = new HashMap<>();
        while (true) {
            statuses = finalResults(kafka, serdes);
            Set<String> missing = new HashSet<>(load.accepted.keySet());
            missing.removeAll(statuses.keySet());
            if (missing.isEmpty() || System.nanoTime() > deadline) {
                break;
            }
            System.out.printf("draining: %d accepted requests without a final status yet%n", missing.size());
            Thread.sleep(3_000);
        }
        Report report = new Report();
        for (String id : load.accepted.keySet()) {
            List<String> results = statuses.get(id);
            Set<String> s = results == null ? null
                    : results.stream().map(r -> r.substring(0, r.indexOf(' '))).collect(Collectors.toSet());
            if (results != null) {
                report.repeatedResults += results.size() - 1;
            }
            if (s == null) {
                report.lost.add(id);
            } else if (s.size() > 1) {
                report.conflicting.put(id, String.join(" / ", results));
            } else if (s.contains("COMPLETED")) {
                report.completed.add(id);
            } else {
                report.failed.add(id);
            }
        }
        for (DeadLetter d : deadLetters(kafka, serdes)) {
            if (d.getRequestId() == null || !load.accepted.containsKey(d.getRequestId())) {
                continue;
            }
            report.deadLetters.put(d.getRequestId(), d.getErrorClass());
            boolean doomed = load.meantToFail.contains(d.getRequestId()) && "not_found".equals(d.getErrorClass());
            boolean exhausted = ("rate_limited".equals(d.getErrorClass()) || "server_error".equals(d.getErrorClass()))
                    && d.getAttempts() >= 4;
            if (!doomed && !exhausted) {
                report.unexpectedDeadLetters.add(d.getRequestId() + " (" + d.getErrorClass() + ", attempts "
                        + d.getAttempts() + ": " + d.getErrorMessage() + ")");
            }
        }
        // the sink catches up after PostgreSQL's outage: wait until the rows stop changing
        int stable = 0;
        int last = -1;
        while (stable < 3 && System.nanoTime() < deadline) {
            billed(pg, load, report);
            stable = report.billedIds.size() == last ? stable + 1 : 0;
            last = report.billedIds.size();
            if (!report.billedIds.containsAll(report.completed)) {
                stable = 0;
            }
            Thread.sleep(2_000);
        }
        return report;
    }

    /** Each request's results in log order, as "STATUS (attempt n, endpoint, partition@offset)". */
    private static Map<String, List<String>> finalResults(KafkaConfig kafka, TopicSerdes serdes) throws Exception {
        Map<String, List<String>> out = new HashMap<>();
        try (Admin admin = Admin.create(kafka.common("faults-auditor"))) {
            TopicRange.resolve(admin, "llm.results", Set.of(), new Position.Earliest(), null)
                    .read(kafka.consumer("faults-auditor", "unused"), r -> {
                        LlmResult res = serdes.value(LlmResult.class).deserialize(r.topic(), r.value());
                        if (res != null) {
                            out.computeIfAbsent(res.getRequestId(), k -> new ArrayList<>()).add(res.getStatus().name()
                                    + " (attempt " + res.getAttempts() + ", " + res.getEndpoint() + ", " + r.partition()
                                    + "@" + r.offset() + ")");
                        }
                    });
        }
        return out;
    }

    private static List<DeadLetter> deadLetters(KafkaConfig kafka, TopicSerdes serdes) throws Exception {
        List<DeadLetter> out = new ArrayList<>();
        try (Admin admin = Admin.create(kafka.common("faults-auditor"))) {
            TopicRange.resolve(admin, "llm.dlq", Set.of(), new Position.Earliest(), null)
                    .read(kafka.consumer("faults-auditor", "unused"), r -> {
                        try {
                            out.add(serdes.value(DeadLetter.class).deserialize(r.topic(), r.value()));
                        } catch (RuntimeException ignored) {
                            // not a dead letter of ours
                        }
                    });
        }
        return out;
    }

    private static void billed(LocalPostgres pg, Load load, Report report) {
        Set<String> ids = new HashSet<>();
        Map<String, List<Long>> tokens = new TreeMap<>();
        BigDecimal cost = BigDecimal.ZERO;
        try (Connection c = pg.db().connect();
             PreparedStatement ps = c.prepareStatement("SELECT request_id, tenant_id, prompt_tokens, completion_tokens, total_cost "
                     + "FROM usage_records WHERE request_id = ANY (?)")) {
            ps.setArray(1, c.createArrayOf("text", load.accepted.keySet().toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    ids.add(rs.getString(1));
                    List<Long> t = tokens.computeIfAbsent(rs.getString(2), k -> new ArrayList<>(List.of(0L, 0L)));
                    t.set(0, t.get(0) + rs.getInt(3));
                    t.set(1, t.get(1) + rs.getInt(4));
                    cost = cost.add(rs.getBigDecimal(5));
                }
            }
        } catch (Exception e) {
            return; // PostgreSQL still coming back
        }
        report.billedIds = ids;
        report.billedTokensByTenant = tokens;
        report.billedCost = cost;
    }

    /** Tokens the simulator served with 200, per tenant, counting each request id once. */
    private static Map<String, long[]> servedTokensByTenant(Audit audit, Set<String> accepted) {
        Map<String, long[]> out = new TreeMap<>();
        Set<String> seen = new HashSet<>();
        for (Audit.Entry e : audit.entries()) {
            if (e.status() == 200 && e.requestId() != null && accepted.contains(e.requestId()) && seen.add(e.requestId())) {
                long[] t = out.computeIfAbsent(e.tenant(), k -> new long[2]);
                t[0] += e.promptTokens();
                t[1] += e.completionTokens();
            }
        }
        return out;
    }

    private static Map<String, List<Long>> asMap(Map<String, long[]> m) {
        Map<String, List<Long>> out = new TreeMap<>();
        m.forEach((k, v) -> out.put(k, List.of(v[0], v[1])));
        return out;
    }

}
