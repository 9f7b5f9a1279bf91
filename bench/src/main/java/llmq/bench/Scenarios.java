package llmq.bench;

import java.util.List;
import java.util.Optional;
import llmq.bench.report.Renderer;
import llmq.bench.scenarios.AgingScenario;
import llmq.bench.scenarios.BaselineScenario;
import llmq.bench.scenarios.EndToEndScenario;
import llmq.bench.scenarios.FairnessScenario;
import llmq.bench.scenarios.IngestScenario;
import llmq.bench.scenarios.FloodScenario;
import llmq.bench.scenarios.PriorityIsolationScenario;
import llmq.bench.scenarios.SinkScenario;
import llmq.bench.scenarios.StartupScenario;
import llmq.bench.scenarios.WorkerScenario;

/** Every scenario, in the order {@code bench/run} runs them (the baseline first: the others' ratios use it). */
public final class Scenarios {

    private Scenarios() {
    }

    public static List<Scenario> all() {
        return List.of(new BaselineScenario(), new IngestScenario(), new EndToEndScenario(), new PriorityIsolationScenario(),
                new FairnessScenario(), new AgingScenario(), new SinkScenario(), new StartupScenario(), new WorkerScenario());
    }

    /**
     * Scenarios run only when named ({@code bench/run flood}): deliberate overloads that show a known
     * gap, whose figures are not meant to repeat from run to run.
     */
    public static List<Scenario> extras() {
        return List.of(new FloodScenario());
    }

    public static Optional<Scenario> byName(String name) {
        return java.util.stream.Stream.concat(all().stream(), extras().stream()).filter(s -> s.name().equals(name)).findFirst();
    }

    /** The table order for the renderer. */
    public static List<Renderer.Entry> order() {
        return java.util.stream.Stream.concat(all().stream(), extras().stream())
                .map(s -> new Renderer.Entry(s.name(), s.number())).toList();
    }
}
