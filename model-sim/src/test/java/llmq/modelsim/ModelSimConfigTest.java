package llmq.modelsim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import llmq.common.config.ConfigException;
import llmq.common.config.Settings;
import org.junit.jupiter.api.Test;

class ModelSimConfigTest {

    @Test
    void shouldBindDocumentedDefaults() {
        ModelSimConfig c = ModelSimConfig.defaults();
        assertThat(c.host()).isEqualTo("127.0.0.1");
        assertThat(c.port()).isEqualTo(8090);
        assertThat(c.models()).isEmpty();
        assertThat(c.listedModels()).containsExactly("sim-small", "sim-large");
        assertThat(c.accepts("anything")).isTrue();
        assertThat(c.apiKey()).isNull();
        assertThat(c.ttft()).isEqualTo(Duration.ZERO);
        assertThat(c.perToken()).isEqualTo(Duration.ZERO);
        assertThat(c.jitter()).isZero();
        assertThat(c.streamChunkTokens()).isEqualTo(1);
        assertThat(c.completionTokensMin()).isEqualTo(8);
        assertThat(c.completionTokensMax()).isEqualTo(64);
        assertThat(c.faults().rateLimitRate()).isZero();
        assertThat(c.faults().retryAfter()).isEqualTo(Duration.ofSeconds(1));
        assertThat(c.faults().serverErrorRate()).isZero();
        assertThat(c.faults().serverErrorCodes()).containsExactly(500, 503);
        assertThat(c.faults().timeoutRate()).isZero();
        assertThat(c.faults().hang()).isEqualTo(Duration.ofSeconds(60));
        assertThat(c.seed()).isEqualTo(42L);
        assertThat(c.auditFile()).isNull();
        assertThat(c.threads()).isEqualTo(4);
    }

    @Test
    void shouldBindEveryKey() {
        ModelSimConfig c = ModelSimConfig.from(Settings.of(Map.ofEntries(
                Map.entry("modelsim.models", "a, b"),
                Map.entry("modelsim.api-key", "sk-test"),
                Map.entry("modelsim.ttft", "150ms"),
                Map.entry("modelsim.per-token", "2ms"),
                Map.entry("modelsim.jitter", "0.25"),
                Map.entry("modelsim.fail.rate-limit-rate", "0.1"),
                Map.entry("modelsim.fail.retry-after", "3s"),
                Map.entry("modelsim.fail.server-error-codes", "502"),
                Map.entry("modelsim.fail.hang", "5s"),
                Map.entry("modelsim.seed", "7"),
                Map.entry("modelsim.audit-file", "target/tmp/audit.jsonl"))));
        assertThat(c.models()).isEqualTo(List.of("a", "b"));
        assertThat(c.accepts("c")).isFalse();
        assertThat(c.apiKey()).isEqualTo("sk-test");
        assertThat(c.ttft()).isEqualTo(Duration.ofMillis(150));
        assertThat(c.perToken()).isEqualTo(Duration.ofMillis(2));
        assertThat(c.jitter()).isEqualTo(0.25);
        assertThat(c.faults().rateLimitRate()).isEqualTo(0.1);
        assertThat(c.faults().retryAfter()).isEqualTo(Duration.ofSeconds(3));
        assertThat(c.faults().serverErrorCodes()).containsExactly(502);
        assertThat(c.faults().hang()).isEqualTo(Duration.ofSeconds(5));
        assertThat(c.seed()).isEqualTo(7L);
        assertThat(c.auditFile()).hasFileName("audit.jsonl");
    }

    @Test
    void shouldRejectOutOfRangeRateNamingTheKey() {
        assertThatThrownBy(() -> SimClient.config("modelsim.fail.server-error-rate", "1.5"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("modelsim.fail.server-error-rate")
                .satisfies(e -> assertThat(((ConfigException) e).key()).isEqualTo("modelsim.fail.server-error-rate"));
    }

    @Test
    void shouldRejectFailureRatesAddingUpAboveOne() {
        assertThatThrownBy(() -> SimClient.config("modelsim.fail.rate-limit-rate", "0.6",
                "modelsim.fail.timeout-rate", "0.6"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("modelsim.fail.timeout-rate");
    }

    @Test
    void shouldRejectInvalidValuesNamingTheKey() {
        assertThatThrownBy(() -> SimClient.config("modelsim.completion-tokens.min", "10",
                "modelsim.completion-tokens.max", "5"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("modelsim.completion-tokens.max");
        assertThatThrownBy(() -> SimClient.config("modelsim.jitter", "2"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("modelsim.jitter");
        assertThatThrownBy(() -> SimClient.config("modelsim.ttft", "soon"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("modelsim.ttft");
        assertThatThrownBy(() -> SimClient.config("modelsim.port", "70000"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("modelsim.port");
        assertThatThrownBy(() -> SimClient.config("modelsim.fail.server-error-codes", "500,429"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("modelsim.fail.server-error-codes");
        assertThatThrownBy(() -> SimClient.config("modelsim.threads", "0"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("modelsim.threads");
    }

    @Test
    void shouldNeverShowTheApiKeyInToString() {
        assertThat(SimClient.config("modelsim.api-key", "sk-very-secret").toString())
                .doesNotContain("sk-very-secret").contains("apiKey=****");
    }
}
