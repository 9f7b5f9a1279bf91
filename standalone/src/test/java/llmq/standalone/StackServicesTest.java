package llmq.standalone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import llmq.common.config.ConfigException;
import llmq.common.config.Settings;
import org.junit.jupiter.api.Test;

class StackServicesTest {

    private static Settings services(String value) {
        return Settings.of(Map.of(Stack.SERVICES_KEY, value));
    }

    @Test
    void shouldStartRouterWorkerAndBillingWhenNotSet() {
        assertThat(Stack.services(Settings.of(Map.of()))).containsExactly("router", "worker", "billing");
    }

    @Test
    void shouldStartOnlyTheNamedServicesAndNoneForNone() {
        assertThat(Stack.services(services(" Router, worker "))).containsExactly("router", "worker");
        assertThat(Stack.services(services("none"))).isEmpty();
        assertThat(Stack.services(services("ingest"))).isEmpty();
    }

    @Test
    void shouldRefuseAnUnknownServiceNamingTheKeyAndTheName() {
        assertThatThrownBy(() -> Stack.services(services("router,routr")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining(Stack.SERVICES_KEY)
                .hasMessageContaining("routr");
    }
}
