package llmq.router.topology;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import llmq.common.config.Settings;
import llmq.router.RouterConfig;
import llmq.router.view.RouterMetrics;
import llmq.schemas.registry.InMemorySchemaRegistryClient;
import llmq.topics.catalog.TopicCatalog;
import llmq.topics.catalog.TopicSerdes;
import org.apache.kafka.streams.TopologyDescription;
import org.junit.jupiter.api.Test;

/** The shape the latency budget depends on: how many transactions a request crosses. */
class TopologyShapeTest {

    private final TopologyDescription description = RouterTopology.build(RouterConfig.from(Settings.of(Map.of())),
            TopicCatalog.defaults(), new TopicSerdes(new InMemorySchemaRegistryClient()), RouterMetrics.detached()).describe();

    private TopologyDescription.Subtopology holding(String node) {
        return description.subtopologies().stream()
                .filter(s -> s.nodes().stream().anyMatch(n -> n.name().equals(node)))
                .findFirst().orElseThrow(() -> new AssertionError("no sub-topology holds " + node + ":\n" + description));
    }

    private static Set<String> sourceTopics(TopologyDescription.Subtopology s) {
        return s.nodes().stream().filter(n -> n instanceof TopologyDescription.Source)
                .flatMap(n -> ((TopologyDescription.Source) n).topicSet().stream()).collect(Collectors.toSet());
    }

    @Test
    void shouldDedupAndScheduleARequestWithoutIdempotencyKeyInOneSubTopology() {
        TopologyDescription.Subtopology scheduler = holding("scheduler");
        // one task reads the intake topics, the events and the repartition topic: a request keyed by its
        // own id is deduplicated and released within one transaction
        assertThat(holding("dedup").id()).isEqualTo(scheduler.id());
        assertThat(sourceTopics(scheduler)).contains("llm.requests.realtime", "llm.requests.low", "llm.events")
                .anyMatch(t -> t.endsWith("router-admitted-repartition"));
    }

    @Test
    void shouldKeepClassificationOfThePublicTopicInItsOwnSubTopology() {
        assertThat(holding("classify").id()).isNotEqualTo(holding("scheduler").id());
    }
}
