package llmq.bench.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

    @Test
    void lastTwoWithinComparesTheLastTwoToTheLarger() {
        assertFalse(Median.lastTwoWithin(List.of(), 0.1));
        assertFalse(Median.lastTwoWithin(List.of(100.0), 0.1));
        assertTrue(Median.lastTwoWithin(List.of(10.0, 91.0, 100.0), 0.1));
        assertFalse(Median.lastTwoWithin(List.of(100.0, 89.0), 0.1));
    }
}
