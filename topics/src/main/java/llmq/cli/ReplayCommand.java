package llmq.cli;

import java.io.PrintWriter;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import llmq.common.config.Settings;
import llmq.common.kafka.KafkaConfig;
import llmq.schemas.registry.HttpSchemaRegistryClient;
import llmq.topics.catalog.TopicCatalog;
import llmq.topics.catalog.TopicSerdes;
import llmq.topics.replay.Position;
import llmq.topics.replay.RecordFilter;
import llmq.topics.replay.Replayer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code llmq replay}: re-drive a range of a topic into the stage that processes it. */
@Command(name = "replay", mixinStandardHelpOptions = true,
        description = {"Re-publish a range of a topic into the stage that consumes it (see docs/runbook.md for what each topic's replay does).",
            "Interrupted? Run the same command with the printed --name to resume."})
final class ReplayCommand implements Callable<Integer> {

    @ParentCommand
    LlmqCli root;
    @Spec
    CommandSpec spec;

    @Option(names = "--topic", required = true, description = "topic to read, e.g. llm.usage")
    String topic;
    @Option(names = "--from", required = true, description = "earliest, latest, an offset, an instant, a date, or a time ago (2h)")
    String from;
    @Option(names = "--to", description = "end (exclusive), same forms; default: the current end")
    String to;
    @Option(names = "--partition", split = ",", description = "partitions to read (default all)")
    List<Integer> partitions = List.of();
    @Option(names = "--filter", description = "tenant=..,model=..,status=..,priority=..")
    String filter;
    @Option(names = "--into", description = "publish into this topic instead of the default target")
    String into;
    @Option(names = "--rate", description = "records per second (default unlimited)")
    double rate;
    @Option(names = "--dry-run", description = "count per partition, tenant and priority; change nothing")
    boolean dryRun;
    @Option(names = "--rerun", description = "mark requests as deliberate re-runs: the router admits them even within the dedup window")
    boolean rerun;
    @Option(names = "--name", description = "name of this replay (resume with the same name); default generated")
    String name;

    @Override
    public Integer call() throws Exception {
        return run(root, spec.commandLine().getOut(), topic, from, to, partitions, filter, into, rate, dryRun, rerun, name, null);
    }

    /** Shared with {@code llmq dlq replay}. */
    static int run(LlmqCli root, PrintWriter out, String topic, String from, String to, List<Integer> partitions,
                   String filter, String into, double rate, boolean dryRun, boolean rerun, String name, String model)
            throws Exception {
        Settings s = root.settings();
        KafkaConfig kafka = KafkaConfig.from(s);
        TopicCatalog catalog = TopicCatalog.from(s);
        TopicSerdes serdes = new TopicSerdes(new HttpSchemaRegistryClient(kafka.registryUrl()));
        Instant now = Instant.now();
        String replayName = name != null ? name : topic.replace('.', '-') + "-" + UUID.randomUUID().toString().substring(0, 8);
        Replayer.Plan plan = new Replayer.Plan(topic, Position.parse(from, now), to == null ? null : Position.parse(to, now),
                new HashSet<>(partitions), RecordFilter.parse(filter), into, rate, dryRun, replayName, rerun, model);
        try (Admin admin = root.admin(s);
             KafkaProducer<byte[], byte[]> producer = dryRun ? null
                     : new KafkaProducer<>(kafka.producer("llmq-replay"), new ByteArraySerializer(), new ByteArraySerializer())) {
            if (!dryRun) {
                out.println("replay " + replayName + " (resume with --name " + replayName + ")");
            }
            ProgressBar bar = new ProgressBar(out, System.console() != null);
            Replayer.Report r = new Replayer(admin, kafka.consumer("llmq-replay", Replayer.group(replayName)), producer,
                    catalog, serdes).run(plan, bar);
            bar.finish();
            print(out, r, dryRun);
        }
        return 0;
    }

    private static void print(PrintWriter out, Replayer.Report r, boolean dryRun) {
        out.printf("%s: %d records read, %d matched%s, %d %s%s%n", dryRun ? "dry run" : "replay " + r.name(),
                r.scanned(), r.matched(), r.resumed() ? " (resumed)" : "", dryRun ? r.matched() - r.skipped() : r.published(),
                dryRun ? "would be published" : "published", r.skipped() > 0 ? ", " + r.skipped() + " not replayable" : "");
        table(out, "partition", r.perPartition());
        table(out, "tenant", r.perTenant());
        table(out, "priority", r.perPriority());
        table(out, "into", r.perTarget());
    }

    private static void table(PrintWriter out, String what, Map<?, Long> counts) {
        if (counts.isEmpty()) {
            return;
        }
        out.println("  by " + what + ":");
        counts.forEach((k, v) -> out.printf("    %-40s %10d%n", k, v));
    }
}
