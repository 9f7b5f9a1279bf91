package llmq.billing.rerate;

import java.io.PrintStream;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import llmq.avro.UsageEvent;
import llmq.common.config.ConfigException;
import llmq.common.config.Settings;
import llmq.common.db.DbConfig;
import llmq.common.kafka.KafkaConfig;
import llmq.common.lifecycle.ServiceMain;
import llmq.schemas.registry.HttpSchemaRegistryClient;
import llmq.topics.catalog.TopicCatalog;
import llmq.topics.catalog.TopicSerdes;

/**
 * {@code llmq.billing.rerate.RerateCommand --from <instant> --to <instant> [--run-id <id>]
 * [--config <file>] [--set key=value]...}: re-prices the usage of [from, to) under the current
 * {@code model_prices} into {@code usage_rerated} (see {@link Rerater}) and prints what it did and
 * how it compares with what was billed. Connection settings as for the services
 * ({@code kafka.bootstrap.servers}, {@code registry.url}, {@code db.url}, ...). Exit status 0 on
 * success, 2 on bad arguments, 1 on failure.
 */
public final class RerateCommand {

    private RerateCommand() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs the command; returns the exit status. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        Instant from = null;
        Instant to = null;
        String runId = null;
        List<String> rest = new ArrayList<>();
        try {
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--from" -> from = Instant.parse(value(args, ++i, "--from"));
                    case "--to" -> to = Instant.parse(value(args, ++i, "--to"));
                    case "--run-id" -> runId = value(args, ++i, "--run-id");
                    case "-h", "--help" -> {
                        usage(out);
                        return 0;
                    }
                    default -> rest.add(args[i]);
                }
            }
            if (from == null || to == null) {
                throw new ConfigException(from == null ? "--from" : "--to", null, "is required");
            }
            if (!from.isBefore(to)) {
                throw new ConfigException("--from", from.toString(), "must be before --to " + to);
            }
            Settings settings = ServiceMain.parse(rest.toArray(String[]::new));
            KafkaConfig kafka = KafkaConfig.from(settings);
            TopicCatalog catalog = TopicCatalog.from(settings);
            TopicSerdes serdes = new TopicSerdes(new HttpSchemaRegistryClient(kafka.registryUrl()));
            String id = runId != null ? runId : "rerate-" + from + "-" + UUID.randomUUID().toString().substring(0, 8);
            Rerater.Summary s = new Rerater(kafka, DbConfig.from(settings), catalog.usage().name(),
                    serdes.value(UsageEvent.class)).run(id, from, to);
            print(s, out);
            return 0;
        } catch (ConfigException | DateTimeParseException | IllegalArgumentException e) {
            err.println("rerate: " + e.getMessage());
            usage(err);
            return 2;
        } catch (Exception e) {
            err.println("rerate failed: " + e);
            return 1;
        }
    }

    private static String value(String[] args, int i, String option) {
        if (i >= args.length) {
            throw new ConfigException(option, null, "needs a value");
        }
        return args[i];
    }

    private static void usage(PrintStream out) {
        out.println("usage: rerate --from <ISO instant> --to <ISO instant> [--run-id <id>] [--config <file>] [--set key=value]...");
        out.println("Re-prices llm.usage of [from, to) under the current model_prices into usage_rerated (run id);");
        out.println("usage_records is not touched. Settings as for the services: kafka.bootstrap.servers, registry.url, db.url.");
    }

    static void print(Rerater.Summary s, PrintStream out) {
        out.printf("run %s: usage of [%s, %s)%n", s.runId(), s.from(), s.to());
        out.printf("  usage events read %d, in range %d, rows in usage_rerated %d (unpriced %d, not billed yet %d)%n",
                s.read(), s.inRange(), s.rows(), s.unpriced(), s.notBilled());
        s.rerated().forEach((currency, cost) -> out.printf("  %s re-rated %s, billed %s, difference %s%n", currency,
                cost.toPlainString(), s.billed().get(currency).toPlainString(),
                cost.subtract(s.billed().get(currency)).toPlainString()));
        out.printf("  rows: SELECT * FROM usage_rerated WHERE run_id = '%s'%n", s.runId());
    }
}
