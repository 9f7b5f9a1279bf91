package llmq.embedded.kafka;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.Writer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.tools.StorageTool;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real single-node KRaft Kafka broker (combined broker and controller) started in this JVM
 * from Apache Kafka's own server artifacts.
 *
 * <p>Start-up formats the storage (once; the cluster id is kept in the data directory so a
 * restart on the same directory finds its topics), starts the server, and waits until the
 * broker answers with <em>this</em> cluster's id, so that a stranger already listening on the
 * port is never mistaken for it. A port that is already taken is refused before starting.
 * Settings are sized for a small machine: few threads, small internal topics, a small
 * cleaner buffer.
 */
public final class EmbeddedKafka implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafka.class);

    private final KafkaRaftServer server;
    private final String bootstrapServers;
    private final String clusterId;
    private final Path dataDir;
    private volatile boolean closed;

    private EmbeddedKafka(KafkaRaftServer server, String bootstrapServers, String clusterId, Path dataDir) {
        this.server = server;
        this.bootstrapServers = bootstrapServers;
        this.clusterId = clusterId;
        this.dataDir = dataDir;
    }

    /**
     * Starts a broker.
     *
     * @param dataDir        where the log and metadata live (kept across restarts)
     * @param port           client port; 0 picks a free one
     * @param controllerPort controller port; 0 picks a free one
     * @param overrides      extra broker settings, applied last
     */
    public static EmbeddedKafka start(Path dataDir, int port, int controllerPort, Map<String, String> overrides)
            throws IOException {
        Files.createDirectories(dataDir);
        int clientPort = port == 0 ? freePort() : requireFree(port, "Kafka");
        int ctrlPort = controllerPort == 0 ? freePort() : requireFree(controllerPort, "Kafka controller");
        String clusterId = clusterId(dataDir);
        Path logDir = dataDir.resolve("kraft-logs");
        Properties props = new Properties();
        props.putAll(brokerSettings(clientPort, ctrlPort, logDir));
        props.putAll(overrides);

        Path propsFile = dataDir.resolve("server.properties");
        try (Writer w = Files.newBufferedWriter(propsFile)) {
            props.store(w, "written by llmq's embedded broker on every start");
        }
        format(clusterId, propsFile);

        KafkaRaftServer server = new KafkaRaftServer(KafkaConfig.fromProps(props, false), Time.SYSTEM);
        String bootstrap = "127.0.0.1:" + clientPort;
        EmbeddedKafka kafka = new EmbeddedKafka(server, bootstrap, clusterId, dataDir);
        try {
            server.startup();
            kafka.awaitReady(Duration.ofSeconds(60));
        } catch (RuntimeException | IOException e) {
            kafka.close();
            throw e;
        }
        LOG.info("Kafka broker up at {} (cluster {}, data {})", bootstrap, clusterId, dataDir);
        return kafka;
    }

    /** The broker settings used, before overrides: a small single node with RF 1 everywhere. */
    static Map<String, String> brokerSettings(int clientPort, int controllerPort, Path logDir) {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("process.roles", "broker,controller");
        p.put("node.id", "1");
        p.put("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
        p.put("listeners", "PLAINTEXT://127.0.0.1:" + clientPort + ",CONTROLLER://127.0.0.1:" + controllerPort);
        p.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + clientPort);
        p.put("controller.listener.names", "CONTROLLER");
        p.put("inter.broker.listener.name", "PLAINTEXT");
        p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        p.put("log.dirs", logDir.toAbsolutePath().toString());
        p.put("num.partitions", "1");
        p.put("default.replication.factor", "1");
        p.put("min.insync.replicas", "1");
        p.put("offsets.topic.replication.factor", "1");
        p.put("offsets.topic.num.partitions", "6");
        p.put("transaction.state.log.replication.factor", "1");
        p.put("transaction.state.log.min.isr", "1");
        p.put("transaction.state.log.num.partitions", "6");
        // a killed transactional producer's open transaction is aborted within a second of its timeout, not ten
        p.put("transaction.abort.timed.out.transaction.cleanup.interval.ms", "1000");
        p.put("share.coordinator.state.topic.replication.factor", "1");
        p.put("share.coordinator.state.topic.min.isr", "1");
        p.put("share.coordinator.state.topic.num.partitions", "1");
        p.put("group.initial.rebalance.delay.ms", "0");
        p.put("auto.create.topics.enable", "false");
        p.put("num.network.threads", "2");
        p.put("num.io.threads", "4");
        p.put("background.threads", "4");
        p.put("num.recovery.threads.per.data.dir", "1");
        p.put("log.cleaner.threads", "1");
        p.put("log.cleaner.dedupe.buffer.size", Integer.toString(4 * 1024 * 1024));
        p.put("log.cleaner.io.buffer.size", Integer.toString(512 * 1024));
        // consumers of a killed process give their partitions up within seconds, not 45 s
        p.put("group.min.session.timeout.ms", "2000");
        return p;
    }

    private static void format(String clusterId, Path propsFile) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int rc;
        try (PrintStream ps = new PrintStream(out, true, StandardCharsets.UTF_8)) {
            rc = StorageTool.execute(new String[] {"format", "--cluster-id", clusterId,
                "--config", propsFile.toString(), "--ignore-formatted"}, ps);
        }
        if (rc != 0) {
            throw new IllegalStateException("formatting Kafka storage failed: " + out.toString(StandardCharsets.UTF_8));
        }
    }

    private static String clusterId(Path dataDir) throws IOException {
        Path f = dataDir.resolve("cluster.id");
        if (Files.exists(f)) {
            return Files.readString(f).trim();
        }
        String id = Uuid.randomUuid().toString();
        Files.writeString(f, id);
        return id;
    }

    private void awaitReady(Duration timeout) throws IOException {
        Map<String, Object> cfg = Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5000, AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10000);
        long deadline = System.nanoTime() + timeout.toNanos();
        try (Admin admin = Admin.create(cfg)) {
            while (true) {
                try {
                    String answered = admin.describeCluster().clusterId().get(5, TimeUnit.SECONDS);
                    if (clusterId.equals(answered)) {
                        // the broker also registers with the controller before it serves metadata
                        admin.describeCluster().nodes().get(5, TimeUnit.SECONDS);
                        return;
                    }
                    throw new IllegalStateException("a different Kafka cluster (" + answered + ") answers at "
                            + bootstrapServers + "; refusing to use it");
                } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                    if (System.nanoTime() > deadline) {
                        throw new IOException("Kafka broker at " + bootstrapServers + " not ready after " + timeout, e);
                    }
                    Thread.sleep(100);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted waiting for Kafka", e);
        }
    }

    /** Fails with a clear message when {@code port} is taken on loopback. */
    public static int requireFree(int port, String what) {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            return port;
        } catch (IOException e) {
            throw new IllegalStateException(what + " port " + port + " is already in use; stop whatever listens there"
                    + " or choose another port", e);
        }
    }

    /** A port that was free a moment ago. */
    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** {@code host:port} for clients. */
    public String bootstrapServers() {
        return bootstrapServers;
    }

    /** This broker's cluster id (stable across restarts on the same data directory). */
    public String clusterId() {
        return clusterId;
    }

    /** Where the broker keeps its data. */
    public Path dataDir() {
        return dataDir;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            server.shutdown();
            server.awaitShutdown();
        } catch (RuntimeException e) {
            LOG.warn("Kafka broker did not shut down cleanly", e);
        }
    }
}
