package llmq.ingest.models;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;
import llmq.avro.ModelPrice;
import llmq.ingest.submit.InvalidRequestException;
import org.junit.jupiter.api.Test;

class KnownModelsTest {

    private static ModelPrice price(String model) {
        return ModelPrice.newBuilder().setId(1).setModel(model).setInputPerMillion(new BigDecimal("1.000000"))
                .setOutputPerMillion(new BigDecimal("2.000000")).setEffectiveFrom(Instant.EPOCH).build();
    }

    @Test
    void shouldAcceptAnyModelUntilSomeAreKnown() {
        KnownModels models = new KnownModels(List.of());
        models.check("anything", "model");
        models.onPrice("7", price("priced"));
        assertThatThrownBy(() -> models.check("anything", "model")).isInstanceOfSatisfying(InvalidRequestException.class, e -> {
            assertThat(e.errors().get(0).field()).isEqualTo("model");
            assertThat(e.getMessage()).contains("known models: priced");
        });
    }

    @Test
    void shouldKnowConfiguredAndPricedModelsUntilThePriceIsDeleted() {
        KnownModels models = new KnownModels(List.of("configured"));
        models.onPrice("7", price("priced"));
        assertThat(models.all()).containsExactly("configured", "priced");
        models.onPrice("7", null);
        assertThat(models.accepts("priced")).isFalse();
        assertThat(models.accepts("configured")).isTrue();
    }
}
