package llmq.topics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import java.util.stream.Collectors;
import llmq.avro.Priority;
import llmq.common.config.ConfigException;
import llmq.common.config.Settings;
import llmq.topics.catalog.TopicCatalog;
import llmq.topics.catalog.TopicSpec;
import org.junit.jupiter.api.Test;

class TopicCatalogTest {

    @Test
    void shouldDeclareEveryDesignTopicOnce() {
        TopicCatalog c = TopicCatalog.defaults();
        assertThat(c.all()).extracting(TopicSpec::name).doesNotHaveDuplicates().contains(
                "llm.requests", "llm.requests.realtime", "llm.requests.high", "llm.requests.normal", "llm.requests.low",
                "llm.queue.realtime", "llm.queue.high", "llm.queue.normal", "llm.queue.low",
                "llm.events", "llm.results", "llm.usage", "llm.billing", "llm.dlq",
                "llm.config.prices", "llm.config.tenants", "llm.config.api-keys", "llm.budgets", "llm.batches",
                "llm.callbacks");
        for (Priority p : Priority.values()) {
            assertThat(c.queue(p).name()).isEqualTo("llm.queue." + p.name().toLowerCase());
        }
    }

    @Test
    void shouldGiveRequestPathTopicsOnePartitionCount() {
        TopicCatalog c = TopicCatalog.from(Settings.of(Map.of("topics.partitions", "12")));
        assertThat(c.all().stream().filter(t -> t.name().startsWith("llm.") && !t.name().startsWith("llm.config."))
                .map(TopicSpec::partitions).collect(Collectors.toSet())).containsExactly(12);
    }

    @Test
    void shouldCompactConfigTopicsAndKeepResultsForAWeek() {
        TopicCatalog c = TopicCatalog.defaults();
        assertThat(c.configPrices().config()).containsEntry("cleanup.policy", "compact");
        assertThat(c.batches().config()).containsEntry("cleanup.policy", "compact");
        assertThat(c.callbacks().config()).containsEntry("cleanup.policy", "delete")
                .containsEntry("retention.ms", Long.toString(7L * 24 * 3600 * 1000));
        assertThat(c.results().config()).containsEntry("cleanup.policy", "compact,delete")
                .containsEntry("retention.ms", Long.toString(7L * 24 * 3600 * 1000));
        assertThat(c.events().config()).containsEntry("retention.ms", Long.toString(3L * 24 * 3600 * 1000));
    }

    @Test
    void shouldRejectZeroPartitionsNamingTheKey() {
        assertThatThrownBy(() -> TopicCatalog.from(Settings.of(Map.of("topics.partitions", "0"))))
                .isInstanceOf(ConfigException.class).hasMessageContaining("topics.partitions");
        assertThatThrownBy(() -> TopicCatalog.from(Settings.of(Map.of("topics.partitions", "six"))))
                .isInstanceOf(ConfigException.class).hasMessageContaining("topics.partitions").hasMessageContaining("six");
    }
}
