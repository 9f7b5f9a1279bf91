package llmq.bench.stats;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class JainTest {

    @Test
    void shouldBeOneWhenEveryPartyGetsTheSame() {
        assertThat(Jain.index(new double[] {5, 5, 5, 5})).isEqualTo(1.0);
    }

    @Test
    void shouldBeOneOverNWhenOnePartyGetsEverything() {
        assertThat(Jain.index(new double[] {10, 0, 0, 0, 0})).isCloseTo(0.2, within(1e-12));
    }

    @Test
    void shouldMatchTheFormulaForUnevenService() {
        // (1 + 2 + 3)² / (3 · (1 + 4 + 9)) = 36 / 42
        assertThat(Jain.index(new double[] {1, 2, 3})).isCloseTo(36.0 / 42.0, within(1e-12));
    }

    @Test
    void shouldNotDependOnTheUnitOfService() {
        assertThat(Jain.index(new double[] {3, 7, 11})).isCloseTo(Jain.index(new double[] {3000, 7000, 11000}), within(1e-12));
    }

    @Test
    void shouldTreatNoServiceAtAllAsEvenAndNoPartiesAsUndefined() {
        assertThat(Jain.index(new double[] {0, 0})).isEqualTo(1.0);
        assertThat(Jain.index(new double[0])).isNaN();
    }

    @Test
    void shouldRefuseNegativeService() {
        assertThatThrownBy(() -> Jain.index(new double[] {1, -1})).isInstanceOf(IllegalArgumentException.class);
    }
}
