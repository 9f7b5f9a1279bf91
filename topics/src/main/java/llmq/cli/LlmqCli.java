package llmq.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import llmq.common.config.ConfigException;
import llmq.common.config.Settings;
import llmq.common.kafka.KafkaConfig;
import org.apache.kafka.clients.admin.Admin;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The {@code llmq} admin command line: {@code llmq topics apply|diff|list}. Connection settings
 * come from the same layered configuration the services use ({@code --config}, {@code --set},
 * {@code LLMQ_*} environment variables).
 */
@Command(name = "llmq", mixinStandardHelpOptions = true, version = "llmq 0.1.0",
        description = "Administer llmq: topics, replay, dead letters, lag, offsets, the database schema.",
        subcommands = {TopicsCommand.class, ReplayCommand.class, DlqCommand.class, LagCommand.class, ResetOffsetsCommand.class,
            DbCommand.class})
public final class LlmqCli {

    @Option(names = "--config", description = "properties file with llmq settings")
    Path config;

    @Option(names = "--set", description = "a setting key=value (repeatable)")
    Map<String, String> overrides = new LinkedHashMap<>();

    @Option(names = {"-b", "--bootstrap-servers"}, description = "Kafka bootstrap servers (kafka.bootstrap.servers)")
    String bootstrapServers;

    /** The settings these options describe. */
    Settings settings() {
        Map<String, String> o = new LinkedHashMap<>(overrides);
        if (bootstrapServers != null) {
            o.put("kafka.bootstrap.servers", bootstrapServers);
        }
        return Settings.builder().file(config).environment(System.getenv()).systemProperties().overrides(o).build();
    }

    /** An admin client for the configured cluster. */
    Admin admin(Settings s) {
        return Admin.create(KafkaConfig.from(s).common("llmq-cli"));
    }

    /** Runs the CLI with {@code args}, printing to the given writers; returns the exit code. */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        return commandLine(out, err).execute(args);
    }

    /** The configured command line, so that a launcher can add subcommands of its own. */
    public static CommandLine commandLine(PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(new LlmqCli());
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            if (ex instanceof ConfigException) {
                commandLine.getErr().println("llmq: " + ex.getMessage());
                return 2;
            }
            commandLine.getErr().println("llmq: " + ex);
            return 1;
        });
        return cl;
    }

    public static void main(String[] args) {
        PrintWriter out = new PrintWriter(System.out, true);
        PrintWriter err = new PrintWriter(System.err, true);
        System.exit(run(args, out, err));
    }
}
