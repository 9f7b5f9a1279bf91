package llmq.billing;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import llmq.topics.catalog.TopicCatalog;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * billing-stream's own topic, the only one outside the shared catalog because its values are
 * billing's internal type ({@code llmq.billing.internal.avro.UsageAggregate}): the compacted topic
 * of the aggregates' current values, keyed by aggregate key, read by the sink. Created at start if
 * missing, with the request-path partition count. (The CDC offsets topic is created by Kafka
 * Connect's offset store itself.)
 */
final class BillingTopics {

    private static final Logger LOG = LoggerFactory.getLogger(BillingTopics.class);

    private BillingTopics() {
    }

    static void ensureAggregates(Admin admin, String topic, TopicCatalog catalog) throws InterruptedException {
        NewTopic t = new NewTopic(topic, Optional.of(catalog.partitions()),
                catalog.replicationFactor() < 0 ? Optional.empty() : Optional.of(catalog.replicationFactor()))
                .configs(Map.of("cleanup.policy", "compact"));
        try {
            admin.createTopics(List.of(t)).all().get();
            LOG.info("created topic {}", topic);
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw new IllegalStateException("cannot create topic " + topic + ": " + e.getCause(), e.getCause());
            }
        }
    }
}
