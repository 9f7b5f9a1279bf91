package llmq.bench.rig;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import llmq.avro.Priority;
import llmq.testsupport.Infra;
import llmq.topics.catalog.TopicCatalog;
import llmq.worker.WorkerService;

/**
 * A fresh llmq worker on the shared broker in its own consumer group. The group's offsets are set at
 * the end of the queues by {@link #reserve} <em>before</em> the scenario sends anything (the router
 * releases some requests at once, and a worker that skipped them would leave the router's
 * released-minus-started count stuck); {@link #start} may then come later.
 */
public final class Worker {

    private Worker() {
    }

    /** Positions {@code groupId} at the current end of the four queues. */
    public static void reserve(Kafka kafka, TopicCatalog catalog, String groupId) {
        List<String> queues = List.of(catalog.queue(Priority.REALTIME).name(), catalog.queue(Priority.HIGH).name(),
                catalog.queue(Priority.NORMAL).name(), catalog.queue(Priority.LOW).name());
        kafka.startGroupAtEnd(groupId, queues);
    }

    /** Starts a worker in {@code groupId} calling the model at {@code modelUrl}, plus {@code extra} settings. */
    public static WorkerService start(Infra infra, String groupId, String modelUrl, int maxInFlight, Map<String, String> extra)
            throws Exception {
        Map<String, String> s = new HashMap<>();
        s.put("worker.group-id", groupId);
        s.put("worker.id", groupId);
        s.put("worker.admin.port", "0");
        s.put("worker.health.interval", "0");
        s.put("worker.max-in-flight", Integer.toString(maxInFlight));
        s.put("worker.endpoint.url", modelUrl);
        s.put("worker.endpoint.name", "sim");
        s.putAll(extra);
        return WorkerService.start(infra.settings(s));
    }
}
