package llmq.worker.testing;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import llmq.avro.Priority;
import llmq.common.config.Settings;
import llmq.modelsim.ModelSimConfig;
import llmq.modelsim.ModelSimulator;
import llmq.testsupport.Infra;
import llmq.testsupport.KafkaIo;
import llmq.topics.catalog.TopicCatalog;
import llmq.worker.WorkerService;

/**
 * What the worker's integration tests share on the real broker: its clients, the four queue
 * topics, a run id that keeps one test's tenants and groups apart from another's, and whatever a
 * test starts (simulators, workers, worker processes), closed newest first by {@link #close()}.
 */
public final class WorkerRig implements AutoCloseable {

    private final Infra infra;
    private final TopicCatalog catalog;
    private final KafkaIo kafka;
    private final List<String> queues;
    private final Deque<AutoCloseable> running = new ArrayDeque<>();
    private final String run = UUID.randomUUID().toString().substring(0, 8);

    public WorkerRig(Infra infra) {
        this.infra = infra;
        this.catalog = infra.catalog();
        this.kafka = new KafkaIo(infra);
        this.queues = Arrays.stream(Priority.values()).map(p -> catalog.queue(p).name()).toList();
    }

    public Infra infra() {
        return infra;
    }

    public TopicCatalog catalog() {
        return catalog;
    }

    public KafkaIo kafka() {
        return kafka;
    }

    /** The four queue topics' names. */
    public List<String> queues() {
        return queues;
    }

    /** This test's run id: eight hex digits. */
    public String run() {
        return run;
    }

    /** {@code name} made this run's own. */
    public String tenant(String name) {
        return name + "-" + run;
    }

    /** A fresh consumer group that starts at the current end of the queues, past other tests' records. */
    public String newGroup(String prefix) {
        String group = prefix + "-" + UUID.randomUUID();
        kafka.startGroupAtEnd(group, queues);
        return group;
    }

    /** A model simulator on a free port with {@code extra} settings, stopped by {@link #close()}. */
    public ModelSimulator simulator(Map<String, String> extra) {
        Map<String, String> s = new HashMap<>(extra);
        s.put(ModelSimConfig.PORT, "0");
        try {
            return track(ModelSimulator.start(ModelSimConfig.from(Settings.of(s))));
        } catch (IOException e) {
            throw new IllegalStateException("the model simulator did not start", e);
        }
    }

    /**
     * A worker in this JVM in {@code group}, its admin port free, with {@code extra} settings over
     * the rig's; stopped (gracefully) by {@link #close()}.
     */
    public WorkerService startWorker(String group, Map<String, String> extra) {
        Map<String, String> s = new HashMap<>(Map.of(
                "worker.group-id", group,
                "worker.id", "it-" + run,
                "worker.admin.port", "0"));
        s.putAll(extra);
        try {
            return track(WorkerService.start(infra.settings(s)));
        } catch (Exception e) {
            throw new IllegalStateException("worker did not start", e);
        }
    }

    /** Closes {@code c} with the rig, before whatever was tracked earlier. */
    public <T extends AutoCloseable> T track(T c) {
        running.push(c);
        return c;
    }

    /** Closes {@code c} now, and not again with the rig. */
    public void stop(AutoCloseable c) throws Exception {
        running.remove(c);
        c.close();
    }

    @Override
    public void close() throws Exception {
        Exception first = null;
        while (!running.isEmpty()) {
            try {
                running.pop().close();
            } catch (Exception e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        kafka.close();
        if (first != null) {
            throw first;
        }
    }
}
