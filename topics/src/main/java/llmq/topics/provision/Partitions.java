package llmq.topics.provision;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;

/** The partitions of topics a reader assigns itself. */
public final class Partitions {

    private Partitions() {
    }

    /**
     * Every partition of {@code topics}, as the broker reports them within {@code timeout}.
     *
     * @throws KafkaException if a topic does not exist (yet), so that a reader retries rather than
     *                        assigning itself nothing
     */
    public static List<TopicPartition> of(Consumer<?, ?> consumer, Collection<String> topics, Duration timeout) {
        List<TopicPartition> partitions = new ArrayList<>();
        for (String topic : topics) {
            List<PartitionInfo> infos = consumer.partitionsFor(topic, timeout);
            if (infos == null || infos.isEmpty()) {
                throw new KafkaException("topic " + topic + " does not exist (yet)");
            }
            infos.forEach(p -> partitions.add(new TopicPartition(topic, p.partition())));
        }
        return partitions;
    }
}
