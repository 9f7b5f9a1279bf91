package llmq.embedded.kafka;

import java.nio.file.Path;
import java.util.Map;
import llmq.common.config.Settings;
import llmq.common.lifecycle.ServiceMain;

/**
 * The embedded single-node broker as a process of its own, so that a fault test can stop,
 * kill and restart it: {@code --set broker.data-dir=DIR --set broker.port=9092
 * --set broker.controller-port=9093}. The same data directory keeps topics and offsets.
 */
public final class BrokerMain {

    private BrokerMain() {
    }

    public static void main(String[] args) {
        ServiceMain.run("llmq-broker", args, (Settings s) -> EmbeddedKafka.start(
                Path.of(s.required("broker.data-dir")), s.integer("broker.port", 9092),
                s.integer("broker.controller-port", 9093), Map.of()));
    }
}
