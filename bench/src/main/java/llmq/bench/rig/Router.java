package llmq.bench.rig;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import llmq.avro.Priority;
import llmq.router.RouterService;
import llmq.testsupport.Infra;
import llmq.topics.catalog.TopicCatalog;

/**
 * A fresh priority-router on the shared broker: a new application id whose consumer group starts at
 * the current end of its input topics, so it sees only what the scenario sends from now on and
 * none of the state an earlier run left behind.
 */
public final class Router {

    private Router() {
    }

    /** Starts the router with {@code extra} settings and waits until it is RUNNING. */
    public static RouterService start(Infra infra, Kafka kafka, String applicationId, Map<String, String> extra)
            throws Exception {
        TopicCatalog catalog = infra.catalog();
        List<String> inputs = List.of(catalog.requests().name(), catalog.intake(Priority.REALTIME).name(),
                catalog.intake(Priority.HIGH).name(), catalog.intake(Priority.NORMAL).name(),
                catalog.intake(Priority.LOW).name(), catalog.events().name());
        kafka.startGroupAtEnd(applicationId, inputs);
        Map<String, String> s = new HashMap<>();
        s.put("router.application-id", applicationId);
        s.put("router.state-dir", infra.newDirectory(applicationId).toString());
        s.put("router.admin.port", "0");
        s.putAll(extra);
        RouterService router = RouterService.start(infra.settings(s));
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (!router.app().awaitRunning(Duration.ofSeconds(1))) {
            if (System.nanoTime() > deadline) {
                router.close();
                throw new IllegalStateException("router " + applicationId + " did not reach RUNNING in 90 s");
            }
        }
        return router;
    }
}
