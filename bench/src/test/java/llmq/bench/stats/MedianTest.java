package llmq.bench.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class MedianTest {

    @Test
    void takesTheMiddleOfAnOddCountWhateverTheOrder() {
        assertEquals(835.0, Median.of(List.of(989.0, 783.0, 835.0)));
    }

    @Test
    void takesTheMeanOfTheMiddleTwoOfAnEvenCount() {
        assertEquals(3.5, Median.of(List.of(4.0, 1.0, 3.0, 9.0)));
    }

    @Test
    void refusesNoValues() {
        assertThrows(IllegalArgumentException.class, () -> Median.of(List.of()));
    }

}
