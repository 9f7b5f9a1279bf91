package llmq.billing.cdc;

import io.debezium.embedded.KafkaConnectUtil;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.connect.runtime.WorkerConfig;
import org.apache.kafka.connect.storage.KafkaOffsetBackingStore;
import org.apache.kafka.connect.util.SharedTopicAdmin;

/**
 * Kafka Connect's offset store over a compacted Kafka topic, as Debezium's own
 * {@code offset.storage=...KafkaOffsetBackingStore} builds it, except that the admin client it
 * creates is closed with the store. (Debezium 3.6's embedded engine never closes that admin
 * client, so every engine restart after a database outage would leave one running.)
 */
public final class OffsetStore extends KafkaOffsetBackingStore {

    private final AtomicReference<SharedTopicAdmin> admin;

    public OffsetStore() {
        this(new AtomicReference<>());
    }

    private OffsetStore(AtomicReference<SharedTopicAdmin> admin) {
        super(() -> admin.get().topicAdmin(), () -> "llmq-billing-cdc-", KafkaConnectUtil.converterForOffsetStore());
        this.admin = admin;
    }

    @Override
    public void configure(WorkerConfig config) {
        Map<String, Object> props = new HashMap<>(config.originals());
        props.put(CommonClientConfigs.CLIENT_ID_CONFIG, "llmq-billing-cdc-offsets-admin");
        admin.set(new SharedTopicAdmin(props));
        super.configure(config);
    }

    @Override
    public void stop() {
        try {
            super.stop();
        } finally {
            SharedTopicAdmin a = admin.getAndSet(null);
            if (a != null) {
                a.close();
            }
        }
    }
}
