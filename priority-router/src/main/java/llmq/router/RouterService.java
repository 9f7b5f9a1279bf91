package llmq.router;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Files;
import llmq.common.config.Settings;
import llmq.common.http.AdminServer;
import llmq.common.kafka.KafkaConfig;
import llmq.common.lifecycle.ServiceMain;
import llmq.router.topology.RouterTopology;
import llmq.router.view.RouterMetrics;
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

    private RouterService(StreamsApp app, AdminServer admin) {
        this.app = app;
        this.admin = admin;
    }

    /** Starts the router from settings. */
    public static RouterService start(Settings settings) throws Exception {
        RouterConfig config = RouterConfig.from(settings);
        KafkaConfig kafka = KafkaConfig.from(settings);
        TopicCatalog catalog = TopicCatalog.from(settings);
        TopicSerdes serdes = new TopicSerdes(new HttpSchemaRegistryClient(kafka.registryUrl()));
        Files.createDirectories(config.stateDir());
        PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        Topology topology = RouterTopology.build(config, catalog, serdes, new RouterMetrics(metrics));
        StreamsApp app = StreamsApp.start("priority-router", topology,
                StreamsSettings.build(kafka, config.applicationId(), config.stateDir(), config.commitInterval(),
                        config.threads(), "router", config.streamsOverrides()), metrics);
        AdminServer admin;
        try {
            admin = AdminServer.start("priority-router", config.adminHost(), config.adminPort(), metrics)
                    .check("streams", app.health());
        } catch (Exception e) {
            app.close();
            throw e;
        }
        return new RouterService(app, admin);
    }

    public StreamsApp app() {
        return app;
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
