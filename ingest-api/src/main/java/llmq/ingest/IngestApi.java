package llmq.ingest;

import io.micronaut.context.ApplicationContext;
import io.micronaut.runtime.server.EmbeddedServer;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.HashMap;
import java.util.Map;
import llmq.common.config.Settings;
import llmq.common.lifecycle.ServiceMain;
import llmq.ingest.status.StatusService;
import org.apache.kafka.streams.state.HostInfo;

/**
 * ingest-api as a running service: a Micronaut context whose components are built from
 * llmq's layered settings ({@code --config}, {@code --set}, {@code LLMQ_*}). The status view's
 * Streams app starts once the HTTP server is bound, advertising this instance's address
 * ({@code ingest.advertised-url}, else the bound host and port) to the other instances.
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
        props.put("micronaut.server.max-request-size", config.serverMaxBody());
        // a chat completion holds its connection until the result: never idle it out before that
        String idle = (config.openAiTimeout().toSeconds() + 60) + "s";
        props.put("micronaut.server.idle-timeout", idle);
        props.put("micronaut.server.read-idle-timeout", idle);
        props.put("micronaut.server.write-idle-timeout", idle);
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
            ctx.getBean(StatusService.class).start(advertised(config, server));
            return new IngestApi(ctx, server);
        } catch (RuntimeException e) {
            ctx.close();
            throw e;
        }
    }

    /** How the other instances reach this one. */
    static HostInfo advertised(IngestConfig config, EmbeddedServer server) {
        if (config.advertisedUrl() != null) {
            URI u = URI.create(config.advertisedUrl());
            return new HostInfo(u.getHost(), u.getPort());
        }
        String host = config.host();
        if (host.equals("0.0.0.0") || host.equals("::")) {
            try {
                host = InetAddress.getLocalHost().getHostName();
            } catch (UnknownHostException e) {
                host = "127.0.0.1";
            }
        }
        return new HostInfo(host, server.getPort());
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
