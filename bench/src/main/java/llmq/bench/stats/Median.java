package llmq.bench.stats;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** The median of a few rounds' figures (the mean of the middle two for an even count). */
public final class Median {

    private Median() {
    }

    public static double of(List<Double> values) {
        if (values.isEmpty()) {
            throw new IllegalArgumentException("no values");
        }
        List<Double> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }
}
