package llmq.ingest;

import io.micronaut.context.ApplicationContext;
import io.micronaut.runtime.server.EmbeddedServer;
import java.util.HashMap;
import java.util.Map;
import llmq.common.config.Settings;
import llmq.common.lifecycle.ServiceMain;

/**
 * ingest-api as a running service: a Micronaut context whose components are built from
 * llmq's layered settings ({@code --config}, {@code --set}, {@code LLMQ_*}).
 */
public final class IngestApi implements AutoCloseable {

    private final ApplicationContext context;
    private final EmbeddedServer server;

    private IngestApi(ApplicationContext context, EmbeddedServer server) {
        this.context = context;
        this.server = server;
    }

    public static IngestApi start(Settings settings) {
        IngestConfig config = IngestConfig.from(settings);
        Map<String, Object> props = new HashMap<>();
        props.put("micronaut.application.name", "llmq-ingest-api");
        props.put("micronaut.server.host", config.host());
        props.put("micronaut.server.port", config.port());
        props.put("micronaut.server.max-request-size", config.maxBody());
        props.put("micronaut.metrics.enabled", true);
        props.put("micronaut.metrics.export.prometheus.enabled", true);
        props.put("micronaut.metrics.export.prometheus.descriptions", true);
        ApplicationContext ctx = ApplicationContext.builder()
                .singletons(settings)
                .properties(props)
                .deduceEnvironment(false)
                .banner(false)
                .start();
        try {
            EmbeddedServer server = ctx.getBean(EmbeddedServer.class);
            server.start();
            return new IngestApi(ctx, server);
        } catch (RuntimeException e) {
            ctx.close();
            throw e;
        }
    }

    /** The bound port. */
    public int port() {
        return server.getPort();
    }

    /** e.g. {@code http://127.0.0.1:8080}. */
    public String url() {
        return "http://" + server.getHost() + ":" + server.getPort();
    }

    /** For tests and the launcher: a component of the running app. */
    public <T> T bean(Class<T> type) {
        return context.getBean(type);
    }

    public static void main(String[] args) {
        ServiceMain.run("llmq-ingest-api", args, IngestApi::start);
    }

    @Override
    public void close() {
        server.stop();
        context.close();
    }
}
