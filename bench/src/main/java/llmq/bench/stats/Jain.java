package llmq.bench.stats;

/**
 * Jain's fairness index, {@code (Σx)² / (n · Σx²)}: 1 when every party got the same service,
 * {@code 1/n} when one party got all of it (Jain, Chiu and Hawe, DEC-TR-301, 1984).
 */
public final class Jain {

    private Jain() {
    }

    /**
     * The index of {@code service} (one non-negative amount per party). All-zero service is
     * perfectly even (1); no party at all has no index (NaN).
     */
    public static double index(double[] service) {
        if (service.length == 0) {
            return Double.NaN;
        }
        double sum = 0;
        double squares = 0;
        for (double x : service) {
            if (x < 0 || Double.isNaN(x)) {
                throw new IllegalArgumentException("service must be a non-negative number: " + x);
            }
            sum += x;
            squares += x * x;
        }
        return squares == 0 ? 1.0 : sum * sum / (service.length * squares);
    }
}
