package llmq.cli;

import java.io.PrintWriter;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import llmq.avro.DeadLetter;
import llmq.common.config.Settings;
import llmq.common.kafka.KafkaConfig;
import llmq.schemas.registry.HttpSchemaRegistryClient;
import llmq.topics.catalog.TopicCatalog;
import llmq.topics.catalog.TopicSerdes;
import llmq.topics.replay.Position;
import llmq.topics.replay.TopicRange;
import org.apache.kafka.clients.admin.Admin;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code llmq dlq list|show|replay}: inspect dead letters and re-drive selected ones. */
@Command(name = "dlq", mixinStandardHelpOptions = true, description = "Inspect and re-drive dead letters (llm.dlq).",
        subcommands = {DlqCommand.ListLetters.class, DlqCommand.Show.class, DlqCommand.Replay.class})
final class DlqCommand {

    @ParentCommand
    LlmqCli root;

    /** Options shared by the subcommands that select dead letters. */
    static class Selection {
        @Option(names = "--since", description = "earliest, an instant, a date or a time ago (default: ${DEFAULT-VALUE})")
        String since = "7d";
        @Option(names = "--until", description = "end, same forms (default: now)")
        String until;
        @Option(names = "--reason", description = "error class, e.g. rate_limited, invalid_request, undecodable")
        String reason;
        @Option(names = "--tenant")
        String tenant;
        @Option(names = "--stage", description = "classifier, router, worker or billing")
        String stage;

        boolean matches(DeadLetter d) {
            return d != null && (reason == null || reason.equals(d.getErrorClass()))
                    && (tenant == null || tenant.equals(d.getTenantId()))
                    && (stage == null || stage.equals(d.getStage()));
        }

        String filter() {
            StringBuilder f = new StringBuilder();
            if (reason != null) {
                f.append("status=").append(reason);
            }
            if (tenant != null) {
                f.append(f.length() > 0 ? "," : "").append("tenant=").append(tenant);
            }
            return f.length() == 0 ? null : f.toString();
        }
    }

    interface Each {
        void accept(String where, DeadLetter d);
    }

    void read(Selection sel, Each each) throws Exception {
        Settings s = root.settings();
        KafkaConfig kafka = KafkaConfig.from(s);
        TopicCatalog catalog = TopicCatalog.from(s);
        TopicSerdes serdes = new TopicSerdes(new HttpSchemaRegistryClient(kafka.registryUrl()));
        Instant now = Instant.now();
        try (Admin admin = root.admin(s)) {
            TopicRange range = TopicRange.resolve(admin, catalog.dlq().name(), Set.of(), Position.parse(sel.since, now),
                    sel.until == null ? null : Position.parse(sel.until, now));
            range.read(kafka.consumer("llmq-dlq", "unused"), r -> {
                DeadLetter d;
                try {
                    d = serdes.value(DeadLetter.class).deserialize(r.topic(), r.value());
                } catch (RuntimeException e) {
                    return;
                }
                if (sel.matches(d)) {
                    each.accept(r.partition() + ":" + r.offset(), d);
                }
            });
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List dead letters, newest last, with a count per reason.")
    static final class ListLetters implements Callable<Integer> {
        @ParentCommand
        DlqCommand dlq;
        @Spec
        CommandSpec spec;
        @picocli.CommandLine.Mixin
        Selection sel = new Selection();

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            Map<String, Integer> byReason = new TreeMap<>();
            out.printf("%-24s %-8s %-36s %-12s %-10s %-18s %s%n", "at", "where", "request", "tenant", "stage", "reason", "message");
            dlq.read(sel, (where, d) -> {
                byReason.merge(d.getErrorClass(), 1, Integer::sum);
                String msg = d.getErrorMessage().length() > 60 ? d.getErrorMessage().substring(0, 57) + "..." : d.getErrorMessage();
                out.printf("%-24s %-8s %-36s %-12s %-10s %-18s %s%n", d.getAt(), where, d.getRequestId(), d.getTenantId(),
                        d.getStage(), d.getErrorClass(), msg.replace('\n', ' '));
            });
            out.println(byReason.isEmpty() ? "no dead letters match" : "by reason: " + byReason);
            return 0;
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "Show dead letters of a request id (or at partition:offset) in full.")
    static final class Show implements Callable<Integer> {
        @ParentCommand
        DlqCommand dlq;
        @Spec
        CommandSpec spec;
        @Parameters(index = "0", description = "request id, or partition:offset")
        String which;
        @picocli.CommandLine.Mixin
        Selection sel = new Selection();

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            int[] found = {0};
            sel.since = sel.since == null ? "earliest" : sel.since;
            dlq.read(sel, (where, d) -> {
                if (which.equals(where) || which.equals(d.getRequestId())) {
                    found[0]++;
                    out.println(where + " " + d);
                }
            });
            if (found[0] == 0) {
                out.println("no dead letter " + which + " since " + sel.since);
                return 1;
            }
            return 0;
        }
    }

    @Command(name = "replay", mixinStandardHelpOptions = true,
            description = "Re-drive the selected dead letters' requests into the router as deliberate re-runs.")
    static final class Replay implements Callable<Integer> {
        @ParentCommand
        DlqCommand dlq;
        @Spec
        CommandSpec spec;
        @picocli.CommandLine.Mixin
        Selection sel = new Selection();
        @Option(names = "--model", description = "run them on this model instead")
        String model;
        @Option(names = "--rate", description = "records per second")
        double rate;
        @Option(names = "--dry-run", description = "count only")
        boolean dryRun;
        @Option(names = "--name", description = "replay name (resume with the same name)")
        String name;

        @Override
        public Integer call() throws Exception {
            if (sel.stage != null) {
                spec.commandLine().getErr().println("llmq: --stage cannot be combined with dlq replay; use --reason/--tenant");
                return 2;
            }
            return ReplayCommand.run(dlq.root, spec.commandLine().getOut(), TopicCatalog.defaults().dlq().name(), sel.since,
                    sel.until, List.of(), sel.filter(), null, rate, dryRun, true, name, model);
        }
    }
}
