package llmq.standalone;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import llmq.billing.BillingService;
import llmq.common.config.ConfigException;
import llmq.common.config.Settings;
import llmq.common.kafka.KafkaConfig;
import llmq.embedded.kafka.EmbeddedKafka;
import llmq.embedded.postgres.LocalPostgres;
import llmq.ingest.IngestApi;
import llmq.modelsim.ModelSimConfig;
import llmq.modelsim.ModelSimulator;
import llmq.registry.RegistryConfig;
import llmq.registry.RegistryServer;
import llmq.router.RouterService;
import llmq.topics.catalog.TopicCatalog;
import llmq.topics.provision.TopicProvisioner;
import llmq.worker.WorkerService;
import org.apache.kafka.clients.admin.Admin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything llmq needs, in this process: a real KRaft broker, PostgreSQL, the schema
 * registry, the model simulator, and the four services, with data under one directory (kept
 * across restarts). Closing stops them in reverse order.
 */
public final class Stack implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Stack.class);
    /** The setting naming the services to start beside ingest. */
    public static final String SERVICES_KEY = "standalone.services";
    private static final List<String> SERVICES = List.of("router", "worker", "billing");

    /** Where each component listens; 0 picks a free port. */
    public record Ports(int kafka, int kafkaController, int postgres, int registry, int model, int ingest,
                        int routerAdmin, int workerAdmin, int billingAdmin) {
        /** The documented defaults. */
        public static Ports defaults() {
            return new Ports(9092, 9093, 5433, 8081, 8090, 8080, 8082, 8083, 8084);
        }

        /** Every port picked freely (tests). */
        public static Ports ephemeral() {
            return new Ports(0, 0, 0, 0, 0, 0, 0, 0, 0);
        }
    }

    private final Deque<AutoCloseable> started = new ArrayDeque<>();
    private EmbeddedKafka kafka;
    private LocalPostgres postgres;
    private RegistryServer registry;
    private ModelSimulator model;
    private IngestApi ingest;
    private String apiKey;
    private String adminToken;
    private Settings settings;

    private Stack() {
    }

    /**
     * Starts everything.
     *
     * @param dataDir  broker log, PostgreSQL data, Streams state and the development key
     * @param ports    where to listen
     * @param user     the user's settings (file, environment, {@code --set}); infrastructure
     *                 addresses are always the embedded ones
     */
    public static Stack start(Path dataDir, Ports ports, Settings user) throws Exception {
        Stack s = new Stack();
        try {
            s.boot(dataDir.toAbsolutePath(), ports, user);
            return s;
        } catch (Exception | Error e) {
            s.close();
            throw e;
        }
    }

    private void boot(Path dataDir, Ports ports, Settings user) throws Exception {
        Files.createDirectories(dataDir);
        long t0 = System.nanoTime();
        kafka = track(EmbeddedKafka.start(dataDir.resolve("kafka"), ports.kafka(), ports.kafkaController(), Map.of()));
        postgres = track(LocalPostgres.start(dataDir.resolve("postgres"), ports.postgres()));
        KafkaConfig kc = new KafkaConfig(kafka.bootstrapServers(), "http://unused", Map.of());
        RegistryConfig rc = RegistryConfig.from(user.with("registry.port", Integer.toString(ports.registry())));
        registry = track(RegistryServer.start(rc, kc));

        Map<String, String> infra = new LinkedHashMap<>();
        infra.put("kafka.bootstrap.servers", kafka.bootstrapServers());
        infra.put("registry.url", registry.url());
        infra.put("db.url", postgres.jdbcUrl());
        infra.put("db.user", LocalPostgres.DATABASE);
        infra.put("db.password", "");
        Settings base = user.with(infra);

        TopicCatalog catalog = TopicCatalog.from(base);
        try (Admin admin = Admin.create(kc.common("llmq-standalone"))) {
            TopicProvisioner.ApplyResult r = new TopicProvisioner(admin, catalog).apply();
            if (!r.created().isEmpty()) {
                LOG.info("created {} topics", r.created().size());
            }
            r.drift().forEach(d -> LOG.warn("topic drift (left as is): {}", d));
        }
        apiKey = DevSeed.ensure(postgres.db(), dataDir.resolve("dev-api-key"));

        model = track(ModelSimulator.start(ModelSimConfig.from(
                base.with("modelsim.port", Integer.toString(ports.model())))));

        Map<String, String> defaults = new LinkedHashMap<>();
        defaults.put("worker.endpoint.url", model.baseUrl());
        defaults.put("worker.endpoint.name", "model-sim");
        defaults.put("router.state-dir", dataDir.resolve("router").toString());
        defaults.put("billing.state-dir", dataDir.resolve("billing").toString());
        defaults.put("ingest.status.state-dir", dataDir.resolve("ingest-status").toString());
        defaults.put("router.admin.port", Integer.toString(ports.routerAdmin()));
        defaults.put("worker.admin.port", Integer.toString(ports.workerAdmin()));
        // one worker per data dir: a stable id lets a restart abort what a killed predecessor left open at once,
        // instead of read-committed readers waiting out its transaction timeout
        defaults.put("worker.id", "standalone");
        defaults.put("billing.admin.port", Integer.toString(ports.billingAdmin()));
        defaults.put("ingest.port", Integer.toString(ports.ingest()));
        // the user's own choices (e.g. a real endpoint URL) win over these defaults
        Map<String, String> merged = new LinkedHashMap<>(defaults);
        defaults.keySet().forEach(k -> {
            if (user.raw(k) != null) {
                merged.put(k, user.raw(k));
            }
        });
        settings = base.with(merged);

        Set<String> services = services(user);
        RouterService router = services.contains("router") ? track(RouterService.start(settings)) : null;
        if (services.contains("worker")) {
            track(WorkerService.start(settings));
        }
        if (services.contains("billing")) {
            track(BillingService.start(settings));
        }
        // ingest asks the router for queue positions; the admin secrets persist like the dev key
        adminToken = DevSeed.secret(dataDir.resolve("admin-token"));
        Map<String, String> ingestDefaults = new LinkedHashMap<>();
        if (router != null) {
            ingestDefaults.put("ingest.router-admin-url", "http://127.0.0.1:" + router.adminPort());
        }
        ingestDefaults.put("ingest.admin-token", adminToken);
        ingestDefaults.put("ingest.callbacks.secret", DevSeed.secret(dataDir.resolve("callback-secret")));
        ingestDefaults.keySet().removeIf(k -> user.raw(k) != null);
        settings = settings.with(ingestDefaults);
        adminToken = settings.raw("ingest.admin-token");
        ingest = track(IngestApi.start(settings));
        LOG.info("llmq up in {} ms{}", (System.nanoTime() - t0) / 1_000_000,
                services.size() == SERVICES.size() ? "" : " (services: ingest, " + String.join(", ", services) + ")");
    }

    /**
     * {@code standalone.services}: which of the router, the worker and billing to start beside ingest
     * (default all three). Without them ingest still accepts requests onto the intake topics; they wait
     * there, durable, until the services run.
     */
    public static Set<String> services(Settings user) {
        String raw = user.raw(SERVICES_KEY);
        if (raw == null || raw.isBlank()) {
            return new LinkedHashSet<>(SERVICES);
        }
        Set<String> chosen = new LinkedHashSet<>();
        for (String s : raw.split(",")) {
            String name = s.trim().toLowerCase(Locale.ROOT);
            if (name.isEmpty() || name.equals("none") || name.equals("ingest")) {
                continue;
            }
            if (!SERVICES.contains(name)) {
                throw new ConfigException(SERVICES_KEY, raw, "names " + name + "; the services are " + String.join(", ", SERVICES)
                        + " (ingest always runs), or none");
            }
            chosen.add(name);
        }
        return chosen;
    }

    private <T extends AutoCloseable> T track(T component) {
        started.push(component);
        return component;
    }

    public String ingestUrl() {
        return ingest.url();
    }

    public String apiKey() {
        return apiKey;
    }

    /** Bearer token of the admin API ({@code /admin/*}). */
    public String adminToken() {
        return adminToken;
    }

    public ModelSimulator model() {
        return model;
    }

    public EmbeddedKafka kafka() {
        return kafka;
    }

    public LocalPostgres postgres() {
        return postgres;
    }

    public String registryUrl() {
        return registry.url();
    }

    /** The settings the services run with. */
    public Settings settings() {
        return settings;
    }

    @Override
    public void close() {
        while (!started.isEmpty()) {
            AutoCloseable c = started.pop();
            try {
                c.close();
            } catch (Exception e) {
                LOG.warn("{} did not stop cleanly: {}", c.getClass().getSimpleName(), e.toString());
            }
        }
    }
}
