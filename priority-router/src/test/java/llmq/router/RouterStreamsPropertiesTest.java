package llmq.router;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import llmq.common.config.Settings;
import llmq.common.kafka.KafkaConfig;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.state.HostInfo;
import org.junit.jupiter.api.Test;

class RouterStreamsPropertiesTest {

    private static Map<String, Object> props(Map<String, String> settings) {
        Settings s = Settings.of(settings);
        return RouterService.streamsProperties(KafkaConfig.from(s), RouterConfig.from(s), new HostInfo("127.0.0.1", 8082));
    }

    @Test
    void shouldNeverLetATaskWaitForAnEmptyPartition() {
        assertThat(props(Map.of())).containsEntry(StreamsConfig.MAX_TASK_IDLE_MS_CONFIG,
                StreamsConfig.MAX_TASK_IDLE_MS_DISABLED);
    }

    @Test
    void shouldLetRouterStreamsSettingsOverrideTheRoutersDefaults() {
        Map<String, Object> p = props(Map.of("router.streams.max.task.idle.ms", "0",
                "router.streams.statestore.cache.max.bytes", "1024"));
        assertThat(p).containsEntry(StreamsConfig.MAX_TASK_IDLE_MS_CONFIG, "0")
                .containsEntry(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, "1024")
                .containsEntry(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2)
                .containsEntry(StreamsConfig.APPLICATION_SERVER_CONFIG, "127.0.0.1:8082");
    }
}
