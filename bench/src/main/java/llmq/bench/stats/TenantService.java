package llmq.bench.stats;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Token service received by tenants over time, as the Virtual Token Counter counts it, and the two
 * fairness figures derived from it: Jain's index per window and the largest service gap between
 * two tenants over any sub-interval (VTC's bound for backlogged tenants is 2 × the largest single
 * request's cost; Sheng et al., OSDI 2024).
 */
public final class TenantService {

    /** One request's service to {@code tenant}, counted at {@code atMillis}. */
    public record Served(long atMillis, String tenant, long cost) {
    }

    private TenantService() {
    }

    /** VTC's service measure of one request: input tokens + 2 × output tokens. */
    public static long cost(int promptTokens, int completionTokens) {
        return promptTokens + 2L * completionTokens;
    }

    /**
     * Jain's index of the service each of {@code tenants} received in each full window of
     * {@code windowMillis} in {@code [from, to)}; a window with no service at all is left out.
     */
    public static List<Double> jainPerWindow(List<Served> served, Collection<String> tenants, long from, long to,
                                             long windowMillis) {
        if (windowMillis <= 0) {
            throw new IllegalArgumentException("window must be positive");
        }
        int windows = (int) ((to - from) / windowMillis);
        List<String> names = new ArrayList<>(tenants);
        Map<String, Integer> index = new HashMap<>();
        for (int i = 0; i < names.size(); i++) {
            index.put(names.get(i), i);
        }
        double[][] perWindow = new double[Math.max(windows, 0)][names.size()];
        for (Served s : served) {
            Integer t = index.get(s.tenant());
            if (t == null || s.atMillis() < from) {
                continue;
            }
            int w = (int) ((s.atMillis() - from) / windowMillis);
            if (w < windows) {
                perWindow[w][t] += s.cost();
            }
        }
        List<Double> out = new ArrayList<>();
        for (double[] w : perWindow) {
            double total = 0;
            for (double x : w) {
                total += x;
            }
            if (total > 0) {
                out.add(Jain.index(w));
            }
        }
        return out;
    }

    /**
     * The largest difference in service between any two of {@code tenants} over any sub-interval
     * of {@code [from, to]}: for each pair, the range (max − min) of the running difference of
     * their cumulative service; the maximum over all pairs.
     */
    public static long maxGap(List<Served> served, Collection<String> tenants, long from, long to) {
        List<String> names = new ArrayList<>(tenants);
        int n = names.size();
        Map<String, Integer> index = new HashMap<>();
        for (int i = 0; i < n; i++) {
            index.put(names.get(i), i);
        }
        List<Served> inRange = new ArrayList<>();
        for (Served s : served) {
            if (s.atMillis() >= from && s.atMillis() <= to && index.containsKey(s.tenant())) {
                inRange.add(s);
            }
        }
        inRange.sort(Comparator.comparingLong(Served::atMillis));
        long[] cumulative = new long[n];
        long[][] min = new long[n][n];
        long[][] max = new long[n][n];
        long gap = 0;
        for (Served s : inRange) {
            int t = index.get(s.tenant());
            cumulative[t] += s.cost();
            for (int o = 0; o < n; o++) {
                if (o == t) {
                    continue;
                }
                int i = Math.min(t, o);
                int j = Math.max(t, o);
                long d = cumulative[i] - cumulative[j];
                min[i][j] = Math.min(min[i][j], d);
                max[i][j] = Math.max(max[i][j], d);
                gap = Math.max(gap, max[i][j] - min[i][j]);
            }
        }
        return gap;
    }
}
