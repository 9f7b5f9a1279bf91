package llmq.worker.endpoints;

import java.util.Locale;
import llmq.common.config.ConfigException;

/** How the pool spreads calls over the endpoints of a model ({@code worker.load-balancing}). */
public enum Balancing {
    /** Smooth weighted round robin (nginx's): each endpoint gets its weight's share, interleaved. */
    ROUND_ROBIN,
    /** The endpoint with the fewest calls in flight per unit of weight; ties rotate. */
    LEAST_OUTSTANDING;

    public static Balancing parse(String value) {
        switch (value.trim().toLowerCase(Locale.ROOT)) {
            case "round-robin": case "weighted-round-robin": return ROUND_ROBIN;
            case "least-outstanding": case "least-outstanding-requests": return LEAST_OUTSTANDING;
            default: throw new ConfigException("worker.load-balancing", value, "must be round-robin or least-outstanding");
        }
    }
}
