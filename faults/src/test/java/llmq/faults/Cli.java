package llmq.faults;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import llmq.cli.LlmqCli;

/** Runs the {@code llmq} admin CLI in-process against a cluster, as an operator would. */
final class Cli {

    private Cli() {
    }

    /** Runs {@code llmq <args>}; returns its output, failing on a non-zero exit code. */
    static String run(String bootstrap, String registryUrl, String... args) {
        List<String> all = new ArrayList<>(List.of("--bootstrap-servers", bootstrap, "--set", "registry.url=" + registryUrl));
        all.addAll(List.of(args));
        StringWriter out = new StringWriter();
        int rc = LlmqCli.run(all.toArray(String[]::new), new PrintWriter(out, true), new PrintWriter(out, true));
        if (rc != 0) {
            throw new AssertionError("llmq " + String.join(" ", args) + " exited " + rc + ":\n" + out);
        }
        return out.toString();
    }
}
