package llmq.cli;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import llmq.common.config.Settings;
import llmq.topics.replay.Position;
import llmq.topics.replay.TopicRange;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.UnknownMemberIdException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code llmq reset-offsets --group G --to <time>}: moves a stopped group's committed offsets,
 * after showing what changes and asking (unless {@code --yes}); {@code --dry-run} only shows.
 * Kafka refuses to move the offsets of a group with live members: stop its instances first.
 */
@Command(name = "reset-offsets", mixinStandardHelpOptions = true,
        description = "Move a stopped consumer group's offsets to a time (or earliest/latest/an offset).")
final class ResetOffsetsCommand implements Callable<Integer> {

    @ParentCommand
    LlmqCli root;
    @Spec
    CommandSpec spec;
    @Option(names = "--group", required = true)
    String group;
    @Option(names = "--to", required = true, description = "earliest, latest, an offset, an instant, a date or a time ago")
    String to;
    @Option(names = "--topic", description = "only this topic (default: every topic the group has offsets for)")
    List<String> topics;
    @Option(names = "--dry-run", description = "show the change, make none")
    boolean dryRun;
    @Option(names = "--yes", description = "do not ask for confirmation")
    boolean yes;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        Settings s = root.settings();
        try (Admin admin = root.admin(s)) {
            Map<TopicPartition, OffsetAndMetadata> current = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
            Map<String, Boolean> seen = new HashMap<>();
            current.keySet().forEach(tp -> seen.put(tp.topic(), true));
            if (topics != null) {
                seen.keySet().retainAll(topics);
                topics.forEach(t -> seen.put(t, true));
            }
            if (seen.isEmpty()) {
                spec.commandLine().getErr().println("llmq: group " + group + " has no offsets; name the topics with --topic");
                return 2;
            }
            Map<TopicPartition, OffsetAndMetadata> target = new HashMap<>();
            Position position = Position.parse(to, Instant.now());
            for (String topic : seen.keySet()) {
                TopicRange r = TopicRange.resolve(admin, topic, Set.of(), position, null);
                r.start().forEach((tp, o) -> target.put(tp, new OffsetAndMetadata(o)));
            }
            out.printf("%-44s %12s %12s%n", "partition", "current", "new");
            target.forEach((tp, o) -> {
                OffsetAndMetadata c = current.get(tp);
                out.printf("%-44s %12s %12d%n", tp, c == null ? "-" : Long.toString(c.offset()), o.offset());
            });
            if (dryRun) {
                out.println("dry run: nothing changed");
                return 0;
            }
            if (!yes) {
                out.print("move " + group + " to these offsets? [y/N] ");
                out.flush();
                String answer = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
                if (answer == null || !answer.trim().equalsIgnoreCase("y")) {
                    out.println("nothing changed");
                    return 1;
                }
            }
            ConsumerGroupDescription d = admin.describeConsumerGroups(List.of(group)).describedGroups().get(group).get();
            if (!d.members().isEmpty()) {
                spec.commandLine().getErr().println("llmq: group " + group + " has " + d.members().size()
                        + " live member(s); stop them first (Kafka moves only the offsets of an empty group)");
                return 1;
            }
            try {
                admin.alterConsumerGroupOffsets(group, target).all().get();
            } catch (ExecutionException e) {
                if (e.getCause() instanceof UnknownMemberIdException) {
                    spec.commandLine().getErr().println("llmq: group " + group + " became active; stop it first");
                    return 1;
                }
                throw e;
            }
            out.println("moved " + target.size() + " partition offsets of " + group);
            return 0;
        }
    }
}
