package llmq.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import llmq.common.config.Settings;
import llmq.common.kafka.KafkaConfig;
import llmq.embedded.kafka.EmbeddedKafka;
import llmq.embedded.postgres.LocalPostgres;
import llmq.registry.RegistryConfig;
import llmq.registry.RegistryServer;
import llmq.schemas.compat.Compatibility;
import llmq.schemas.registry.HttpSchemaRegistryClient;
import llmq.topics.catalog.TopicCatalog;
import llmq.topics.catalog.TopicSerdes;
import llmq.topics.provision.TopicProvisioner;
import org.apache.kafka.clients.admin.Admin;

/**
 * The real infrastructure shared by every integration test in one JVM: one KRaft broker, the
 * development schema registry on it, llmq's topics, and (on first request) one PostgreSQL.
 * Obtained through {@link IntegrationTest}; closed when the test run ends. Data lives under the
 * module's {@code target/llmq-it/} and is deleted afterwards.
 */
public final class Infra implements AutoCloseable {

    private static Infra instance;

    private final Path root;
    private final EmbeddedKafka kafka;
    private final RegistryServer registry;
    private final TopicCatalog catalog = TopicCatalog.defaults();
    private LocalPostgres postgres;
    private TopicSerdes serdes;

    private Infra(Path root, EmbeddedKafka kafka, RegistryServer registry) {
        this.root = root;
        this.kafka = kafka;
        this.registry = registry;
    }

    /** The shared instance, started on first use. */
    public static synchronized Infra get() {
        if (instance == null) {
            Path root = Path.of("target", "llmq-it", UUID.randomUUID().toString().substring(0, 8)).toAbsolutePath();
            EmbeddedKafka kafka = null;
            try {
                kafka = EmbeddedKafka.start(root.resolve("kafka"), 0, 0, Map.of());
                KafkaConfig kc = new KafkaConfig(kafka.bootstrapServers(), "http://unused", Map.of());
                RegistryServer registry = RegistryServer.start(
                        new RegistryConfig("127.0.0.1", 0, "_llmq_schemas", Compatibility.BACKWARD), kc);
                Infra infra = new Infra(root, kafka, registry);
                try (Admin admin = infra.admin()) {
                    new TopicProvisioner(admin, infra.catalog).apply();
                }
                instance = infra;
                Runtime.getRuntime().addShutdownHook(new Thread(infra::close, "llmq-it-infra-stop"));
            } catch (Exception e) {
                if (kafka != null) {
                    kafka.close();
                }
                throw new IllegalStateException("cannot start test infrastructure: " + e, e);
            }
        }
        return instance;
    }

    public EmbeddedKafka kafka() {
        return kafka;
    }

    public String bootstrapServers() {
        return kafka.bootstrapServers();
    }

    public String registryUrl() {
        return registry.url();
    }

    /** The catalog the topics were provisioned from (default partitions). */
    public TopicCatalog catalog() {
        return catalog;
    }

    /** Serdes over the shared registry. */
    public synchronized TopicSerdes serdes() {
        if (serdes == null) {
            serdes = new TopicSerdes(new HttpSchemaRegistryClient(registryUrl()));
        }
        return serdes;
    }

    /** The shared PostgreSQL, started (and migrated) on first call. */
    public synchronized LocalPostgres postgres() {
        if (postgres == null) {
            try {
                postgres = LocalPostgres.start(root.resolve("postgres"), 0);
            } catch (Exception e) {
                throw new IllegalStateException("cannot start PostgreSQL: " + e, e);
            }
        }
        return postgres;
    }

    /** An admin client on the shared broker; close it. */
    public Admin admin() {
        return Admin.create(kafkaConfig().common("llmq-it-admin"));
    }

    public KafkaConfig kafkaConfig() {
        return new KafkaConfig(bootstrapServers(), registryUrl(), Map.of());
    }

    /**
     * Settings pointing a service at the shared infrastructure, plus {@code extra}. Includes
     * {@code db.*} only if PostgreSQL has been started.
     */
    public synchronized Settings settings(Map<String, String> extra) {
        Map<String, String> m = new HashMap<>();
        m.put("kafka.bootstrap.servers", bootstrapServers());
        m.put("registry.url", registryUrl());
        if (postgres != null) {
            m.put("db.url", postgres.jdbcUrl());
            m.put("db.user", LocalPostgres.DATABASE);
        }
        m.putAll(extra);
        return Settings.of(m);
    }

    /** A fresh directory under this run's root (e.g. for a Streams state dir). */
    public Path newDirectory(String prefix) {
        try {
            return Files.createDirectories(root.resolve(prefix + "-" + UUID.randomUUID().toString().substring(0, 8)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public synchronized void close() {
        if (registry != null) {
            registry.close();
        }
        if (postgres != null) {
            postgres.close();
        }
        kafka.close();
        try (Stream<Path> files = Files.walk(root)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // best effort: target/ is cleaned by the build anyway
        }
    }
}
