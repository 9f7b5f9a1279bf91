package llmq.router;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Files;
import llmq.common.config.Settings;
import llmq.common.http.AdminServer;
import llmq.common.kafka.KafkaConfig;
import llmq.common.lifecycle.ServiceMain;
import llmq.router.topology.RouterTopology;
import llmq.router.view.BacklogView;
import llmq.router.view.RouterMetrics;
import java.util.Map;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.state.HostInfo;
import llmq.schemas.registry.HttpSchemaRegistryClient;
import llmq.topics.catalog.TopicCatalog;
import llmq.topics.catalog.TopicSerdes;
import llmq.topics.streams.StreamsApp;
import llmq.topics.streams.StreamsSettings;
import org.apache.kafka.streams.Topology;

/**
 * The priority-router as a running service: its topology under exactly-once v2, plus the
 * admin endpoint ({@code /health}, {@code /metrics}). Scale out by starting more instances
 * with the same application id; Streams spreads the partitions.
 */
public final class RouterService implements AutoCloseable {

    private final StreamsApp app;
    private final AdminServer admin;
    private final RouterMetrics metrics;

    private RouterService(StreamsApp app, AdminServer admin, RouterMetrics metrics) {
        this.app = app;
        this.admin = admin;
        this.metrics = metrics;
    }

    /** Starts the router from settings. */
    public static RouterService start(Settings settings) throws Exception {
        RouterConfig config = RouterConfig.from(settings);
        KafkaConfig kafka = KafkaConfig.from(settings);
        TopicCatalog catalog = TopicCatalog.from(settings);
        TopicSerdes serdes = new TopicSerdes(new HttpSchemaRegistryClient(kafka.registryUrl()));
        Files.createDirectories(config.stateDir());
        PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        RouterMetrics routerMetrics = new RouterMetrics(metrics);
        Topology topology = RouterTopology.build(config, catalog, serdes, routerMetrics);
        // the admin endpoint starts first: its bound port is the application.server other instances forward to
        AdminServer admin = AdminServer.start("priority-router", config.adminHost(), config.adminPort(), metrics);
        HostInfo self = HostInfo.buildFromEndpoint(config.advertised() != null ? config.advertised()
                : config.adminHost() + ":" + admin.port());
        Map<String, Object> props = streamsProperties(kafka, config, self);
        StreamsApp app;
        try {
            app = StreamsApp.start("priority-router", topology, props, metrics);
        } catch (RuntimeException e) {
            admin.close();
            throw e;
        }
        admin.check("streams", app.health());
        new BacklogView(app.streams(), routerMetrics, self).install(admin);
        return new RouterService(app, admin, routerMetrics);
    }

    /** The router's Kafka Streams properties: llmq's defaults for it, then {@code router.streams.*}. */
    static Map<String, Object> streamsProperties(KafkaConfig kafka, RouterConfig config, HostInfo self) {
        Map<String, Object> props = StreamsSettings.build(kafka, config.applicationId(), config.stateDir(),
                config.commitInterval(), config.threads(), "router", config.streamsOverrides());
        props.putIfAbsent(StreamsConfig.APPLICATION_SERVER_CONFIG, self.host() + ":" + self.port());
        // the stores cache writes within a commit interval (see RouterTopology); 16 MiB per instance
        props.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 16L * 1024 * 1024);
        // never wait for an empty input partition: the router joins nothing by time, and waiting
        // for a flooded intake partition's next fetch held back realtime and the workers' events
        // already fetched (see ProcessingRank and docs/router.md)
        props.put(StreamsConfig.MAX_TASK_IDLE_MS_CONFIG, StreamsConfig.MAX_TASK_IDLE_MS_DISABLED);
        props.putAll(config.streamsOverrides());
        return props;
    }

    public StreamsApp app() {
        return app;
    }

    /** Depths, releases and rates of this instance. */
    public RouterMetrics metrics() {
        return metrics;
    }

    public int adminPort() {
        return admin.port();
    }

    public static void main(String[] args) {
        ServiceMain.run("llmq-priority-router", args, RouterService::start);
    }

    @Override
    public void close() {
        admin.close();
        app.close();
    }
}
