package llmq.worker.endpoints;

import java.util.List;

/**
 * How one requested model name is served, from {@code worker.models.<name>.*}: the model id
 * sent upstream (so that {@code <name>} may be an alias), the endpoints that serve it (empty:
 * every endpoint whose {@code models} admit the upstream id) and the models to fall back to,
 * in order, when none of its endpoints is available (circuit open or failing health probes).
 *
 * @param name      the model name requests use
 * @param upstream  the model id sent to the endpoint
 * @param endpoints endpoint names, or empty for "whoever serves {@code upstream}"
 * @param fallbacks model names tried in order when no endpoint of this one is available
 */
public record ModelRoute(String name, String upstream, List<String> endpoints, List<String> fallbacks) {

    public ModelRoute {
        endpoints = List.copyOf(endpoints);
        fallbacks = List.copyOf(fallbacks);
    }
}
