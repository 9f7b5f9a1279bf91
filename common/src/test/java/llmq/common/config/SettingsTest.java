package llmq.common.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import llmq.common.lifecycle.ServiceMain;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SettingsTest {

    @Test
    void shouldLayerFileThenEnvironmentThenOverrides(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("llmq.properties");
        Files.writeString(file, "a=file\nb=file\nc=file\n");
        Settings s = Settings.builder().file(file)
                .environment(Map.of("LLMQ_B", "env", "LLMQ_C", "env"))
                .overrides(Map.of("c", "override"))
                .build();
        assertThat(s.string("a", null)).isEqualTo("file");
        assertThat(s.string("b", null)).isEqualTo("env");
        assertThat(s.string("c", null)).isEqualTo("override");
        assertThat(s.string("missing", "dflt")).isEqualTo("dflt");
    }

    @Test
    void shouldMapDottedAndDashedKeysToEnvironmentNames() {
        Settings s = Settings.builder().environment(Map.of("LLMQ_WORKER_MAX_IN_FLIGHT", "7")).build();
        assertThat(s.integer("worker.max-in-flight", 1)).isEqualTo(7);
    }

    @Test
    void shouldParseDurationsInEveryDocumentedForm() {
        assertThat(Settings.parseDuration("250ms")).isEqualTo(Duration.ofMillis(250));
        assertThat(Settings.parseDuration("30s")).isEqualTo(Duration.ofSeconds(30));
        assertThat(Settings.parseDuration("5m")).isEqualTo(Duration.ofMinutes(5));
        assertThat(Settings.parseDuration("24h")).isEqualTo(Duration.ofHours(24));
        assertThat(Settings.parseDuration("7d")).isEqualTo(Duration.ofDays(7));
        assertThat(Settings.parseDuration("PT1.5S")).isEqualTo(Duration.ofMillis(1500));
    }

    @Test
    void shouldNameTheKeyAndValueOfABadSetting() {
        Settings s = Settings.of(Map.of("router.threads", "two", "x.timeout", "soon", "x.flag", "maybe"));
        assertThatThrownBy(() -> s.integer("router.threads", 1)).isInstanceOf(ConfigException.class)
                .hasMessage("configuration 'router.threads' = 'two' must be an integer");
        assertThatThrownBy(() -> s.duration("x.timeout", Duration.ZERO)).hasMessageContaining("x.timeout");
        assertThatThrownBy(() -> s.bool("x.flag", false)).hasMessageContaining("true or false");
    }

    @Test
    void shouldListPrefixedKeysAndMaskSecrets() {
        Settings s = Settings.of(Map.of("kafka.client.security.protocol", "SSL", "db.password", "hunter2", "a", "b"));
        assertThat(s.withPrefix("kafka.client")).containsExactly(Map.entry("security.protocol", "SSL"));
        assertThat(s.describe()).containsEntry("db.password", "****").containsEntry("a", "b");
    }

    @Test
    void shouldParseCommandLineOptionsAndRejectUnknownOnes() {
        Settings s = ServiceMain.parse(new String[] {"--set", "a=1", "--set=b=2"});
        assertThat(s.string("a", null)).isEqualTo("1");
        assertThat(s.string("b", null)).isEqualTo("2");
        assertThatThrownBy(() -> ServiceMain.parse(new String[] {"--bogus"})).isInstanceOf(ConfigException.class)
                .hasMessageContaining("--bogus");
        assertThatThrownBy(() -> ServiceMain.parse(new String[] {"--set", "novalue"})).hasMessageContaining("key=value");
    }
}
